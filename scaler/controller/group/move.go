package group

import (
	"context"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/redis-autoscaler/redis-autoscaler/scaler/api/v1alpha1"
	"github.com/redis-autoscaler/redis-autoscaler/scaler/controller"
	"github.com/redis-autoscaler/redis-autoscaler/scaler/redisops"
	"github.com/redis-autoscaler/redis-autoscaler/scaler/topology"
)

// moveFromTerminating switches the master over to the best in-sync replica
// while its pod is being deleted (rolling update, drain, kubectl delete):
// in its grace period it still takes writes, so it is handed over with
// paused writes like a planned scale-down, never abandoned. With no
// replica to take over, it stays master until it is gone.
func (r *Reconciler) moveFromTerminating(ctx context.Context, g *v1alpha1.RedisReplicationGroup, members []*member, master *member, auth redisops.Auth, out *outcome) error {
	out.Soon(controller.RequeueSyncing)
	target, ok := topology.SwitchoverTarget(observations(members), master.obs, master.obs.Address, master.obs.Port, g.Spec.LagLimit(), nil)
	if !ok {
		out.scaling = metav1.Condition{Status: metav1.ConditionTrue, Reason: "MasterTerminating",
			Message: fmt.Sprintf("master %s is being deleted and no replica in sync can take over", master.obs.Name)}
		return nil
	}
	out.scaling = metav1.Condition{Status: metav1.ConditionTrue, Reason: "Switchover",
		Message: fmt.Sprintf("master %s is being deleted; switching over to %s", master.obs.Name, target)}
	return r.handOver(ctx, g, members, master, find(members, target), int32(len(members)), auth, "master pod being deleted")
}

// rollout drives a rolling update of a StatefulSet with updateStrategy
// OnDelete: outdated replicas are deleted one at a time, highest ordinal
// first, each only once the group is settled again; then the master is
// switched over once, to an updated replica, and deleted as a replica.
// With RollingUpdate the StatefulSet controller orders the update itself
// (highest ordinal first, the master wherever it is): still safe, since a
// master being deleted is switched over, but possibly once per pod.
func (r *Reconciler) rollout(ctx context.Context, g *v1alpha1.RedisReplicationGroup, sts *appsv1.StatefulSet, members []*member, master *member, auth redisops.Auth, out *outcome) error {
	if sts.Spec.UpdateStrategy.Type != appsv1.OnDeleteStatefulSetStrategyType || sts.Status.UpdateRevision == "" {
		return nil
	}
	if g.Spec.Replicas != nil && int(*g.Spec.Replicas) != len(members) {
		return nil // a scale is due first
	}
	plan := topology.PlanRollout(observations(members), master.obs.Name, master.obs.Address, master.obs.Port, g.Spec.LagLimit())
	switch {
	case plan.Done:
		return nil
	case plan.Delete != "":
		m := find(members, plan.Delete)
		out.scaling = metav1.Condition{Status: metav1.ConditionTrue, Reason: "RollingUpdate",
			Message: fmt.Sprintf("replacing %s with revision %s", m.obs.Name, sts.Status.UpdateRevision)}
		out.Soon(controller.RequeueScaling)
		if err := r.check(ctx, g); err != nil {
			return err
		}
		uid := m.pod.UID
		err := r.Client.Delete(ctx, m.pod, client.Preconditions{UID: &uid})
		if err != nil && !apierrors.IsNotFound(err) {
			r.Metrics.Errors.WithLabelValues("rollout").Inc()
			return fmt.Errorf("delete %s for the rolling update: %w", m.obs.Name, err)
		}
		r.Metrics.Commands.WithLabelValues("delete_pod").Inc()
		r.Recorder.Eventf(g, corev1.EventTypeNormal, "RollingUpdate", "deleted %s (%s) to update it to revision %s",
			m.obs.Name, roleOf(m, master), sts.Status.UpdateRevision)
		return nil
	case plan.SwitchoverTo != "":
		out.scaling = metav1.Condition{Status: metav1.ConditionTrue, Reason: "RollingUpdate",
			Message: fmt.Sprintf("replicas updated; switching the master over to %s", plan.SwitchoverTo)}
		out.Soon(controller.RequeueSyncing)
		return r.handOver(ctx, g, members, master, find(members, plan.SwitchoverTo), int32(len(members)), auth, "rolling update")
	default:
		out.scaling = metav1.Condition{Status: metav1.ConditionTrue, Reason: "RollingUpdate",
			Message: "rolling update waits: " + plan.Reason}
		out.Soon(controller.RequeueScaling)
		return nil
	}
}

func roleOf(m, master *member) string {
	if m == master {
		return "master"
	}
	return "replica"
}
