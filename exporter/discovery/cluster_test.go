package discovery

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"

	"github.com/redis-autoscaler/redis-autoscaler/exporter/collector"
	"github.com/redis-autoscaler/redis-autoscaler/exporter/engine"
	"github.com/redis-autoscaler/redis-autoscaler/test/cluster"
)

func TestMain(m *testing.M) { cluster.Main(m) }

// In the real control plane: the exporter's discovery follows a Redis
// StatefulSet as it scales, and every pod is scraped on its pod IP.
func TestDiscoveryInRealCluster(t *testing.T) {
	c := cluster.Shared(t)
	ns := c.Namespace(t, "discovery")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	sts := cluster.RedisStatefulSet("cache", 2)
	_, err := c.Client.AppsV1().StatefulSets(ns).Create(ctx, sts, metav1.CreateOptions{})
	require.NoError(t, err)

	// The admin kubeconfig: server, CA and client certificate inline.
	kc, err := LoadKubeconfig(c.KubeconfigPath)
	require.NoError(t, err)
	pods, err := NewForConfig(kc, Options{Namespace: ns, Selector: "app=cache"})
	require.NoError(t, err)
	require.NoError(t, pods.Start(ctx))
	pool := engine.NewPool(nil, time.Second)
	defer pool.Close()
	col := collector.New(pods.Targets, pool, collector.Options{KubernetesLabels: true})

	up := func() map[string]bool {
		out := map[string]bool{}
		for _, r := range col.Scrape(ctx).Results {
			out[r.Target.Pod] = r.Err == nil
		}
		return out
	}
	require.Eventually(t, func() bool {
		u := up()
		return len(u) == 2 && u["cache-0"] && u["cache-1"]
	}, time.Minute, 250*time.Millisecond, "both pods discovered and scraped")

	// The StatefulSet controller writes status concurrently: retry on a
	// conflict, as kubectl scale does.
	require.NoError(t, retry.RetryOnConflict(retry.DefaultRetry, func() error {
		scale, err := c.Client.AppsV1().StatefulSets(ns).GetScale(ctx, "cache", metav1.GetOptions{})
		if err != nil {
			return err
		}
		scale.Spec.Replicas = 1
		_, err = c.Client.AppsV1().StatefulSets(ns).UpdateScale(ctx, "cache", scale, metav1.UpdateOptions{})
		return err
	}))
	require.Eventually(t, func() bool {
		u := up()
		return len(u) == 1 && u["cache-0"]
	}, time.Minute, 250*time.Millisecond, "the removed pod is dropped")
	assert.Equal(t, 1, pool.Len(), "its connection closed")

	// A selector the API server rejects fails Start with its reason.
	bad, err := NewForConfig(kc, Options{Namespace: ns, Selector: "app in (("})
	require.NoError(t, err)
	err = bad.Start(ctx)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "kubernetes selector")
}
