package group

import (
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/manager"

	"github.com/redis-autoscaler/redis-autoscaler/scaler/api/v1alpha1"
	"github.com/redis-autoscaler/redis-autoscaler/scaler/controller"
)

// SetupWithManager registers the reconciler and its watches: groups, the
// StatefulSets they name and those StatefulSets' pods.
func (r *Reconciler) SetupWithManager(mgr manager.Manager) error {
	if r.conns == nil {
		r.conns = controller.NewConns(nil)
	}
	return controller.Setup(mgr, r.Client, controller.Watch{
		Name:        "redisreplicationgroup",
		For:         &v1alpha1.RedisReplicationGroup{},
		NewList:     func() client.ObjectList { return &v1alpha1.RedisReplicationGroupList{} },
		StatefulSet: func(o client.Object) string { return o.(*v1alpha1.RedisReplicationGroup).Spec.StatefulSetName },
	}, r.conns, r)
}
