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
