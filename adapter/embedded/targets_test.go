package embedded

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	autoscalinglisters "k8s.io/client-go/listers/autoscaling/v2"
	corelisters "k8s.io/client-go/listers/core/v1"
	scalefake "k8s.io/client-go/scale/fake"
	clienttesting "k8s.io/client-go/testing"
	"k8s.io/client-go/tools/cache"

	"github.com/redis-autoscaler/redis-autoscaler/adapter/source"
)

// The Resolver keeps an object's last known selector through /scale read
// failures that may pass (the source would otherwise drop every window of
// its pods), drops it when the object is gone, and forgets objects no HPA
// refers to any more. Unit test with fake clients; the real control plane
// runs the Resolver in the adapter's tests.
func TestResolverKeepsSelectorThroughAPIErrors(t *testing.T) {
	hpas := cache.NewIndexer(cache.MetaNamespaceKeyFunc, cache.Indexers{cache.NamespaceIndex: cache.MetaNamespaceIndexFunc})
	pods := cache.NewIndexer(cache.MetaNamespaceKeyFunc, cache.Indexers{cache.NamespaceIndex: cache.MetaNamespaceIndexFunc})
	avg := resource.MustParse("100")
	hpa := &autoscalingv2.HorizontalPodAutoscaler{
		ObjectMeta: metav1.ObjectMeta{Name: "cache", Namespace: "ns"},
		Spec: autoscalingv2.HorizontalPodAutoscalerSpec{
			ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: "StatefulSet", Name: "cache"},
			Metrics: []autoscalingv2.MetricSpec{{Type: autoscalingv2.PodsMetricSourceType, Pods: &autoscalingv2.PodsMetricSource{
				Metric: autoscalingv2.MetricIdentifier{Name: source.OpsPerSecond},
				Target: autoscalingv2.MetricTarget{Type: autoscalingv2.AverageValueMetricType, AverageValue: &avg}}}},
		},
	}
	require.NoError(t, hpas.Add(hpa))
	require.NoError(t, pods.Add(&corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "cache-0", Namespace: "ns", Labels: map[string]string{"app": "cache"}},
		Status:     corev1.PodStatus{Phase: corev1.PodRunning, PodIP: "10.0.0.1"},
	}))
	mapper := meta.NewDefaultRESTMapper(nil)
	mapper.Add(schema.GroupVersionKind{Group: "apps", Version: "v1", Kind: "StatefulSet"}, meta.RESTScopeNamespace)

	var fail error // what the next /scale read answers; nil: the scale
	scales := &scalefake.FakeScaleClient{}
	scales.AddReactor("get", "statefulsets", func(clienttesting.Action) (bool, runtime.Object, error) {
		if fail != nil {
			return true, nil, fail
		}
		return true, &autoscalingv1.Scale{Status: autoscalingv1.ScaleStatus{Selector: "app=cache"}}, nil
	})
	r := &Resolver{HPAs: autoscalinglisters.NewHorizontalPodAutoscalerLister(hpas), Pods: corelisters.NewPodLister(pods),
		Scales: scales, Mapper: mapper}
	names := func() []string {
		var out []string
		for _, p := range r.PodsToScrape(context.Background()) {
			out = append(out, p.Name)
		}
		return out
	}
	expire := func() {
		r.mu.Lock()
		for k, c := range r.cache {
			c.at = time.Now().Add(-time.Hour)
			r.cache[k] = c
		}
		r.mu.Unlock()
	}
	assert.Equal(t, []string{"cache-0"}, names())

	expire()
	fail = apierrors.NewServiceUnavailable("apiserver restarting")
	assert.Equal(t, []string{"cache-0"}, names(), "a transient error keeps the last selector")
	fail = context.DeadlineExceeded
	assert.Equal(t, []string{"cache-0"}, names(), "so does a timeout")

	fail = apierrors.NewNotFound(schema.GroupResource{Group: "apps", Resource: "statefulsets"}, "cache")
	assert.Empty(t, names(), "a deleted object is dropped")
	r.mu.Lock()
	assert.Empty(t, r.cache)
	r.mu.Unlock()

	fail = nil
	assert.Equal(t, []string{"cache-0"}, names())
	require.NoError(t, hpas.Delete(hpa))
	assert.Empty(t, names())
	r.mu.Lock()
	assert.Empty(t, r.cache, "an object no HPA refers to is forgotten")
	r.mu.Unlock()
	assert.NotErrorIs(t, context.DeadlineExceeded, errGone, "a timeout is not a gone object")
}
