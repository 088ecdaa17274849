// Package source defines where the adapter's metric values come from: the
// embedded scraper (default) or Prometheus. The provider reads values from a
// Source; it never talks to Redis on the request path.
package source

import (
	"context"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// Metric names served by the adapter, per pod and per object.
const (
	OpsPerSecond     = "redis_ops_per_second"
	MemoryFraction   = "redis_memory_fraction"
	ResponseTime     = "redis_response_time_seconds"
	ConnectedClients = "redis_connected_clients"
	ReplicationLag   = "redis_replication_lag_seconds"
)

// Names lists every metric the adapter serves.
var Names = []string{OpsPerSecond, MemoryFraction, ResponseTime, ConnectedClients, ReplicationLag}

// Value is one pod's value of a metric.
type Value struct {
	Value float64
	// Timestamp is when the value was measured (the newest sample used).
	Timestamp time.Time
	// Window is the span the value summarises (0 for an instant value).
	Window time.Duration
}

// Source returns current values for pods. A pod without a fresh value is
// absent from the result (the HPA then treats it as missing, the safe
// direction); an error means the whole source failed.
type Source interface {
	PodValues(ctx context.Context, metric string, pods []*corev1.Pod) (map[string]Value, error)
}

// Aligned is implemented by a source that can answer in the pods' order
// without building a map (the embedded source): values[i] is pods[i]'s,
// and a zero Timestamp means the pod has no fresh value. The provider
// prefers it on the HPA's request path, where the map was a quarter of
// the provider's time at 500 pods.
type Aligned interface {
	PodValuesAligned(ctx context.Context, metric string, pods []*corev1.Pod, values []Value) error
}
