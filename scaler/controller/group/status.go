package group

import (
	"time"

	"context"
	"fmt"

	ctrl "sigs.k8s.io/controller-runtime"

	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/redis-autoscaler/redis-autoscaler/scaler/api/v1alpha1"
	"github.com/redis-autoscaler/redis-autoscaler/scaler/controller"
)

func equalStatus(a, b *v1alpha1.RedisReplicationGroupStatus) bool {
	return equality.Semantic.DeepEqual(a, b)
}

// finish writes the status and chooses when to look again.
func (r *Reconciler) finish(ctx context.Context, g, orig *v1alpha1.RedisReplicationGroup, out *outcome, reconcileErr error) (ctrl.Result, error) {
	g.Status.ObservedGeneration = g.Generation
	g.Status.ReadyReplicas = out.Ready
	gen := g.Generation
	out.SetDegraded(&g.Status.Conditions, gen)
	scaling := out.scaling
	// out.scaling carries no Type (set below): whether anything is
	// scaling is whether a reason was given.
	if scaling.Reason == "" {
		scaling = metav1.Condition{Status: metav1.ConditionFalse, Reason: "Stable"}
	}
	scaling.Type, scaling.ObservedGeneration = v1alpha1.ConditionScaling, gen
	meta.SetStatusCondition(&g.Status.Conditions, scaling)
	ready := metav1.Condition{Type: v1alpha1.ConditionReady, Status: metav1.ConditionFalse, ObservedGeneration: gen}
	switch {
	case g.Status.Master == "" || len(out.Degraded) > 0 && out.Ready == 0:
		ready.Reason, ready.Message = "NoMaster", "no master"
	case len(out.NotReady) > 0:
		ready.Reason, ready.Message = "ReplicasSyncing", "not in sync: "+controller.JoinMax(out.NotReady, 10)
	case out.Ready != g.Status.Replicas:
		ready.Reason, ready.Message = "PodsNotRunning", fmt.Sprintf("%d of %d pods ready", out.Ready, g.Status.Replicas)
	default:
		ready.Status, ready.Reason, ready.Message = metav1.ConditionTrue, "AllInSync", fmt.Sprintf("master %s, %d replicas in sync", g.Status.Master, out.Ready-1)
	}
	if ready.Status != metav1.ConditionTrue {
		out.Soon(controller.RequeueScaling)
	}
	meta.SetStatusCondition(&g.Status.Conditions, ready)
	if err := r.check(ctx, g); err != nil {
		// Deposed meanwhile: the status (its master above all) is the
		// holder's to write.
		return ctrl.Result{RequeueAfter: time.Second}, nil
	}
	return controller.Finish(ctx, r.Client, r.Metrics, g, orig, !equalStatus(&orig.Status, &g.Status), &out.Outcome,
		controller.Resync(r.ResyncInterval), reconcileErr)
}
