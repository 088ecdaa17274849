package cluster

import (
	"context"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/redis-autoscaler/redis-autoscaler/scaler/api/v1alpha1"
	"github.com/redis-autoscaler/redis-autoscaler/scaler/controller"
	"github.com/redis-autoscaler/redis-autoscaler/scaler/topology/clusterplan"
)

// leaseKey is the cluster's Lease (controller.Fence).
func leaseKey(rc *v1alpha1.RedisCluster) client.ObjectKey {
	return controller.LeaseKey("RedisCluster", client.ObjectKeyFromObject(rc))
}

// check proves this scaler still holds the cluster's Lease (nil Fence:
// unit tests, no fencing).
func (r *Reconciler) check(ctx context.Context, rc *v1alpha1.RedisCluster) error {
	if r.Fence == nil {
		return nil
	}
	return r.Fence.Check(ctx, leaseKey(rc))
}

// changes reports whether a step changes roles, slots, membership or the
// StatefulSet (and so runs only under the Lease); waits and reports do not.
func changes(k clusterplan.Kind) bool {
	switch k {
	case clusterplan.WaitForPods, clusterplan.NotReformed, clusterplan.NotEmpty, clusterplan.WaitForFailover,
		clusterplan.PlanFailed, clusterplan.WaitForReplicas, clusterplan.Resharded, clusterplan.RolloutWaits:
		return false
	}
	return true
}
