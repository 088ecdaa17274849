// Package provider implements the custom-metrics-apiserver provider: it
// answers the HPA's queries for pods, StatefulSets, RedisReplicationGroups
// and RedisClusters from a value source, never from Redis directly.
package provider

import (
	"context"
	"fmt"
	"math"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/selection"
	"k8s.io/apimachinery/pkg/types"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/metrics/pkg/apis/custom_metrics"
	"sigs.k8s.io/custom-metrics-apiserver/pkg/provider"

	"github.com/redis-autoscaler/redis-autoscaler/adapter/source"
)

// Resources the adapter serves metrics for.
var (
	Pods                    = schema.GroupResource{Resource: "pods"}
	StatefulSets            = schema.GroupResource{Group: "apps", Resource: "statefulsets"}
	RedisReplicationGroups  = schema.GroupResource{Group: "redisautoscaler.io", Resource: "redisreplicationgroups"}
	RedisClusters           = schema.GroupResource{Group: "redisautoscaler.io", Resource: "redisclusters"}
	redisReplicationGroupGV = schema.GroupVersion{Group: "redisautoscaler.io", Version: "v1alpha1"}
)

// ObjectPods finds the pods of a named object (a StatefulSet or a
// RedisReplicationGroup) through its label selector.
type ObjectPods interface {
	// Selector returns the object's pod selector; a NotFound error when the
	// object or its kind does not exist.
	Selector(ctx context.Context, gr schema.GroupResource, namespace, name string) (labels.Selector, error)
}

// Provider serves our metrics.
type Provider struct {
	Source  source.Source
	Pods    corelisters.PodLister
	Objects ObjectPods
	// Metrics are inventory to count requests by; optional.
	Metrics *Metrics
}

var _ provider.CustomMetricsProvider = (*Provider)(nil)

// ListAllMetrics lists exactly what is served: every metric on pods,
// StatefulSets, RedisReplicationGroups and RedisClusters.
func (p *Provider) ListAllMetrics() []provider.CustomMetricInfo {
	var out []provider.CustomMetricInfo
	for _, gr := range servedResources {
		for _, name := range source.Names {
			out = append(out, provider.CustomMetricInfo{GroupResource: gr, Namespaced: true, Metric: name})
		}
	}
	return out
}

// servedResources are the resources whose metrics we serve.
var servedResources = []schema.GroupResource{Pods, StatefulSets, RedisReplicationGroups, RedisClusters}

func (p *Provider) served(info provider.CustomMetricInfo) bool {
	return info.Namespaced && slices.Contains(source.Names, info.Metric) && slices.Contains(servedResources, info.GroupResource)
}

// GetMetricByName serves one pod's value, or an object's aggregate over its
// pods.
func (p *Provider) GetMetricByName(ctx context.Context, name types.NamespacedName, info provider.CustomMetricInfo, _ labels.Selector) (_ *custom_metrics.MetricValue, err error) {
	defer p.Metrics.observe(info, &err)()
	if !p.served(info) {
		return nil, provider.NewMetricNotFoundError(info.GroupResource, info.Metric)
	}
	if info.GroupResource == Pods {
		pod, err := p.Pods.Pods(name.Namespace).Get(name.Name)
		if err != nil {
			return nil, err
		}
		vals, err := p.Source.PodValues(ctx, info.Metric, []*corev1.Pod{pod})
		if err != nil {
			return nil, apierrors.NewServiceUnavailable(err.Error())
		}
		v, ok := vals[pod.Name]
		if !ok {
			return nil, provider.NewMetricNotFoundForError(info.GroupResource, info.Metric, name.Name)
		}
		p.Metrics.served(v.Timestamp)
		return metricValue(podRef(pod), info.Metric, v), nil
	}
	v, err := p.objectValue(ctx, info, name.Namespace, name.Name)
	if err != nil {
		return nil, err
	}
	p.Metrics.served(v.Timestamp)
	return metricValue(p.objectRef(info.GroupResource, name.Namespace, name.Name), info.Metric, v), nil
}

// GetMetricBySelector serves every selected pod that has a fresh value (an
// empty list when none match), or every selected object's aggregate.
func (p *Provider) GetMetricBySelector(ctx context.Context, namespace string, selector labels.Selector, info provider.CustomMetricInfo, _ labels.Selector) (_ *custom_metrics.MetricValueList, err error) {
	defer p.Metrics.observe(info, &err)()
	if !p.served(info) {
		return nil, provider.NewMetricNotFoundError(info.GroupResource, info.Metric)
	}
	list := &custom_metrics.MetricValueList{}
	if info.GroupResource != Pods {
		// Selecting StatefulSets or groups by label is rare: the HPA asks
		// for one object by name. Serve it for completeness via the lister.
		return list, p.objectsBySelector(ctx, namespace, selector, info, list)
	}
	pods, err := p.Pods.Pods(namespace).List(selector)
	if err != nil {
		return nil, err
	}
	vals, err := p.podValues(ctx, info.Metric, pods)
	if err != nil {
		return nil, apierrors.NewServiceUnavailable(err.Error())
	}
	list.Items = make([]custom_metrics.MetricValue, 0, len(pods))
	for i, pod := range pods {
		if v := vals[i]; !v.Timestamp.IsZero() {
			p.Metrics.served(v.Timestamp)
			list.Items = append(list.Items, *metricValue(podRef(pod), info.Metric, v))
		}
	}
	return list, nil
}

// podValues is the source's values in the pods' order (zero: no value),
// without a map when the source can (source.Aligned).
func (p *Provider) podValues(ctx context.Context, metric string, pods []*corev1.Pod) ([]source.Value, error) {
	vals := make([]source.Value, len(pods))
	if a, ok := p.Source.(source.Aligned); ok {
		return vals, a.PodValuesAligned(ctx, metric, pods, vals)
	}
	byName, err := p.Source.PodValues(ctx, metric, pods)
	if err != nil {
		return nil, err
	}
	for i, pod := range pods {
		vals[i] = byName[pod.Name]
	}
	return vals, nil
}

// objectValue aggregates an object's pods: ops/s and clients are summed
// (load adds up), memory fraction, response time and lag take the maximum
// (the worst pod is what matters). A RedisCluster's memory fraction is the
// maximum over its masters: each holds its own shard of the data, and
// adding shards relieves exactly them.
func (p *Provider) objectValue(ctx context.Context, info provider.CustomMetricInfo, namespace, name string) (source.Value, error) {
	sel, err := p.Objects.Selector(ctx, info.GroupResource, namespace, name)
	if err != nil {
		return source.Value{}, err
	}
	if info.GroupResource == RedisClusters && info.Metric == source.MemoryFraction {
		sel = sel.Add(mastersOnly)
	}
	pods, err := p.Pods.Pods(namespace).List(sel)
	if err != nil {
		return source.Value{}, err
	}
	vals, err := p.Source.PodValues(ctx, info.Metric, pods)
	if err != nil {
		return source.Value{}, apierrors.NewServiceUnavailable(err.Error())
	}
	v, ok := Aggregate(info.Metric, vals)
	if !ok {
		return source.Value{}, provider.NewMetricNotFoundForError(info.GroupResource, info.Metric, name)
	}
	return v, nil
}

// Aggregate combines pod values into an object's value; ok is false when no
// pod has a value. Pure, for tests.
func Aggregate(metric string, vals map[string]source.Value) (source.Value, bool) {
	if len(vals) == 0 {
		return source.Value{}, false
	}
	sum := metric == source.OpsPerSecond || metric == source.ConnectedClients
	var out source.Value
	out.Value = math.Inf(-1)
	if sum {
		out.Value = 0
	}
	for _, v := range vals {
		if sum {
			out.Value += v.Value
		} else {
			out.Value = math.Max(out.Value, v.Value)
		}
		// The object's value is as old as its oldest input.
		if out.Timestamp.IsZero() || v.Timestamp.Before(out.Timestamp) {
			out.Timestamp = v.Timestamp
		}
		out.Window = max(out.Window, v.Window)
	}
	return out, true
}

func (p *Provider) objectsBySelector(ctx context.Context, namespace string, selector labels.Selector, info provider.CustomMetricInfo, list *custom_metrics.MetricValueList) error {
	lister, ok := p.Objects.(interface {
		List(ctx context.Context, gr schema.GroupResource, namespace string, selector labels.Selector) ([]string, error)
	})
	if !ok {
		return nil
	}
	names, err := lister.List(ctx, info.GroupResource, namespace, selector)
	if err != nil {
		return err
	}
	for _, name := range names {
		v, err := p.objectValue(ctx, info, namespace, name)
		if err != nil {
			continue
		}
		list.Items = append(list.Items, *metricValue(p.objectRef(info.GroupResource, namespace, name), info.Metric, v))
	}
	return nil
}

func podRef(pod *corev1.Pod) custom_metrics.ObjectReference {
	return custom_metrics.ObjectReference{Kind: "Pod", APIVersion: "v1", Namespace: pod.Namespace, Name: pod.Name}
}

func (p *Provider) objectRef(gr schema.GroupResource, namespace, name string) custom_metrics.ObjectReference {
	switch gr {
	case StatefulSets:
		return custom_metrics.ObjectReference{Kind: "StatefulSet", APIVersion: "apps/v1", Namespace: namespace, Name: name}
	case RedisClusters:
		return custom_metrics.ObjectReference{Kind: "RedisCluster", APIVersion: redisReplicationGroupGV.String(), Namespace: namespace, Name: name}
	default:
		return custom_metrics.ObjectReference{Kind: "RedisReplicationGroup", APIVersion: redisReplicationGroupGV.String(), Namespace: namespace, Name: name}
	}
}

// metricValue keeps micro-units so sub-millisecond response times survive
// (the HPA itself compares in milli-units).
func metricValue(ref custom_metrics.ObjectReference, metric string, v source.Value) *custom_metrics.MetricValue {
	var window *int64
	if v.Window > 0 {
		w := int64(v.Window / time.Second)
		window = &w
	}
	return &custom_metrics.MetricValue{
		DescribedObject: ref,
		Metric:          custom_metrics.MetricIdentifier{Name: metric},
		Timestamp:       metav1.NewTime(v.Timestamp),
		WindowSeconds:   window,
		Value:           *resource.NewScaledQuantity(int64(math.Round(v.Value*1e6)), resource.Micro),
	}
}

// mastersOnly selects the pods the scaler labels as masters.
var mastersOnly = func() labels.Requirement {
	r, err := labels.NewRequirement("redisautoscaler.io/role", selection.Equals, []string{"master"})
	if err != nil {
		panic(err)
	}
	return *r
}()

// errNoSelector is returned for objects without a usable selector.
func errNoSelector(gr schema.GroupResource, name string) error {
	return apierrors.NewNotFound(gr, fmt.Sprintf("%s (no pod selector)", name))
}
