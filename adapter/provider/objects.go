package provider

import (
	"context"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	appslisters "k8s.io/client-go/listers/apps/v1"
)

// Objects resolves StatefulSets from an informer cache, and
// RedisReplicationGroups and RedisClusters (whose CRDs may be installed
// after the adapter starts) with the dynamic client, through
// status.selector, which is what their /scale subresource reports to the
// HPA.
type Objects struct {
	StatefulSets appslisters.StatefulSetLister
	Dynamic      dynamic.Interface
}

var crResources = map[schema.GroupResource]schema.GroupVersionResource{
	RedisReplicationGroups: redisReplicationGroupGV.WithResource(RedisReplicationGroups.Resource),
	RedisClusters:          redisReplicationGroupGV.WithResource(RedisClusters.Resource),
}

// apiTimeout bounds each API call made while answering a request: a slow
// API server must not hold the HPA controller's request (and its sync
// loop) for long.
const apiTimeout = 5 * time.Second

// Selector implements ObjectPods.
func (o *Objects) Selector(ctx context.Context, gr schema.GroupResource, namespace, name string) (labels.Selector, error) {
	switch gr {
	case StatefulSets:
		sts, err := o.StatefulSets.StatefulSets(namespace).Get(name)
		if err != nil {
			return nil, err
		}
		sel, err := metav1.LabelSelectorAsSelector(sts.Spec.Selector)
		if err != nil || sel.Empty() {
			return nil, errNoSelector(gr, name)
		}
		return sel, nil
	case RedisReplicationGroups, RedisClusters:
		ctx, cancel := context.WithTimeout(ctx, apiTimeout)
		defer cancel()
		u, err := o.Dynamic.Resource(crResources[gr]).Namespace(namespace).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return nil, err
		}
		return statusSelector(gr, u, name)
	}
	return nil, apierrors.NewNotFound(gr, name)
}

func statusSelector(gr schema.GroupResource, u *unstructured.Unstructured, name string) (labels.Selector, error) {
	s, _, _ := unstructured.NestedString(u.Object, "status", "selector")
	sel, err := labels.Parse(s)
	if err != nil || s == "" || sel.Empty() {
		return nil, errNoSelector(gr, name)
	}
	return sel, nil
}

// List names the objects of a kind matching a label selector.
func (o *Objects) List(ctx context.Context, gr schema.GroupResource, namespace string, selector labels.Selector) ([]string, error) {
	var names []string
	switch gr {
	case StatefulSets:
		list, err := o.StatefulSets.StatefulSets(namespace).List(selector)
		if err != nil {
			return nil, err
		}
		for _, s := range list {
			names = append(names, s.Name)
		}
	case RedisReplicationGroups, RedisClusters:
		ctx, cancel := context.WithTimeout(ctx, apiTimeout)
		defer cancel()
		list, err := o.Dynamic.Resource(crResources[gr]).Namespace(namespace).List(ctx, metav1.ListOptions{LabelSelector: selector.String()})
		if err != nil {
			return nil, err
		}
		for _, item := range list.Items {
			names = append(names, item.GetName())
		}
	}
	return names, nil
}
