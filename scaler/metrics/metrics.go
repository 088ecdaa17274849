// Package metrics holds the scaler's own Prometheus metrics, served on its
// /metrics next to controller-runtime's. Labels never carry a password.
package metrics

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics of the scaler.
type Metrics struct {
	// Reconciles by result: ok, requeue, error.
	Reconciles *prometheus.CounterVec
	// ReconcileSeconds: duration of one reconcile (Redis observation included).
	ReconcileSeconds prometheus.Histogram
	// Switchovers by result: ok, aborted, error.
	Switchovers *prometheus.CounterVec
	// WritePauseSeconds: how long a switchover paused the master's writes.
	WritePauseSeconds prometheus.Histogram
	// AttachSeconds: from a new pod's Redis container start to the replica
	// attached and in sync.
	AttachSeconds prometheus.Histogram
	// Commands that change topology, by command.
	Commands *prometheus.CounterVec
	// Errors by stage.
	Errors *prometheus.CounterVec
}

// New creates the metrics and registers them with reg. Registering twice
// with the same registry (a scaler restarted in one process) reuses the
// collectors already there.
func New(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		Reconciles: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "redis_autoscaler_scaler_reconciles_total", Help: "Reconciles of RedisReplicationGroups by result (ok, requeue, error).",
		}, []string{"result"}),
		ReconcileSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "redis_autoscaler_scaler_reconcile_duration_seconds", Help: "Duration of one reconcile, Redis observation included.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 14),
		}),
		Switchovers: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "redis_autoscaler_scaler_switchovers_total", Help: "Planned master switchovers by result (ok, aborted, error).",
		}, []string{"result"}),
		WritePauseSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "redis_autoscaler_scaler_switchover_write_pause_seconds", Help: "How long a switchover paused writes on the master.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14),
		}),
		AttachSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "redis_autoscaler_scaler_attach_duration_seconds", Help: "From a new pod's Redis start to the replica attached and in sync.",
			Buckets: prometheus.ExponentialBuckets(0.05, 2, 12),
		}),
		Commands: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "redis_autoscaler_scaler_topology_commands_total", Help: "Redis commands sent that change the topology, by command.",
		}, []string{"command"}),
		Errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "redis_autoscaler_scaler_errors_total", Help: "Errors by stage of the reconcile.",
		}, []string{"stage"}),
	}
	m.Reconciles = register(reg, m.Reconciles)
	m.ReconcileSeconds = register(reg, m.ReconcileSeconds)
	m.Switchovers = register(reg, m.Switchovers)
	m.WritePauseSeconds = register(reg, m.WritePauseSeconds)
	m.AttachSeconds = register(reg, m.AttachSeconds)
	m.Commands = register(reg, m.Commands)
	m.Errors = register(reg, m.Errors)
	return m
}

func register[C prometheus.Collector](reg prometheus.Registerer, c C) C {
	if reg == nil {
		return c
	}
	if err := reg.Register(c); err != nil {
		var already prometheus.AlreadyRegisteredError
		if errors.As(err, &already) {
			if existing, ok := already.ExistingCollector.(C); ok {
				return existing
			}
		}
		panic(err)
	}
	return c
}
