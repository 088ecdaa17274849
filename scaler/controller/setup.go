package controller

import (
	"context"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	crcontroller "sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/redis-autoscaler/redis-autoscaler/scaler/api/v1alpha1"
)

// indexStatefulSet indexes groups by spec.statefulSetName, so a
// StatefulSet or pod event finds its group without a list of all groups.
const indexStatefulSet = "spec.statefulSetName"

// SetupWithManager registers the reconciler and its watches: groups, the
// StatefulSets they name and those StatefulSets' pods.
func (r *Reconciler) SetupWithManager(mgr manager.Manager) error {
	if r.conns == nil {
		r.conns = newConns()
	}
	if err := mgr.GetFieldIndexer().IndexField(context.Background(), &v1alpha1.RedisReplicationGroup{}, indexStatefulSet,
		func(o client.Object) []string {
			return []string{o.(*v1alpha1.RedisReplicationGroup).Spec.StatefulSetName}
		}); err != nil {
		return err
	}
	if err := mgr.Add(r.conns.sweeper()); err != nil {
		return err
	}
	return ctrl.NewControllerManagedBy(mgr).
		For(&v1alpha1.RedisReplicationGroup{}).
		Watches(&appsv1.StatefulSet{}, handler.EnqueueRequestsFromMapFunc(r.groupsOf)).
		Watches(&corev1.Pod{}, handler.EnqueueRequestsFromMapFunc(r.groupsOfPod)).
		Named("redisreplicationgroup").
		// Different groups in parallel; one group is never reconciled by
		// two workers at once (the workqueue guarantees it per key).
		WithOptions(crcontroller.Options{MaxConcurrentReconciles: 4}).
		Complete(r)
}

func (r *Reconciler) groupsOf(ctx context.Context, o client.Object) []reconcile.Request {
	return r.groupsFor(ctx, o.GetNamespace(), o.GetName())
}

func (r *Reconciler) groupsOfPod(ctx context.Context, o client.Object) []reconcile.Request {
	ref := metav1.GetControllerOf(o)
	if ref == nil || ref.Kind != "StatefulSet" {
		return nil
	}
	return r.groupsFor(ctx, o.GetNamespace(), ref.Name)
}

func (r *Reconciler) groupsFor(ctx context.Context, ns, sts string) []reconcile.Request {
	var list v1alpha1.RedisReplicationGroupList
	if err := r.Client.List(ctx, &list, client.InNamespace(ns), client.MatchingFields{indexStatefulSet: sts}); err != nil {
		return nil
	}
	reqs := make([]reconcile.Request, 0, len(list.Items))
	for _, g := range list.Items {
		reqs = append(reqs, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&g)})
	}
	return reqs
}
