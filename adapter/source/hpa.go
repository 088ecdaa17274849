package source

import (
	"slices"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	"k8s.io/apimachinery/pkg/api/resource"
)

// HPAMetric is one of our metrics in an HPA's spec.
type HPAMetric struct {
	Name string
	Type autoscalingv2.MetricSourceType
	// Object is "Kind/name" of an Object metric's described object, and
	// Described the reference itself (nil for a Pods metric).
	Object    string
	Described *autoscalingv2.CrossVersionObjectReference
	Target    *resource.Quantity
}

// InHPA lists the Pods and Object metrics of an HPA that the adapter
// serves, with their targets (nil when the target type has no value, e.g.
// Utilization, which custom metrics do not support).
func InHPA(hpa *autoscalingv2.HorizontalPodAutoscaler) []HPAMetric {
	var out []HPAMetric
	for _, m := range hpa.Spec.Metrics {
		switch {
		case m.Type == autoscalingv2.PodsMetricSourceType && m.Pods != nil && slices.Contains(Names, m.Pods.Metric.Name):
			out = append(out, HPAMetric{Name: m.Pods.Metric.Name, Type: m.Type, Target: m.Pods.Target.AverageValue})
		case m.Type == autoscalingv2.ObjectMetricSourceType && m.Object != nil && slices.Contains(Names, m.Object.Metric.Name):
			t := m.Object.Target.Value
			if m.Object.Target.Type == autoscalingv2.AverageValueMetricType {
				t = m.Object.Target.AverageValue
			}
			d := m.Object.DescribedObject
			out = append(out, HPAMetric{Name: m.Object.Metric.Name, Type: m.Type, Object: d.Kind + "/" + d.Name, Described: &d, Target: t})
		}
	}
	return out
}
