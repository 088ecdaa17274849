package cluster_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

// The real HPA controller processes an autoscaling/v2 HPA on a StatefulSet:
// with no custom metrics API registered it reports that it cannot get the
// metric, which proves the controller and its sync period are in place.
func TestHPAIsProcessed(t *testing.T) {
	c, ns, ctx := sharedNamespace(t, "hpa", time.Minute)

	sts := redisStatefulSet("scaled", 1, false)
	createReady(t, c, ns, sts, 30*time.Second)

	hpa := &autoscalingv2.HorizontalPodAutoscaler{
		ObjectMeta: metav1.ObjectMeta{Name: "scaled"},
		Spec: autoscalingv2.HorizontalPodAutoscalerSpec{
			ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: "StatefulSet", Name: "scaled"},
			MinReplicas:    ptr.To(int32(1)),
			MaxReplicas:    3,
			Metrics: []autoscalingv2.MetricSpec{{
				Type: autoscalingv2.PodsMetricSourceType,
				Pods: &autoscalingv2.PodsMetricSource{
					Metric: autoscalingv2.MetricIdentifier{Name: "redis_ops_per_second"},
					Target: autoscalingv2.MetricTarget{Type: autoscalingv2.AverageValueMetricType, AverageValue: ptr.To(resource.MustParse("1k"))},
				},
			}},
		},
	}
	_, err := c.Client.AutoscalingV2().HorizontalPodAutoscalers(ns).Create(ctx, hpa, metav1.CreateOptions{})
	require.NoError(t, err)

	require.EventuallyWithT(t, func(ct *assert.CollectT) {
		h, err := c.Client.AutoscalingV2().HorizontalPodAutoscalers(ns).Get(context.Background(), "scaled", metav1.GetOptions{})
		require.NoError(ct, err)
		conds := map[autoscalingv2.HorizontalPodAutoscalerConditionType]autoscalingv2.HorizontalPodAutoscalerCondition{}
		for _, c := range h.Status.Conditions {
			conds[c.Type] = c
		}
		require.Equal(ct, corev1.ConditionTrue, conds[autoscalingv2.AbleToScale].Status)
		require.Equal(ct, corev1.ConditionFalse, conds[autoscalingv2.ScalingActive].Status)
		require.Equal(ct, "FailedGetPodsMetric", conds[autoscalingv2.ScalingActive].Reason)
		require.EqualValues(ct, 1, h.Status.CurrentReplicas)
	}, 30*time.Second, 250*time.Millisecond)
}
