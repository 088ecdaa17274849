package source

import (
	"testing"

	"github.com/stretchr/testify/assert"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	"k8s.io/apimachinery/pkg/api/resource"
)

func TestInHPA(t *testing.T) {
	q := resource.MustParse
	pods := func(name, avg string) autoscalingv2.MetricSpec {
		v := q(avg)
		return autoscalingv2.MetricSpec{Type: autoscalingv2.PodsMetricSourceType, Pods: &autoscalingv2.PodsMetricSource{
			Metric: autoscalingv2.MetricIdentifier{Name: name},
			Target: autoscalingv2.MetricTarget{Type: autoscalingv2.AverageValueMetricType, AverageValue: &v}}}
	}
	svc := autoscalingv2.CrossVersionObjectReference{APIVersion: "v1", Kind: "Service", Name: "cache"}
	object := func(name string, target autoscalingv2.MetricTarget) autoscalingv2.MetricSpec {
		return autoscalingv2.MetricSpec{Type: autoscalingv2.ObjectMetricSourceType, Object: &autoscalingv2.ObjectMetricSource{
			Metric: autoscalingv2.MetricIdentifier{Name: name}, DescribedObject: svc, Target: target}}
	}
	value, avg := q("5k"), q("300")
	for _, tc := range []struct {
		name    string
		metrics []autoscalingv2.MetricSpec
		want    []string // name type object target
	}{
		{name: "none of ours", metrics: []autoscalingv2.MetricSpec{pods("http_requests", "10"),
			{Type: autoscalingv2.ResourceMetricSourceType, Resource: &autoscalingv2.ResourceMetricSource{Name: "cpu"}}}},
		{name: "pods metrics, others skipped", metrics: []autoscalingv2.MetricSpec{pods(OpsPerSecond, "20k"), pods("http_requests", "10"), pods(MemoryFraction, "800m")},
			want: []string{"redis_ops_per_second Pods  20k", "redis_memory_fraction Pods  800m"}},
		{name: "object value and average value", metrics: []autoscalingv2.MetricSpec{
			object(OpsPerSecond, autoscalingv2.MetricTarget{Type: autoscalingv2.ValueMetricType, Value: &value}),
			object(ConnectedClients, autoscalingv2.MetricTarget{Type: autoscalingv2.AverageValueMetricType, AverageValue: &avg})},
			want: []string{"redis_ops_per_second Object Service/cache 5k", "redis_connected_clients Object Service/cache 300"}},
		{name: "a malformed entry without its source", metrics: []autoscalingv2.MetricSpec{{Type: autoscalingv2.PodsMetricSourceType}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hpa := &autoscalingv2.HorizontalPodAutoscaler{Spec: autoscalingv2.HorizontalPodAutoscalerSpec{Metrics: tc.metrics}}
			var got []string
			for _, m := range InHPA(hpa) {
				got = append(got, m.Name+" "+string(m.Type)+" "+m.Object+" "+m.Target.String())
				assert.Equal(t, m.Object != "", m.Described != nil)
			}
			assert.Equal(t, tc.want, got)
		})
	}
}
