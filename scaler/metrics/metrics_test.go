package metrics

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLint(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := New(reg)
	m.Reconciles.WithLabelValues("ok").Inc()
	m.Switchovers.WithLabelValues("cache", "redis", "ok").Inc()
	m.ScaleEvents.WithLabelValues("cache", "redis", "up").Inc()
	m.Commands.WithLabelValues("replicaof").Inc()
	m.Errors.WithLabelValues("observe").Inc()
	m.WritePauseSeconds.WithLabelValues("cache", "redis").Observe(0.002)
	m.AttachSeconds.WithLabelValues("cache", "redis").Observe(0.8)
	m.ReconcileSeconds.Observe(0.008)
	problems, err := testutil.GatherAndLint(reg)
	require.NoError(t, err)
	assert.Empty(t, problems)
}

// A deleted group's series go; the other groups' stay.
func TestForgetGroup(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := New(reg)
	for _, g := range []string{"a", "b"} {
		m.Switchovers.WithLabelValues("cache", g, "ok").Inc()
		m.WritePauseSeconds.WithLabelValues("cache", g).Observe(0.002)
		m.AttachSeconds.WithLabelValues("cache", g).Observe(0.8)
		m.ScaleEvents.WithLabelValues("cache", g, "down").Inc()
	}
	m.ForgetGroup("cache", "a")
	for _, c := range []prometheus.Collector{m.Switchovers, m.WritePauseSeconds, m.AttachSeconds, m.ScaleEvents} {
		assert.Equal(t, 1, testutil.CollectAndCount(c), "only group b is left")
	}
}

// A group's series exist at zero before anything happened to it.
func TestInitGroup(t *testing.T) {
	m := New(prometheus.NewRegistry())
	m.InitGroup("cache", "redis")
	m.InitGroup("cache", "redis") // every reconcile calls it
	assert.Equal(t, 3, testutil.CollectAndCount(m.Switchovers))
	assert.Equal(t, 2, testutil.CollectAndCount(m.ScaleEvents))
	assert.Equal(t, 1, testutil.CollectAndCount(m.WritePauseSeconds))
	assert.Equal(t, 1, testutil.CollectAndCount(m.AttachSeconds))
	assert.Zero(t, testutil.ToFloat64(m.Switchovers.WithLabelValues("cache", "redis", "ok")))
}

// SetShards replaces a cluster's per-shard series: a shard that went (4 ->
// 3) leaves no stale series behind, another cluster's stay, and a shard
// without its wanted replica reads in_sync 0 beside wanted 1.
func TestSetShards(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := NewCluster(reg)
	four := []Shard{{Slots: 4096, InSync: 1, Wanted: 1}, {Slots: 4096, InSync: 1, Wanted: 1}, {Slots: 4096, InSync: 1, Wanted: 1}, {Slots: 4096, InSync: 1, Wanted: 1}}
	m.SetShards("redis", "orders", four)
	m.SetShards("redis", "other", four[:1])
	m.SetShards("redis", "orders", []Shard{{Slots: 5462, InSync: 0, Wanted: 1}, {Slots: 5461, InSync: 1, Wanted: 1}, {Slots: 5461, InSync: 1, Wanted: 1}})
	require.NoError(t, testutil.GatherAndCompare(reg, strings.NewReader(`
# HELP redis_autoscaler_cluster_shard_replicas Replicas of each shard's master: in sync, and wanted (spec.replicasPerShard).
# TYPE redis_autoscaler_cluster_shard_replicas gauge
redis_autoscaler_cluster_shard_replicas{namespace="redis",rediscluster="orders",shard="0",state="in_sync"} 0
redis_autoscaler_cluster_shard_replicas{namespace="redis",rediscluster="orders",shard="0",state="wanted"} 1
redis_autoscaler_cluster_shard_replicas{namespace="redis",rediscluster="orders",shard="1",state="in_sync"} 1
redis_autoscaler_cluster_shard_replicas{namespace="redis",rediscluster="orders",shard="1",state="wanted"} 1
redis_autoscaler_cluster_shard_replicas{namespace="redis",rediscluster="orders",shard="2",state="in_sync"} 1
redis_autoscaler_cluster_shard_replicas{namespace="redis",rediscluster="orders",shard="2",state="wanted"} 1
redis_autoscaler_cluster_shard_replicas{namespace="redis",rediscluster="other",shard="0",state="in_sync"} 1
redis_autoscaler_cluster_shard_replicas{namespace="redis",rediscluster="other",shard="0",state="wanted"} 1
# HELP redis_autoscaler_cluster_slots Hash slots each shard's master owns.
# TYPE redis_autoscaler_cluster_slots gauge
redis_autoscaler_cluster_slots{namespace="redis",rediscluster="orders",shard="0"} 5462
redis_autoscaler_cluster_slots{namespace="redis",rediscluster="orders",shard="1"} 5461
redis_autoscaler_cluster_slots{namespace="redis",rediscluster="orders",shard="2"} 5461
redis_autoscaler_cluster_slots{namespace="redis",rediscluster="other",shard="0"} 4096
`), "redis_autoscaler_cluster_shard_replicas", "redis_autoscaler_cluster_slots"))
	problems, err := testutil.GatherAndLint(reg)
	require.NoError(t, err)
	assert.Empty(t, problems)
}
