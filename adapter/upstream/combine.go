package upstream

import (
	"context"

	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/metrics/pkg/apis/custom_metrics"
	"sigs.k8s.io/custom-metrics-apiserver/pkg/provider"
)

// Combined routes requests by metric name: names of ours go to ours,
// everything else upstream.
type Combined struct {
	ours     provider.CustomMetricsProvider
	ourNames map[string]bool
	upstream provider.CustomMetricsProvider
}

var _ provider.CustomMetricsProvider = (*Combined)(nil)

// Combine serves ourNames from ours and every other metric from up
// (usually an *Upstream).
func Combine(ours provider.CustomMetricsProvider, ourNames []string, up provider.CustomMetricsProvider) *Combined {
	names := make(map[string]bool, len(ourNames))
	for _, n := range ourNames {
		names[n] = true
	}
	return &Combined{ours: ours, ourNames: names, upstream: up}
}

func (c *Combined) route(metric string) provider.CustomMetricsProvider {
	if c.ourNames[metric] {
		return c.ours
	}
	return c.upstream
}

// GetMetricByName implements provider.CustomMetricsProvider.
func (c *Combined) GetMetricByName(ctx context.Context, name types.NamespacedName, info provider.CustomMetricInfo, metricSelector labels.Selector) (*custom_metrics.MetricValue, error) {
	return c.route(info.Metric).GetMetricByName(ctx, name, info, metricSelector)
}

// GetMetricBySelector implements provider.CustomMetricsProvider.
func (c *Combined) GetMetricBySelector(ctx context.Context, namespace string, selector labels.Selector, info provider.CustomMetricInfo, metricSelector labels.Selector) (*custom_metrics.MetricValueList, error) {
	return c.route(info.Metric).GetMetricBySelector(ctx, namespace, selector, info, metricSelector)
}

// ListAllMetrics is ours plus the upstream's. An upstream entry bearing one
// of our names is left out: requests for it would reach ours, so listing it
// would promise what we do not serve.
func (c *Combined) ListAllMetrics() []provider.CustomMetricInfo {
	ours := c.ours.ListAllMetrics()
	theirs := c.upstream.ListAllMetrics()
	out := make([]provider.CustomMetricInfo, 0, len(ours)+len(theirs))
	out = append(out, ours...)
	for _, m := range theirs {
		if !c.ourNames[m.Metric] {
			out = append(out, m)
		}
	}
	return out
}
