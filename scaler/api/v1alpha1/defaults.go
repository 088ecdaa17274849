package v1alpha1

import "time"

// Defaults the API server applies; repeated here so a group read from a
// fake or an old object behaves the same.
const (
	DefaultPort               = 6379
	DefaultMaxConcurrentSyncs = 1
	DefaultWritePauseTimeout  = 2 * time.Second
	DefaultMaxLagBytes        = 1 << 20
	DefaultClusterDomain      = "cluster.local"
)

// RedisPort is the spec's port or the default.
func (s *RedisReplicationGroupSpec) RedisPort() int {
	if s.Port > 0 {
		return int(s.Port)
	}
	return DefaultPort
}

// SyncLimit is the most replicas allowed in initial sync at once.
func (s *RedisReplicationGroupSpec) SyncLimit() int {
	if s.MaxConcurrentSyncs > 0 {
		return int(s.MaxConcurrentSyncs)
	}
	return DefaultMaxConcurrentSyncs
}

// PauseTimeout is the switchover's write pause bound.
func (s *RedisReplicationGroupSpec) PauseTimeout() time.Duration {
	if s.Switchover.WritePauseTimeout != nil && s.Switchover.WritePauseTimeout.Duration > 0 {
		return s.Switchover.WritePauseTimeout.Duration
	}
	return DefaultWritePauseTimeout
}

// LagLimit is the largest lag, in bytes, of a switchover candidate.
func (s *RedisReplicationGroupSpec) LagLimit() int64 {
	if s.Switchover.MaxLagBytes != nil {
		return *s.Switchover.MaxLagBytes
	}
	return DefaultMaxLagBytes
}

// Domain is the cluster DNS domain.
func (s *RedisReplicationGroupSpec) Domain() string {
	if s.ClusterDomain != "" {
		return s.ClusterDomain
	}
	return DefaultClusterDomain
}

// Floor is the smallest replica count allowed: minReplicas, never below 1.
func (s *RedisReplicationGroupSpec) Floor() int32 {
	return max(s.MinReplicas, 1)
}

// Defaults of a RedisCluster.
const (
	DefaultReplicasPerShard        = 1
	DefaultMaxConcurrentMigrations = 4
	DefaultKeysPerBatch            = 100
)

// RedisPort is the spec's port or the default.
func (s *RedisClusterSpec) RedisPort() int {
	if s.Port > 0 {
		return int(s.Port)
	}
	return DefaultPort
}

// PerShard is replicas per shard.
func (s *RedisClusterSpec) PerShard() int {
	if s.ReplicasPerShard != nil {
		return int(*s.ReplicasPerShard)
	}
	return DefaultReplicasPerShard
}

// WantShards is the shard count to reach: spec.shards, never below
// minShards or 1; with spec.shards unset, what the StatefulSet's
// pods hold (current pods / pods per shard), at least the floor.
func (s *RedisClusterSpec) WantShards(stsReplicas int32) int {
	floor := max(int(s.MinShards), 1)
	if s.Shards != nil {
		return max(int(*s.Shards), floor)
	}
	return max(int(stsReplicas)/(1+s.PerShard()), floor)
}

// Concurrency is the most slots migrating at once.
func (s *RedisClusterSpec) Concurrency() int {
	if s.Migration.MaxConcurrent > 0 {
		return int(s.Migration.MaxConcurrent)
	}
	return DefaultMaxConcurrentMigrations
}

// Batch is keys per MIGRATE.
func (s *RedisClusterSpec) Batch() int {
	if s.Migration.KeysPerBatch > 0 {
		return int(s.Migration.KeysPerBatch)
	}
	return DefaultKeysPerBatch
}

// ReplicaWait is how many of the destination's replicas must hold each
// migrated batch: spec.migration.waitReplicas, by default 1 when shards
// have replicas.
func (s *RedisClusterSpec) ReplicaWait() int {
	if s.Migration.WaitReplicas != nil {
		return min(int(*s.Migration.WaitReplicas), s.PerShard())
	}
	return min(1, s.PerShard())
}

// MaxConcurrentMigrations is the schema's bound on migration.maxConcurrent.
const MaxConcurrentMigrations = 64
