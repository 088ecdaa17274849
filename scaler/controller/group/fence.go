package group

import (
	"context"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/redis-autoscaler/redis-autoscaler/scaler/api/v1alpha1"
	"github.com/redis-autoscaler/redis-autoscaler/scaler/controller"
)

// recoveryWindow: how long after the API failed a Lease renewal the
// group, its StatefulSet and pods are read uncached (the manager's
// informers reconnect with back-off of up to 30 s, then relist).
const recoveryWindow = 2 * time.Minute

// leaseKey is the group's Lease (controller.Fence).
func leaseKey(g *v1alpha1.RedisReplicationGroup) client.ObjectKey {
	return controller.LeaseKey("RedisReplicationGroup", client.ObjectKeyFromObject(g))
}

// check proves this scaler still holds the group's Lease; run it right
// before each step that changes roles (promotion, REPLICAOF, a
// switchover's steps, the StatefulSet's size or partition, pod deletion,
// role labels). Without a Fence (reconcilers built by unit tests) it
// passes.
func (r *Reconciler) check(ctx context.Context, g *v1alpha1.RedisReplicationGroup) error {
	if r.Fence == nil {
		return nil
	}
	return r.Fence.Check(ctx, leaseKey(g))
}
