package discovery

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/redis-autoscaler/redis-autoscaler/exporter/collector"
	"github.com/redis-autoscaler/redis-autoscaler/exporter/engine"
	"github.com/redis-autoscaler/redis-autoscaler/test/redistest"
)

// Discovered pods are scraped on their IP and port, and every metric carries
// their namespace and pod. (The real control plane covers this again in
// cluster_test.go; the fake API server keeps this test fast.)
func TestDiscoveredPodsAreScrapedWithLabels(t *testing.T) {
	srv := redistest.Start(t)
	api, cfg := newFakeAPI(t)
	api.put("redis-0", "Running", "127.0.0.1", srv.Port)
	<-api.events
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pods, err := NewForConfig(cfg, Options{Namespace: "cache", Selector: "app=redis"})
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
	api.remove("redis-0")
	require.Eventually(t, func() bool { return len(pods.Targets()) == 0 }, 5*time.Second, 10*time.Millisecond)
	mfs, err = reg.Gather()
	require.NoError(t, err)
	for _, mf := range mfs {
		assert.False(t, strings.HasPrefix(mf.GetName(), "redis_up"), "no series for a deleted pod")
	}
	assert.Equal(t, 0, pool.Len())
}
