package cluster_test

import (
	"context"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/redis-autoscaler/redis-autoscaler/test/cluster"
)

// killRedis SIGKILLs a pod's redis-server and waits until the runner has
// restarted it (restartCount bumped, Ready again). It returns the new pod.
func killRedis(t *testing.T, c *cluster.Cluster, ns, pod string) *corev1.Pod {
	t.Helper()
	pid, ok := c.Runner.ContainerPID(ns, pod, "redis")
	require.True(t, ok)
	require.NoError(t, syscall.Kill(pid, syscall.SIGKILL))
	var p *corev1.Pod
	require.EventuallyWithT(t, func(ct *assert.CollectT) {
		p = getPod(t, c, ns, pod)
		require.Len(ct, p.Status.ContainerStatuses, 1)
		cs := p.Status.ContainerStatuses[0]
		require.EqualValues(ct, 1, cs.RestartCount)
		require.True(ct, cluster.PodReady(p))
		require.NotNil(ct, cs.LastTerminationState.Terminated)
		require.EqualValues(ct, 128+int(syscall.SIGKILL), cs.LastTerminationState.Terminated.ExitCode)
	}, 30*time.Second, 200*time.Millisecond)
	newPID, ok := c.Runner.ContainerPID(ns, pod, "redis")
	require.True(t, ok)
	require.NotEqual(t, pid, newPID)
	require.False(t, cluster.ProcessAlive(pid))
	return p
}

// Without a volume a crashed Redis comes back empty: the data-loss case a
// scaler must survive.
func TestRestartWithoutVolumeLosesData(t *testing.T) {
	c, ns, ctx := sharedNamespace(t, "restart", time.Minute)

	sts := redisStatefulSet("ephemeral", 1, false, "--appendonly", "yes")
	pod := createReady(t, c, ns, sts, 30*time.Second)[0]
	require.NoError(t, redisClient(t, &pod).Set(ctx, "k", "v", 0).Err())

	p := killRedis(t, c, ns, pod.Name)
	require.Equal(t, pod.Status.PodIP, p.Status.PodIP, "a restart keeps the pod IP")
	n, err := redisClient(t, p).DBSize(ctx).Result()
	require.NoError(t, err)
	require.Zero(t, n, "a restarted container without a volume starts empty")
}

// With a PVC (volumeClaimTemplates) and AOF on, data survives a crash and
// the re-creation of the pod under the same name.
func TestRestartWithPVCKeepsData(t *testing.T) {
	c, ns, ctx := sharedNamespace(t, "pvc", 2*time.Minute)

	sts := redisStatefulSet("durable", 1, true, "--appendonly", "yes")
	pod := createReady(t, c, ns, sts, 30*time.Second)[0]
	require.NoError(t, redisClient(t, &pod).Set(ctx, "k", "v", 0).Err())

	p := killRedis(t, c, ns, pod.Name)
	require.Equal(t, "v", redisClient(t, p).Get(ctx, "k").Val(), "AOF on the PVC survives a crash")

	// Deleting the pod: the StatefulSet re-creates it (new UID, new IP)
	// with the same claim, hence the same data.
	require.NoError(t, c.Client.CoreV1().Pods(ns).Delete(ctx, pod.Name, metav1.DeleteOptions{}))
	var again corev1.Pod
	require.EventuallyWithT(t, func(ct *assert.CollectT) {
		np, err := c.Client.CoreV1().Pods(ns).Get(context.Background(), pod.Name, metav1.GetOptions{})
		require.NoError(ct, err)
		require.NotEqual(ct, pod.UID, np.UID)
		require.True(ct, cluster.PodReady(np))
		again = *np
	}, 30*time.Second, 200*time.Millisecond)
	require.EqualValues(t, 0, again.Status.ContainerStatuses[0].RestartCount)
	require.Equal(t, "v", redisClient(t, &again).Get(ctx, "k").Val(), "a re-created pod finds its claim's data")
}
