package metrics

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
)

// Cluster metrics: what the RedisCluster reconciler moved and how its
// shards stand, by namespace and rediscluster (not "cluster": that label
// names the Kubernetes cluster in multi-cluster Prometheus setups).
type Cluster struct {
	// SlotsMoved, KeysMoved, BytesMoved (the keys' MEMORY USAGE on the
	// source) count resharding work.
	SlotsMoved, KeysMoved, BytesMoved *prometheus.CounterVec
	// SlotMigrationSeconds: one slot's move, keys and ownership.
	SlotMigrationSeconds *prometheus.HistogramVec
	// Slots per shard (label shard: the shard index).
	Slots *prometheus.GaugeVec
	// ShardReplicas per shard: state "in_sync" (replicas of the shard's
	// master that are attached and caught up) and "wanted"
	// (spec.replicasPerShard), so an alert can see a shard whose data has
	// a single copy.
	ShardReplicas *prometheus.GaugeVec
	// MigrationsPending: slots the plan still has to move; MigrationsInProgress: moving now.
	MigrationsPending, MigrationsInProgress *prometheus.GaugeVec
	// Shards that own slots, and the wanted number.
	Shards, DesiredShards *prometheus.GaugeVec
}

var clusterLabels = []string{"namespace", "rediscluster"}

// NewCluster creates the cluster metrics and registers them with reg.
func NewCluster(reg prometheus.Registerer) *Cluster {
	counter := func(name, help string) *prometheus.CounterVec {
		return register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, clusterLabels))
	}
	gauge := func(name, help string, labels ...string) *prometheus.GaugeVec {
		return register(reg, prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: name, Help: help}, append(clusterLabels[:2:2], labels...)))
	}
	return &Cluster{
		SlotsMoved: counter("redis_autoscaler_cluster_slots_moved_total", "Hash slots the scaler migrated between shards."),
		KeysMoved:  counter("redis_autoscaler_cluster_keys_moved_total", "Keys the scaler migrated between shards."),
		BytesMoved: counter("redis_autoscaler_cluster_bytes_moved_total", "Bytes of the keys migrated between shards (their MEMORY USAGE on the source)."),
		SlotMigrationSeconds: register(reg, prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "redis_autoscaler_cluster_slot_migration_duration_seconds", Help: "Duration of one slot's migration: its keys and the ownership change on every master.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 16),
		}, clusterLabels)),
		Slots:                gauge("redis_autoscaler_cluster_slots", "Hash slots each shard's master owns.", "shard"),
		ShardReplicas:        gauge("redis_autoscaler_cluster_shard_replicas", "Replicas of each shard's master: in sync, and wanted (spec.replicasPerShard).", "shard", "state"),
		MigrationsPending:    gauge("redis_autoscaler_cluster_migrations_pending", "Slots the resharding plan still has to move."),
		MigrationsInProgress: gauge("redis_autoscaler_cluster_migrations_in_progress", "Slots migrating right now."),
		Shards:               gauge("redis_autoscaler_cluster_shards", "Masters that own slots."),
		DesiredShards:        gauge("redis_autoscaler_cluster_desired_shards", "Shards wanted (spec.shards, at least minShards)."),
	}
}

// Init creates a cluster's counters at zero (see InitGroup).
func (m *Cluster) Init(namespace, cluster string) {
	for _, c := range []*prometheus.CounterVec{m.SlotsMoved, m.KeysMoved, m.BytesMoved} {
		c.WithLabelValues(namespace, cluster)
	}
	m.SlotMigrationSeconds.WithLabelValues(namespace, cluster)
}

// Shard is what the per-shard gauges say of one shard.
type Shard struct {
	// Slots the shard's master owns.
	Slots int
	// InSync replicas of its master; Wanted replicas per shard.
	InSync, Wanted int
}

// SetShards replaces the per-shard gauges (shards removed go).
func (m *Cluster) SetShards(namespace, cluster string, shards []Shard) {
	l := prometheus.Labels{"namespace": namespace, "rediscluster": cluster}
	m.Slots.DeletePartialMatch(l)
	m.ShardReplicas.DeletePartialMatch(l)
	for i, sh := range shards {
		k := strconv.Itoa(i)
		m.Slots.WithLabelValues(namespace, cluster, k).Set(float64(sh.Slots))
		m.ShardReplicas.WithLabelValues(namespace, cluster, k, "in_sync").Set(float64(sh.InSync))
		m.ShardReplicas.WithLabelValues(namespace, cluster, k, "wanted").Set(float64(sh.Wanted))
	}
}

// Forget drops a deleted cluster's series.
func (m *Cluster) Forget(namespace, cluster string) {
	l := prometheus.Labels{"namespace": namespace, "rediscluster": cluster}
	for _, c := range []*prometheus.CounterVec{m.SlotsMoved, m.KeysMoved, m.BytesMoved} {
		c.DeletePartialMatch(l)
	}
	m.SlotMigrationSeconds.DeletePartialMatch(l)
	for _, g := range []*prometheus.GaugeVec{m.Slots, m.ShardReplicas, m.MigrationsPending, m.MigrationsInProgress, m.Shards, m.DesiredShards} {
		g.DeletePartialMatch(l)
	}
}
