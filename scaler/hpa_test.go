package scaler_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/redis-autoscaler/redis-autoscaler/scaler/api/v1alpha1"
)

// The real HPA controller (kube-controller-manager) scales the group
// through its /scale subresource: below minReplicas it raises the count
// without needing a metric, and reads status.replicas and status.selector.
func TestHPAScalesGroupThroughScaleSubresource(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "hpa")
	e.startScaler(nil)
	e.createGroup("cache", 1)
	e.waitConverged("cache", 1, 60*time.Second)

	minReplicas := int32(3)
	require.NoError(t, e.cl.Create(e.ctx, &autoscalingv2.HorizontalPodAutoscaler{
		ObjectMeta: metav1.ObjectMeta{Name: "cache", Namespace: e.ns},
		Spec: autoscalingv2.HorizontalPodAutoscalerSpec{
			ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{
				APIVersion: v1alpha1.GroupVersion.String(), Kind: "RedisReplicationGroup", Name: "cache"},
			MinReplicas: &minReplicas,
			MaxReplicas: 5,
			Metrics: []autoscalingv2.MetricSpec{{Type: autoscalingv2.ResourceMetricSourceType,
				Resource: &autoscalingv2.ResourceMetricSource{Name: corev1.ResourceCPU,
					Target: autoscalingv2.MetricTarget{Type: autoscalingv2.AverageValueMetricType, AverageValue: resource.NewMilliQuantity(100, resource.DecimalSI)}}}},
		},
	}))
	require.EventuallyWithT(t, func(ct *assert.CollectT) {
		g := e.group("cache")
		require.NotNil(ct, g.Spec.Replicas)
		require.EqualValues(ct, 3, *g.Spec.Replicas, "the HPA wrote spec.replicas through /scale")
	}, 60*time.Second, 200*time.Millisecond)
	e.waitConverged("cache", 3, 60*time.Second)

	var hpa autoscalingv2.HorizontalPodAutoscaler
	require.NoError(t, e.cl.Get(e.ctx, clientKey(e.ns, "cache"), &hpa))
	assert.EqualValues(t, 3, hpa.Status.DesiredReplicas)
}
