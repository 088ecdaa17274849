package cluster_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/redis-autoscaler/redis-autoscaler/test/cluster"
)

// A pod being deleted runs its preStop sleep before SIGTERM, as a kubelet
// does: Redis keeps answering for that long (the scaler switches a master
// over in this window), then stops within the grace period.
func TestPreStopSleepDelaysSIGTERM(t *testing.T) {
	c, ns, ctx := sharedNamespace(t, "prestop", time.Minute)
	sts := redisStatefulSet("hook", 1, false)
	sts.Spec.Template.Spec.TerminationGracePeriodSeconds = ptr.To(int64(10))
	sts.Spec.Template.Spec.Containers[0].Lifecycle = &corev1.Lifecycle{PreStop: &corev1.LifecycleHandler{Sleep: &corev1.SleepAction{Seconds: 2}}}
	pod := createReady(t, c, ns, sts, 30*time.Second)[0]
	pid, ok := c.Runner.ContainerPID(ns, pod.Name, "redis")
	require.True(t, ok)
	rc := redisClient(t, &pod)

	deleted := time.Now()
	require.NoError(t, c.Client.CoreV1().Pods(ns).Delete(ctx, pod.Name, metav1.DeleteOptions{}))
	time.Sleep(time.Second)
	require.NoError(t, rc.Ping(ctx).Err(), "Redis answers during the preStop sleep")
	require.True(t, cluster.ProcessAlive(pid))
	require.Eventually(t, func() bool { return !cluster.ProcessAlive(pid) }, 15*time.Second, 20*time.Millisecond)
	stopped := time.Since(deleted)
	assert.GreaterOrEqual(t, stopped, 2*time.Second, "SIGTERM only after the hook")
	assert.Less(t, stopped, 10*time.Second, "within the grace period")
	t.Logf("deleted pod's Redis stopped %v after the delete (preStop sleep 2s)", stopped.Round(time.Millisecond))
}
