package controller

import (
	"context"
	"time"

	"golang.org/x/time/rate"
	"k8s.io/client-go/util/workqueue"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	crcontroller "sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
)

// indexStatefulSet indexes the reconciled objects by spec.statefulSetName,
// so a StatefulSet or pod event finds its object without a list of all.
const indexStatefulSet = "spec.statefulSetName"

// Watch says what a reconciler reconciles: objects of one kind, each
// naming the StatefulSet whose pods are its Redis servers.
type Watch struct {
	// Name of the controller (its metrics and logs).
	Name string
	// For is an object of the kind reconciled; NewList makes an empty list
	// of that kind.
	For     client.Object
	NewList func() client.ObjectList
	// StatefulSet is the name of the StatefulSet an object names.
	StatefulSet func(client.Object) string
}

// Setup registers r with the manager: the objects of w's kind, the
// StatefulSets they name and those StatefulSets' pods, read through c
// (the manager's cached client). It also adds conns' sweeper, which
// closes the connections of pods gone and all of them on shutdown.
func Setup(mgr manager.Manager, c client.Reader, w Watch, conns *Conns, r reconcile.Reconciler) error {
	if err := mgr.GetFieldIndexer().IndexField(context.Background(), w.For, indexStatefulSet,
		func(o client.Object) []string { return []string{w.StatefulSet(o)} }); err != nil {
		return err
	}
	if err := mgr.Add(conns.sweeper()); err != nil {
		return err
	}
	objectsFor := func(ctx context.Context, ns, sts string) []reconcile.Request {
		list := w.NewList()
		if err := c.List(ctx, list, client.InNamespace(ns), client.MatchingFields{indexStatefulSet: sts}); err != nil {
			return nil
		}
		items, err := meta.ExtractList(list)
		if err != nil {
			return nil
		}
		reqs := make([]reconcile.Request, 0, len(items))
		for _, item := range items {
			if o, ok := item.(client.Object); ok {
				reqs = append(reqs, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(o)})
			}
		}
		return reqs
	}
	ofStatefulSet := func(ctx context.Context, o client.Object) []reconcile.Request {
		return objectsFor(ctx, o.GetNamespace(), o.GetName())
	}
	ofPod := func(ctx context.Context, o client.Object) []reconcile.Request {
		ref := metav1.GetControllerOf(o)
		if ref == nil || ref.Kind != "StatefulSet" {
			return nil
		}
		return objectsFor(ctx, o.GetNamespace(), ref.Name)
	}
	return ctrl.NewControllerManagedBy(mgr).
		For(w.For).
		Watches(&appsv1.StatefulSet{}, handler.EnqueueRequestsFromMapFunc(ofStatefulSet)).
		Watches(&corev1.Pod{}, handler.EnqueueRequestsFromMapFunc(ofPod)).
		Named(w.Name).
		// Different objects in parallel; one object is never reconciled by
		// two workers at once (the workqueue guarantees it per key).
		WithOptions(crcontroller.Options{MaxConcurrentReconciles: 4, RateLimiter: RateLimiter()}).
		Complete(r)
}

// MaxBackoff caps how long a reconcile that failed waits before the next
// try. controller-runtime's default doubles up to 1000 s: after a minute's
// API outage a group would be looked at again only some 40 s after the API
// came back, and a master that crashed meanwhile handled that late (Redis
// changes without Kubernetes events).
const MaxBackoff = 5 * time.Second

// RateLimiter is controller-runtime's default limiter with the per-object
// backoff capped at MaxBackoff: 5 ms doubling per failure, and 10 retries
// a second overall (burst 100).
func RateLimiter() workqueue.TypedRateLimiter[reconcile.Request] {
	return workqueue.NewTypedMaxOfRateLimiter(
		workqueue.NewTypedItemExponentialFailureRateLimiter[reconcile.Request](5*time.Millisecond, MaxBackoff),
		&workqueue.TypedBucketRateLimiter[reconcile.Request]{Limiter: rate.NewLimiter(rate.Limit(10), 100)},
	)
}
