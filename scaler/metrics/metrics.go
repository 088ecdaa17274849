// Package metrics holds the scaler's own Prometheus metrics, on a registry
// of each scaler's own (client_golang's pattern: no global state, so
// several scalers in one process never see each other's series), served
// on its /metrics next to controller-runtime's. Labels never carry a
// password.
package metrics

import (
	"github.com/prometheus/client_golang/prometheus"
)

// Metrics of the scaler.
type Metrics struct {
	// Reconciles by result: ok, requeue, error.
	Reconciles *prometheus.CounterVec
	// ReconcileSeconds: duration of one reconcile (Redis observation included).
	ReconcileSeconds prometheus.Histogram
	// Switchovers by namespace, group and result: ok, aborted, error.
	Switchovers *prometheus.CounterVec
	// WritePauseSeconds: how long a switchover paused the master's writes,
	// by namespace and group.
	WritePauseSeconds *prometheus.HistogramVec
	// AttachSeconds: from a new pod's Redis container start to the replica
	// attached and in sync, by namespace and group.
	AttachSeconds *prometheus.HistogramVec
	// ScaleEvents: replica counts applied to a group's StatefulSet, by
	// namespace, group and direction (up, down).
	ScaleEvents *prometheus.CounterVec
	// Commands that change topology, by command.
	Commands *prometheus.CounterVec
	// Errors by stage.
	Errors *prometheus.CounterVec
}

// New creates the metrics and registers them with reg, the scaler's own
// registry.
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
		}, []string{"namespace", "group", "result"}),
		WritePauseSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "redis_autoscaler_scaler_switchover_write_pause_seconds", Help: "How long a switchover paused writes on the master.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14),
		}, groupLabels),
		AttachSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "redis_autoscaler_scaler_attach_duration_seconds", Help: "From a new pod's Redis start to the replica attached and in sync.",
			Buckets: prometheus.ExponentialBuckets(0.05, 2, 12),
		}, groupLabels),
		ScaleEvents: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "redis_autoscaler_scaler_scale_events_total", Help: "Replica counts the scaler applied to a group's StatefulSet, by direction (up, down).",
		}, []string{"namespace", "group", "direction"}),
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
	m.ScaleEvents = register(reg, m.ScaleEvents)
	m.Commands = register(reg, m.Commands)
	m.Errors = register(reg, m.Errors)
	return m
}

// groupLabels identify a RedisReplicationGroup on per-group metrics.
var groupLabels = []string{"namespace", "group"}

// InitGroup creates a group's series at zero, so that its first
// switchover or scale event is an increase that rate() and increase() see
// (a series born at 1 shows none) and dashboards draw zeros, not gaps.
func (m *Metrics) InitGroup(namespace, group string) {
	for _, r := range []string{"ok", "aborted", "error"} {
		m.Switchovers.WithLabelValues(namespace, group, r)
	}
	for _, d := range []string{"up", "down"} {
		m.ScaleEvents.WithLabelValues(namespace, group, d)
	}
	m.WritePauseSeconds.WithLabelValues(namespace, group)
	m.AttachSeconds.WithLabelValues(namespace, group)
}

// ForgetGroup drops a deleted group's series, so they do not linger until
// the scaler restarts.
func (m *Metrics) ForgetGroup(namespace, group string) {
	labels := prometheus.Labels{"namespace": namespace, "group": group}
	m.Switchovers.DeletePartialMatch(labels)
	m.WritePauseSeconds.DeletePartialMatch(labels)
	m.AttachSeconds.DeletePartialMatch(labels)
	m.ScaleEvents.DeletePartialMatch(labels)
}

// register registers c with reg (each scaler has a registry of its own,
// so a name registered twice is a bug) and returns it.
func register[C prometheus.Collector](reg prometheus.Registerer, c C) C {
	reg.MustRegister(c)
	return c
}
