package provider

import (
	"slices"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/custom-metrics-apiserver/pkg/provider"

	"github.com/redis-autoscaler/redis-autoscaler/adapter/source"
)

// Metrics are the provider's own measurements, on the adapter's /metrics.
type Metrics struct {
	// seen: resource/metric pairs whose error series exist (see observe).
	seen     sync.Map
	Requests *prometheus.HistogramVec
	// Errors counts requests answered with an error, by resource, metric
	// and reason (the API status reason: NotFound, ServiceUnavailable, ...).
	Errors   *prometheus.CounterVec
	ValueAge prometheus.Histogram
}

// NewMetrics builds the provider metrics.
func NewMetrics() *Metrics {
	return &Metrics{Requests: prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "redis_autoscaler_adapter_request_duration_seconds",
		Help:    "Time the provider took to answer a custom-metrics request.",
		Buckets: []float64{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25},
	}, []string{"resource", "metric"}),
		Errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "redis_autoscaler_adapter_request_errors_total",
			Help: "Custom-metrics requests the provider answered with an error, by reason (NotFound: no fresh value or unknown object).",
		}, []string{"resource", "metric", "reason"}),
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
	return []prometheus.Collector{m.Requests, m.Errors, m.ValueAge}
}

// observe times a request and counts its error (read from *err when the
// returned func runs, deferred); a nil *Metrics observes nothing.
func (m *Metrics) observe(info provider.CustomMetricInfo, err *error) func() {
	if m == nil {
		return func() {}
	}
	start := time.Now()
	return func() {
		// Callers choose the metric name and resource in the URL: only
		// what we serve becomes a label value, so they cannot choose the
		// cardinality.
		resource, metric := info.GroupResource.String(), info.Metric
		if !slices.Contains(source.Names, metric) {
			metric = "other"
		}
		if !slices.Contains(servedResources, info.GroupResource) {
			resource = "other"
		}
		m.Requests.WithLabelValues(resource, metric).Observe(time.Since(start).Seconds())
		if _, seen := m.seen.LoadOrStore(resource+"/"+metric, true); !seen {
			// The usual reasons start at zero, so that the first error
			// is an increase rate() sees, not a series born at 1.
			for _, reason := range []metav1.StatusReason{metav1.StatusReasonNotFound, metav1.StatusReasonServiceUnavailable} {
				m.Errors.WithLabelValues(resource, metric, string(reason))
			}
		}
		if *err != nil {
			m.Errors.WithLabelValues(resource, metric, string(apierrors.ReasonForError(*err))).Inc()
		}
	}
}
