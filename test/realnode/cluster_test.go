package realnode_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"

	"github.com/redis-autoscaler/redis-autoscaler/test/cluster"
	"github.com/redis-autoscaler/redis-autoscaler/test/e2e"
	"github.com/redis-autoscaler/redis-autoscaler/test/redistest"
)

// TestClusterOnRealNode: the example Redis Cluster bootstraps on pod IPs
// of the CNI bridge and reshards 3 -> 4 -> 3 -> 2 shards under a cluster
// client writing with WAIT 1 (3 -> 4 -> 3, the example's minShards, then
// minShards lowered and 2): every acknowledged key is readable at the end
// and the cluster is ok. One node: the example's required
// anti-affinity is dropped and its CPU requests lowered (SingleNode).
func TestClusterOnRealNode(t *testing.T) {
	c := cluster.StartReal(t)
	ctx, cancel := context.WithTimeout(context.Background(), 12*time.Minute)
	defer cancel()
	env, err := e2e.Install(ctx, c, e2e.Options{Replicas: 2, MinReplicas: 2, MaxReplicas: 2, SingleNode: true, Progress: t.Logf})
	require.NoError(t, err)
	start := time.Now()
	require.NoError(t, env.InstallCluster(ctx))
	t.Logf("example cluster formed with 3 shards in %v", time.Since(start).Round(100*time.Millisecond))

	pods, err := c.Client.CoreV1().Pods(e2e.Namespace).List(ctx, metav1.ListOptions{LabelSelector: "app=" + e2e.RCluster})
	require.NoError(t, err)
	var seeds []string
	for _, p := range pods.Items {
		require.True(t, strings.HasPrefix(p.Status.PodIP, "10.251.0."), p.Status.PodIP)
		seeds = append(seeds, p.Status.PodIP+":6379")
	}
	opts := &redis.ClusterOptions{Addrs: seeds, Password: env.Password, MaxRetries: -1, DialTimeout: time.Second}
	w := redistest.StartClusterWriter(opts, "rc:", time.Second)
	require.Eventually(t, func() bool { return w.Count() > 100 }, 30*time.Second, 10*time.Millisecond)
	for _, n := range []int64{4, 3, 2} {
		begin := time.Now()
		if n == 2 {
			// Below the example's floor: first lower minShards, as a
			// user who wants two shards would.
			_, err := env.Dyn.Resource(clusterGVR).Namespace(e2e.Namespace).Patch(ctx, e2e.RCluster, types.MergePatchType,
				[]byte(`{"spec":{"minShards":2}}`), metav1.PatchOptions{})
			require.NoError(t, err)
		}
		require.NoError(t, env.ScaleShards(ctx, int32(n)))
		require.NoError(t, env.WaitShards(ctx, n, 5*time.Minute))
		t.Logf("resharded to %d shards in %v; %d writes acknowledged so far", n, time.Since(begin).Round(100*time.Millisecond), w.Count())
	}
	acked, nacked, errs := w.Finish()
	moved, asked, refused := w.Redirections()
	t.Logf("cluster writer: %d acknowledged, %d not acknowledged by a replica in time, %d errors; MOVED %d, ASK %d, refused %d", len(acked), nacked, len(errs), moved, asked, refused)
	assert.Empty(t, errs, "the client saw errors other than redirections")

	pods, err = c.Client.CoreV1().Pods(e2e.Namespace).List(ctx, metav1.ListOptions{LabelSelector: "app=" + e2e.RCluster})
	require.NoError(t, err)
	seeds = seeds[:0]
	for _, p := range pods.Items {
		if p.DeletionTimestamp == nil {
			seeds = append(seeds, p.Status.PodIP+":6379")
		}
	}
	rc := redis.NewClusterClient(&redis.ClusterOptions{Addrs: seeds, Password: env.Password})
	defer rc.Close()
	info, err := rc.ClusterInfo(ctx).Result()
	require.NoError(t, err)
	assert.Contains(t, info, "cluster_state:ok")
	missing := 0
	for _, k := range acked {
		if n, err := rc.Exists(ctx, k).Result(); err != nil || n != 1 {
			missing++
		}
	}
	assert.Zero(t, missing, "acknowledged keys missing after 3 -> 4 -> 3 -> 2")
}

var clusterGVR = schema.GroupVersionResource{Group: "redisautoscaler.io", Version: "v1alpha1", Resource: "redisclusters"}
