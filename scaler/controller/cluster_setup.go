package controller

import (
	"context"

	"github.com/redis/go-redis/v9"
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

// indexClusterStatefulSet indexes RedisClusters by spec.statefulSetName.
const indexClusterStatefulSet = "spec.statefulSetName"

// SetupWithManager registers the cluster reconciler and its watches:
// clusters, the StatefulSets they name and those StatefulSets' pods.
func (r *ClusterReconciler) SetupWithManager(mgr manager.Manager) error {
	if r.conns == nil {
		// Slot moves share a node's client: a pool per node large enough
		// for every concurrent move, and MIGRATE batches may take longer
		// than an INFO (the context bounds each command).
		r.conns = newConns()
		r.conns.edit = func(o *redis.Options) {
			o.PoolSize = 2 + int(v1alpha1.MaxConcurrentMigrations)
			o.ReadTimeout = clusterOpTimeout
		}
	}
	if err := mgr.GetFieldIndexer().IndexField(context.Background(), &v1alpha1.RedisCluster{}, indexClusterStatefulSet,
		func(o client.Object) []string {
			return []string{o.(*v1alpha1.RedisCluster).Spec.StatefulSetName}
		}); err != nil {
		return err
	}
	if err := mgr.Add(r.conns.sweeper()); err != nil {
		return err
	}
	return ctrl.NewControllerManagedBy(mgr).
		For(&v1alpha1.RedisCluster{}).
		Watches(&appsv1.StatefulSet{}, handler.EnqueueRequestsFromMapFunc(r.clustersOf)).
		Watches(&corev1.Pod{}, handler.EnqueueRequestsFromMapFunc(r.clustersOfPod)).
		Named("rediscluster").
		WithOptions(crcontroller.Options{MaxConcurrentReconciles: 4}).
		Complete(r)
}

func (r *ClusterReconciler) clustersOf(ctx context.Context, o client.Object) []reconcile.Request {
	return r.clustersFor(ctx, o.GetNamespace(), o.GetName())
}

func (r *ClusterReconciler) clustersOfPod(ctx context.Context, o client.Object) []reconcile.Request {
	ref := metav1.GetControllerOf(o)
	if ref == nil || ref.Kind != "StatefulSet" {
		return nil
	}
	return r.clustersFor(ctx, o.GetNamespace(), ref.Name)
}

func (r *ClusterReconciler) clustersFor(ctx context.Context, ns, sts string) []reconcile.Request {
	var list v1alpha1.RedisClusterList
	if err := r.Client.List(ctx, &list, client.InNamespace(ns), client.MatchingFields{indexClusterStatefulSet: sts}); err != nil {
		return nil
	}
	reqs := make([]reconcile.Request, 0, len(list.Items))
	for _, c := range list.Items {
		reqs = append(reqs, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&c)})
	}
	return reqs
}
