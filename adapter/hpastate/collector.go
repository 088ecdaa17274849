// Package hpastate exports, on the adapter's /metrics, the state of every
// HorizontalPodAutoscaler that uses one of the adapter's metrics: its
// bounds, its current and desired replicas, and each of our metrics' target
// and current value as the HPA last saw it. Dashboards and alerts ("at max
// while the signal is above target") need no kube-state-metrics.
package hpastate

import (
	"slices"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/labels"
	autoscalinglisters "k8s.io/client-go/listers/autoscaling/v2"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/redis-autoscaler/redis-autoscaler/adapter/source"
)

// Collector reads HPAs from an informer's lister at scrape time, so a
// deleted HPA's series go with it and a scrape costs no API call.
type Collector struct {
	hpas     autoscalinglisters.HorizontalPodAutoscalerLister
	replicas *prometheus.Desc
	target   *prometheus.Desc
	current  *prometheus.Desc
}

// hpaLabels identify an HPA and what it scales.
var hpaLabels = []string{"namespace", "hpa", "target_kind", "target_name"}

// metricLabels add the metric: its name, the HPA metric type (Pods,
// Object) and, for Object metrics, the described object.
var metricLabels = append(slices.Clone(hpaLabels), "metric", "metric_type", "object")

// New returns a collector over the lister's HPAs.
func New(hpas autoscalinglisters.HorizontalPodAutoscalerLister) *Collector {
	return &Collector{
		hpas: hpas,
		replicas: prometheus.NewDesc("redis_autoscaler_adapter_hpa_replicas",
			"Replicas of an HPA that uses the adapter's metrics, by state: min and max (spec), current and desired (status).",
			append(slices.Clone(hpaLabels), "state"), nil),
		target: prometheus.NewDesc("redis_autoscaler_adapter_hpa_metric_target",
			"Target of each of the adapter's metrics in an HPA (averageValue, or value for an Object metric).",
			metricLabels, nil),
		current: prometheus.NewDesc("redis_autoscaler_adapter_hpa_metric_current",
			"Value of each of the adapter's metrics as the HPA last computed it (status.currentMetrics; per-pod average for Pods metrics).",
			metricLabels, nil),
	}
}

// Describe implements prometheus.Collector.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.replicas
	ch <- c.target
	ch <- c.current
}

// Collect implements prometheus.Collector.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	hpas, err := c.hpas.List(labels.Everything())
	if err != nil {
		ch <- prometheus.NewInvalidMetric(c.replicas, err)
		return
	}
	for _, hpa := range hpas {
		ours := source.InHPA(hpa)
		if len(ours) == 0 {
			continue
		}
		id := []string{hpa.Namespace, hpa.Name, hpa.Spec.ScaleTargetRef.Kind, hpa.Spec.ScaleTargetRef.Name}
		gauge := func(state string, v int32) {
			ch <- prometheus.MustNewConstMetric(c.replicas, prometheus.GaugeValue, float64(v), append(slices.Clone(id), state)...)
		}
		minReplicas := int32(1) // the API's default when unset
		if hpa.Spec.MinReplicas != nil {
			minReplicas = *hpa.Spec.MinReplicas
		}
		gauge("min", minReplicas)
		gauge("max", hpa.Spec.MaxReplicas)
		gauge("current", hpa.Status.CurrentReplicas)
		gauge("desired", hpa.Status.DesiredReplicas)
		for _, m := range ours {
			l := append(slices.Clone(id), m.Name, string(m.Type), m.Object)
			if m.Target != nil {
				ch <- prometheus.MustNewConstMetric(c.target, prometheus.GaugeValue, m.Target.AsApproximateFloat64(), l...)
			}
			if v := currentValue(hpa.Status.CurrentMetrics, m); v != nil {
				ch <- prometheus.MustNewConstMetric(c.current, prometheus.GaugeValue, v.AsApproximateFloat64(), l...)
			}
		}
	}
}

// currentValue finds m in the HPA's status.
func currentValue(status []autoscalingv2.MetricStatus, m source.HPAMetric) *resource.Quantity {
	for _, s := range status {
		switch {
		case m.Type == autoscalingv2.PodsMetricSourceType && s.Type == m.Type && s.Pods != nil && s.Pods.Metric.Name == m.Name:
			return s.Pods.Current.AverageValue
		case m.Type == autoscalingv2.ObjectMetricSourceType && s.Type == m.Type && s.Object != nil && s.Object.Metric.Name == m.Name &&
			s.Object.DescribedObject.Kind+"/"+s.Object.DescribedObject.Name == m.Object:
			if s.Object.Current.AverageValue != nil {
				return s.Object.Current.AverageValue
			}
			return s.Object.Current.Value
		}
	}
	return nil
}
