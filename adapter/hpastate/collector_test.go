package hpastate

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	autoscalinglisters "k8s.io/client-go/listers/autoscaling/v2"
	"k8s.io/client-go/tools/cache"
	"k8s.io/utils/ptr"
)

func hpa(name string, metrics []autoscalingv2.MetricSpec, current []autoscalingv2.MetricStatus) *autoscalingv2.HorizontalPodAutoscaler {
	return &autoscalingv2.HorizontalPodAutoscaler{
		ObjectMeta: metav1.ObjectMeta{Namespace: "redis", Name: name},
		Spec: autoscalingv2.HorizontalPodAutoscalerSpec{
			ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{APIVersion: "redisautoscaler.io/v1alpha1", Kind: "RedisReplicationGroup", Name: name},
			MinReplicas:    ptr.To[int32](2), MaxReplicas: 8, Metrics: metrics,
		},
		Status: autoscalingv2.HorizontalPodAutoscalerStatus{CurrentReplicas: 3, DesiredReplicas: 4, CurrentMetrics: current},
	}
}

func TestCollector(t *testing.T) {
	q := func(s string) *resource.Quantity { v := resource.MustParse(s); return &v }
	ops := autoscalingv2.MetricIdentifier{Name: "redis_ops_per_second"}
	rt := autoscalingv2.MetricIdentifier{Name: "redis_response_time_seconds"}
	ours := hpa("cache", []autoscalingv2.MetricSpec{
		{Type: autoscalingv2.PodsMetricSourceType, Pods: &autoscalingv2.PodsMetricSource{Metric: ops,
			Target: autoscalingv2.MetricTarget{Type: autoscalingv2.AverageValueMetricType, AverageValue: q("20k")}}},
		{Type: autoscalingv2.PodsMetricSourceType, Pods: &autoscalingv2.PodsMetricSource{Metric: rt,
			Target: autoscalingv2.MetricTarget{Type: autoscalingv2.AverageValueMetricType, AverageValue: q("2m")}}},
		{Type: autoscalingv2.ResourceMetricSourceType, Resource: &autoscalingv2.ResourceMetricSource{Name: "cpu"}},
	}, []autoscalingv2.MetricStatus{
		// Only ops/s has a value yet (the response time is still unknown).
		{Type: autoscalingv2.PodsMetricSourceType, Pods: &autoscalingv2.PodsMetricStatus{Metric: ops, Current: autoscalingv2.MetricValueStatus{AverageValue: q("25500")}}},
	})
	notOurs := hpa("web", []autoscalingv2.MetricSpec{{Type: autoscalingv2.ResourceMetricSourceType, Resource: &autoscalingv2.ResourceMetricSource{Name: "cpu"}}}, nil)
	idx := cache.NewIndexer(cache.MetaNamespaceKeyFunc, cache.Indexers{})
	require.NoError(t, idx.Add(ours))
	require.NoError(t, idx.Add(notOurs))

	want := `
# HELP redis_autoscaler_adapter_hpa_metric_current Value of each of the adapter's metrics as the HPA last computed it (status.currentMetrics; per-pod average for Pods metrics).
# TYPE redis_autoscaler_adapter_hpa_metric_current gauge
redis_autoscaler_adapter_hpa_metric_current{hpa="cache",metric="redis_ops_per_second",metric_type="Pods",namespace="redis",object="",target_kind="RedisReplicationGroup",target_name="cache"} 25500
# HELP redis_autoscaler_adapter_hpa_metric_target Target of each of the adapter's metrics in an HPA (averageValue, or value for an Object metric).
# TYPE redis_autoscaler_adapter_hpa_metric_target gauge
redis_autoscaler_adapter_hpa_metric_target{hpa="cache",metric="redis_ops_per_second",metric_type="Pods",namespace="redis",object="",target_kind="RedisReplicationGroup",target_name="cache"} 20000
redis_autoscaler_adapter_hpa_metric_target{hpa="cache",metric="redis_response_time_seconds",metric_type="Pods",namespace="redis",object="",target_kind="RedisReplicationGroup",target_name="cache"} 0.002
# HELP redis_autoscaler_adapter_hpa_replicas Replicas of an HPA that uses the adapter's metrics, by state: min and max (spec), current and desired (status).
# TYPE redis_autoscaler_adapter_hpa_replicas gauge
redis_autoscaler_adapter_hpa_replicas{hpa="cache",namespace="redis",state="current",target_kind="RedisReplicationGroup",target_name="cache"} 3
redis_autoscaler_adapter_hpa_replicas{hpa="cache",namespace="redis",state="desired",target_kind="RedisReplicationGroup",target_name="cache"} 4
redis_autoscaler_adapter_hpa_replicas{hpa="cache",namespace="redis",state="max",target_kind="RedisReplicationGroup",target_name="cache"} 8
redis_autoscaler_adapter_hpa_replicas{hpa="cache",namespace="redis",state="min",target_kind="RedisReplicationGroup",target_name="cache"} 2
`
	c := New(autoscalinglisters.NewHorizontalPodAutoscalerLister(idx))
	require.NoError(t, testutil.CollectAndCompare(c, strings.NewReader(want)))
	problems, err := testutil.CollectAndLint(c)
	require.NoError(t, err)
	require.Empty(t, problems)
}
