package cluster

import (
	"github.com/redis/go-redis/v9"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/manager"

	"github.com/redis-autoscaler/redis-autoscaler/scaler/api/v1alpha1"
	"github.com/redis-autoscaler/redis-autoscaler/scaler/controller"
)

// SetupWithManager registers the cluster reconciler and its watches:
// clusters, the StatefulSets they name and those StatefulSets' pods.
func (r *Reconciler) SetupWithManager(mgr manager.Manager) error {
	if r.conns == nil {
		// Slot moves share a node's client: a pool per node large enough
		// for every concurrent move, and MIGRATE batches may take longer
		// than an INFO (the context bounds each command).
		r.conns = controller.NewConns(func(o *redis.Options) {
			o.PoolSize = 2 + int(v1alpha1.MaxConcurrentMigrations)
			o.ReadTimeout = clusterOpTimeout
		})
	}
	return controller.Setup(mgr, r.Client, controller.Watch{
		Name:        "rediscluster",
		For:         &v1alpha1.RedisCluster{},
		NewList:     func() client.ObjectList { return &v1alpha1.RedisClusterList{} },
		StatefulSet: func(o client.Object) string { return o.(*v1alpha1.RedisCluster).Spec.StatefulSetName },
	}, r.conns, r)
}
