package cluster_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/redis-autoscaler/redis-autoscaler/test/cluster"
)

// A StatefulSet of 3 Redis pods becomes 3 Ready pods, each a real
// redis-server on its own pod IP honouring the container's args; scaling
// to 1 stops two processes and the pods go away.
func TestStatefulSetScaleUpAndDown(t *testing.T) {
	c, ns, ctx := sharedNamespace(t, "sts", 2*time.Minute)

	sts := redisStatefulSet("cache", 3, false, "--maxmemory", "64mb", "--maxmemory-policy", "allkeys-lru")
	pods := createReady(t, c, ns, sts, 60*time.Second)
	ips := map[string]bool{}
	pids := map[string]int{}
	for i := range pods {
		p := &pods[i]
		require.Equal(t, cluster.HostIP, p.Status.HostIP)
		require.False(t, ips[p.Status.PodIP], "pod IPs must be distinct")
		ips[p.Status.PodIP] = true
		require.Len(t, p.Status.ContainerStatuses, 1)
		cs := p.Status.ContainerStatuses[0]
		require.True(t, cs.Ready)
		require.NotNil(t, cs.State.Running)
		require.NotNil(t, cs.Started)
		require.True(t, *cs.Started)

		rc := redisClient(t, p)
		require.NoError(t, rc.Set(ctx, "pod", p.Name, 0).Err())
		require.Equal(t, p.Name, rc.Get(ctx, "pod").Val())
		mm, err := rc.ConfigGet(ctx, "maxmemory").Result()
		require.NoError(t, err)
		require.Equal(t, "67108864", mm["maxmemory"], "args reach redis-server")

		pid, ok := c.Runner.ContainerPID(ns, p.Name, "redis")
		require.True(t, ok)
		pids[p.Name] = pid
	}

	_, err := c.Client.AppsV1().StatefulSets(ns).Patch(ctx, sts.Name, "application/merge-patch+json",
		[]byte(`{"spec":{"replicas":1}}`), metav1.PatchOptions{})
	require.NoError(t, err)

	for _, gone := range []string{podName(sts.Name, 1), podName(sts.Name, 2)} {
		require.Eventually(t, func() bool {
			_, err := c.Client.CoreV1().Pods(ns).Get(context.Background(), gone, metav1.GetOptions{})
			return apierrors.IsNotFound(err)
		}, 30*time.Second, 200*time.Millisecond, "pod %s deleted", gone)
		require.False(t, cluster.ProcessAlive(pids[gone]), "redis of %s stopped", gone)
	}
	require.True(t, cluster.ProcessAlive(pids[podName(sts.Name, 0)]), "redis of the remaining pod keeps running")
	readyPods(t, c.Client, ns, sts.Spec.Selector.MatchLabels, 1, 10*time.Second)
}
