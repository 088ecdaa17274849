package cluster_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/redis-autoscaler/redis-autoscaler/test/cluster"
)

// Stop leaves no process behind: control plane and pod processes alike.
// This test runs its own cluster, since stopping the shared one would end
// the other tests.
func TestStopKillsEverything(t *testing.T) {
	t.Parallel()
	c := cluster.Start(t)
	ctx := ctxT(t, time.Minute)

	sts := redisStatefulSet("victim", 2, false)
	_, err := c.Client.AppsV1().StatefulSets("default").Create(ctx, sts, metav1.CreateOptions{})
	require.NoError(t, err)
	readyPods(t, c.Client, "default", sts.Spec.Selector.MatchLabels, 2, 30*time.Second)

	pids := c.PIDs()
	require.Len(t, pids, 3+2, "etcd, kube-apiserver, kube-controller-manager and two redis-server")
	for _, pid := range pids {
		require.True(t, cluster.ProcessAlive(pid), "pid %d", pid)
	}
	dir := c.Dir
	c.Stop()
	for _, pid := range pids {
		require.False(t, cluster.ProcessAlive(pid), "pid %d survived Stop", pid)
	}
	require.NoDirExists(t, dir)
	c.Stop() // idempotent
}
