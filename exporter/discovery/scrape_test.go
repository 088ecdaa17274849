package discovery

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/redis-autoscaler/redis-autoscaler/exporter/collector"
	"github.com/redis-autoscaler/redis-autoscaler/exporter/engine"
	"github.com/redis-autoscaler/redis-autoscaler/test/redistest"
)

// Discovered pods are scraped on their IP and port, and every metric carries
// their namespace and pod. (The real control plane covers this again in
// test/cluster; the fake clientset keeps this test fast.)
func TestDiscoveredPodsAreScrapedWithLabels(t *testing.T) {
	srv := redistest.Start(t)
	p := pod("redis-0", corev1.PodRunning, "127.0.0.1", corev1.ContainerPort{Name: "redis", ContainerPort: int32(srv.Port)})
	client := fake.NewClientset(p)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	opts := Options{Namespace: "cache", Selector: "app=redis"}
	pods, err := New(listWatch(client, opts), opts)
	require.NoError(t, err)
	require.NoError(t, pods.Start(ctx))

	pool := engine.NewPool(nil, time.Second)
	defer pool.Close()
	c := collector.New(pods.Targets, pool, collector.Options{KubernetesLabels: true})
	reg := prometheus.NewPedanticRegistry()
	require.NoError(t, reg.Register(c))
	mfs, err := reg.Gather()
	require.NoError(t, err)
	require.NotEmpty(t, mfs)
	up := false
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			assert.Equal(t, "cache", labels["namespace"], mf.GetName())
			assert.Equal(t, "redis-0", labels["pod"], mf.GetName())
			if mf.GetName() == "redis_up" {
				up = m.GetGauge().GetValue() == 1
			}
		}
	}
	assert.True(t, up, "discovered pod scraped")

	// The pod goes away: its series and its connection go with it.
	require.NoError(t, client.CoreV1().Pods("cache").Delete(ctx, "redis-0", metav1.DeleteOptions{}))
	require.Eventually(t, func() bool { return len(pods.Targets()) == 0 }, 5*time.Second, 10*time.Millisecond)
	mfs, err = reg.Gather()
	require.NoError(t, err)
	for _, mf := range mfs {
		assert.False(t, strings.HasPrefix(mf.GetName(), "redis_up"), "no series for a deleted pod")
	}
	assert.Equal(t, 0, pool.Len())
}
