package provider

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/custom-metrics-apiserver/pkg/provider"
)

// Metrics are the provider's own measurements, on the adapter's /metrics.
type Metrics struct {
	Requests *prometheus.HistogramVec
	ValueAge prometheus.Histogram
}

// NewMetrics builds the provider metrics.
func NewMetrics() *Metrics {
	return &Metrics{Requests: prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "redis_autoscaler_adapter_request_duration_seconds",
		Help:    "Time the provider took to answer a custom-metrics request.",
		Buckets: []float64{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25},
	}, []string{"resource", "metric"}),
		ValueAge: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "redis_autoscaler_adapter_value_age_seconds",
			Help:    "Age of each value served: time since the sample it comes from was taken.",
			Buckets: []float64{0.5, 1, 2, 5, 10, 15, 30, 60, 120},
		}),
	}
}

// served records the age of a value handed to a client.
func (m *Metrics) served(ts time.Time) {
	if m != nil && !ts.IsZero() {
		m.ValueAge.Observe(time.Since(ts).Seconds())
	}
}

// Collectors lists the metrics for registration.
func (m *Metrics) Collectors() []prometheus.Collector {
	return []prometheus.Collector{m.Requests, m.ValueAge}
}

// observe times a request; a nil *Metrics observes nothing.
func (m *Metrics) observe(info provider.CustomMetricInfo) func() {
	if m == nil {
		return func() {}
	}
	start := time.Now()
	return func() {
		m.Requests.WithLabelValues(info.GroupResource.String(), info.Metric).Observe(time.Since(start).Seconds())
	}
}
