package adapter_test

import (
	"encoding/hex"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/redis-autoscaler/redis-autoscaler/test/cluster"
)

// Queue-driven scaling through the aggregator with the real HPA
// controller: a worker Deployment grows when a Redis list grows and
// shrinks back when it drains. The list's key holds a ':' (key_hex); the
// Redis is named by its pod.
func TestExternalListLengthScalesWorkers(t *testing.T) {
	e := startAdapter(t)
	c := e.c
	ns := c.Namespace(t, "queue")
	ctx := ctxT(t, 4*time.Minute)
	_, err := c.Client.AppsV1().StatefulSets(ns).Create(ctx, cluster.RedisStatefulSet("broker", 1), metav1.CreateOptions{})
	require.NoError(t, err)
	pods := readyPods(t, c, ns, "broker", 1)
	rc := podClient(t, pods["broker-0"])

	// Workers the cluster cannot run (no container runtime): the HPA only
	// needs their Deployment's /scale.
	one := int32(1)
	labels := map[string]string{"app": "worker"}
	_, err = c.Client.AppsV1().Deployments(ns).Create(ctx, &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "worker"},
		Spec: appsv1.DeploymentSpec{
			Replicas: &one,
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "worker", Image: "example.com/worker:1"}}},
			},
		},
	}, metav1.CreateOptions{})
	require.NoError(t, err)
	perWorker := resource.MustParse("10")
	zero := int32(0)
	_, err = c.Client.AutoscalingV2().HorizontalPodAutoscalers(ns).Create(ctx, &autoscalingv2.HorizontalPodAutoscaler{
		ObjectMeta: metav1.ObjectMeta{Name: "worker"},
		Spec: autoscalingv2.HorizontalPodAutoscalerSpec{
			ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: "worker"},
			MinReplicas:    &one,
			MaxReplicas:    5,
			Metrics: []autoscalingv2.MetricSpec{{Type: autoscalingv2.ExternalMetricSourceType, External: &autoscalingv2.ExternalMetricSource{
				Metric: autoscalingv2.MetricIdentifier{Name: "redis_list_length", Selector: &metav1.LabelSelector{MatchLabels: map[string]string{
					"pod": "broker-0", "key_hex": hex.EncodeToString([]byte("jobs:pending")),
				}}},
				Target: autoscalingv2.MetricTarget{Type: autoscalingv2.AverageValueMetricType, AverageValue: &perWorker},
			}}},
			Behavior: &autoscalingv2.HorizontalPodAutoscalerBehavior{ScaleDown: &autoscalingv2.HPAScalingRules{StabilizationWindowSeconds: &zero}},
		},
	}, metav1.CreateOptions{})
	require.NoError(t, err)

	replicas := func() (int32, string) {
		h, err := c.Client.AutoscalingV2().HorizontalPodAutoscalers(ns).Get(ctx, "worker", metav1.GetOptions{})
		if err != nil {
			return 0, err.Error()
		}
		msg := ""
		for _, cond := range h.Status.Conditions {
			msg += fmt.Sprintf("%s=%s %s; ", cond.Type, cond.Status, cond.Message)
		}
		d, err := c.Client.AppsV1().Deployments(ns).Get(ctx, "worker", metav1.GetOptions{})
		if err != nil {
			return 0, err.Error()
		}
		return *d.Spec.Replicas, msg
	}
	waitReplicas := func(want int32, what string) {
		var got int32
		var status string
		require.Eventually(t, func() bool {
			got, status = replicas()
			return got == want
		}, 2*time.Minute, time.Second, "%s: %d replicas, want %d; HPA: %s", what, got, want, status)
	}

	// 42 jobs at 10 per worker: 5 workers (ceil 4.2).
	for i := range 42 {
		require.NoError(t, rc.RPush(ctx, "jobs:pending", i).Err())
	}
	waitReplicas(5, "the queue grew")
	require.NoError(t, rc.Del(ctx, "jobs:pending").Err())
	waitReplicas(1, "the queue drained (its key deleted: 0)")

	h, err := c.Client.AutoscalingV2().HorizontalPodAutoscalers(ns).Get(ctx, "worker", metav1.GetOptions{})
	require.NoError(t, err)
	require.NotEmpty(t, h.Status.CurrentMetrics)
	cur := h.Status.CurrentMetrics[0].External
	require.NotNil(t, cur)
	assert.Equal(t, "redis_list_length", cur.Metric.Name)
	t.Logf("HPA status: %+v", h.Status)
}
