package controller

import (
	"context"
	"errors"
	"fmt"

	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/redis-autoscaler/redis-autoscaler/scaler/api/v1alpha1"
)

// label marks each wanted pod's role (master: owns slots or leads a new
// shard; replica) and whether it is in sync, as for groups, so Services
// and the adapter's per-master aggregation can select them.
func (s *clusterStep) label(ctx context.Context) {
	lead := map[*cnode]bool{}
	for _, m := range s.masters {
		lead[m] = true
	}
	for _, n := range s.nodes {
		role, synced := "", ""
		switch {
		case !n.reachable():
			role, synced = n.pod.Labels[LabelRole], n.pod.Labels[LabelSynced]
			if role == RoleMaster {
				role, synced = "", ""
			}
		case n.owner() || lead[n]:
			role = RoleMaster
		case n.me.MasterID != "":
			role, synced = RoleReplica, "false"
			if n.inSync {
				synced = "true"
			}
		}
		if n.pod.Labels[LabelRole] == role && n.pod.Labels[LabelSynced] == synced {
			continue
		}
		patch := client.MergeFrom(n.pod.DeepCopy())
		if n.pod.Labels == nil {
			n.pod.Labels = map[string]string{}
		}
		setOrDelete(n.pod.Labels, LabelRole, role)
		setOrDelete(n.pod.Labels, LabelSynced, synced)
		if err := s.r.Client.Patch(ctx, n.pod, patch); err != nil && !apierrors.IsNotFound(err) {
			s.r.Metrics.Errors.WithLabelValues("label").Inc()
			s.out.degrade("LabelFailed", fmt.Sprintf("%s: %v", n.name(), err))
		}
	}
}

// finish writes the conditions and status and chooses when to look again.
func (r *ClusterReconciler) finish(ctx context.Context, rc, orig *v1alpha1.RedisCluster, out *clusterOutcome, reconcileErr error) (ctrl.Result, error) {
	st := &rc.Status
	gen := rc.Generation
	st.ObservedGeneration = gen
	if len(out.degraded) > 0 {
		meta.SetStatusCondition(&st.Conditions, metav1.Condition{Type: v1alpha1.ConditionDegraded, Status: metav1.ConditionTrue,
			Reason: out.reason, Message: joinMax(out.degraded, 5), ObservedGeneration: gen})
	} else {
		meta.SetStatusCondition(&st.Conditions, metav1.Condition{Type: v1alpha1.ConditionDegraded, Status: metav1.ConditionFalse,
			Reason: "AsExpected", ObservedGeneration: gen})
	}
	resh := out.resharding
	if resh.Reason == "" {
		resh = metav1.Condition{Status: metav1.ConditionFalse, Reason: "Stable"}
	}
	resh.Type, resh.ObservedGeneration = v1alpha1.ConditionResharding, gen
	meta.SetStatusCondition(&st.Conditions, resh)

	want := rc.Spec.WantShards(st.Replicas)
	ready := metav1.Condition{Type: v1alpha1.ConditionReady, Status: metav1.ConditionFalse, ObservedGeneration: gen}
	switch {
	case st.Shards == 0:
		ready.Reason, ready.Message = "NotFormed", "no shard owns slots"
	case !out.clusterOK:
		ready.Reason, ready.Message = "ClusterNotOK", "a wanted node is unreachable or reports cluster_state other than ok"
	case resh.Status == metav1.ConditionTrue:
		ready.Reason, ready.Message = "Resharding", resh.Message
	case int(st.ReadyShards) != want || int(st.Shards) != want:
		ready.Reason, ready.Message = "ShardsNotReady", fmt.Sprintf("%d of %d shards ready", st.ReadyShards, want)
	case int(st.Replicas) != want*(1+rc.Spec.PerShard()):
		ready.Reason, ready.Message = "PodsNotRunning", fmt.Sprintf("%d pods, want %d", st.Replicas, want*(1+rc.Spec.PerShard()))
	default:
		ready.Status, ready.Reason = metav1.ConditionTrue, "Balanced"
		ready.Message = fmt.Sprintf("%d shards, even slots, %d replicas each in sync", want, rc.Spec.PerShard())
	}
	if ready.Status != metav1.ConditionTrue {
		out.soon(requeueScaling)
	}
	meta.SetStatusCondition(&st.Conditions, ready)

	var statusErr error
	if !equality.Semantic.DeepEqual(&orig.Status, st) {
		if err := r.Client.Status().Patch(ctx, rc, client.MergeFrom(orig)); err != nil && !apierrors.IsNotFound(err) {
			r.Metrics.Errors.WithLabelValues("status").Inc()
			statusErr = fmt.Errorf("update status: %w", err)
		}
	}
	requeue := out.requeue
	if requeue == 0 {
		requeue = r.resync()
	}
	return ctrl.Result{RequeueAfter: requeue}, errors.Join(reconcileErr, statusErr)
}
