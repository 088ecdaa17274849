package group

import (
	"context"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/redis-autoscaler/redis-autoscaler/scaler/api/v1alpha1"
	"github.com/redis-autoscaler/redis-autoscaler/scaler/controller"
	"github.com/redis-autoscaler/redis-autoscaler/scaler/redisops"
	"github.com/redis-autoscaler/redis-autoscaler/scaler/topology"
)

// holdPartition raises a RollingUpdate partition that would let the
// StatefulSet controller update several pods in a row, before anything
// else: also while no master is elected or its pod is going.
func (r *Reconciler) holdPartition(ctx context.Context, g *v1alpha1.RedisReplicationGroup, sts *appsv1.StatefulSet, members []*member, out *outcome) {
	if !controller.PartitionPaced(sts) {
		return
	}
	cur := controller.Partition(sts)
	p, ok := topology.HoldPartition(observations(members), cur)
	if !ok {
		return
	}
	if err := r.check(ctx, g); err != nil {
		out.Degrade("LeaseLost", err.Error())
		return
	}
	if err := controller.SetPartition(ctx, r.Client, r.Metrics, sts, p); err != nil {
		out.Degrade("RolloutFailed", err.Error())
		return
	}
	r.Recorder.Eventf(g, corev1.EventTypeNormal, "RollingUpdate", "holding the update of statefulset %s at partition %d: the scaler paces it", sts.Name, p)
}

// pacePartition paces a rolling update of a StatefulSet with
// updateStrategy RollingUpdate through its partition (see
// topology.PlanPartition): the StatefulSet controller still replaces the
// pods, one at a time when the scaler lowers the partition, and only from
// a settled group. mayStep: the group is settled and no scale is due, so
// the partition may go down or the master move; otherwise it may only be
// held.
func (r *Reconciler) pacePartition(ctx context.Context, g *v1alpha1.RedisReplicationGroup, sts *appsv1.StatefulSet, members []*member, master *member, auth redisops.Auth, out *outcome, mayStep bool) error {
	if !controller.PartitionPaced(sts) {
		return nil
	}
	cur := controller.Partition(sts)
	want := 1
	if sts.Spec.Replicas != nil {
		want = int(*sts.Spec.Replicas)
	}
	plan := topology.PlanPartition(observations(members), want, master.obs.Name, master.obs.Address, master.obs.Port, g.Spec.LagLimit(), cur)
	if !mayStep && (plan.Partition < cur || plan.SwitchoverTo != "") {
		plan = topology.PartitionPlan{Partition: cur, Reason: "waiting for the group to settle"}
	}
	rolling := false
	for _, m := range members {
		rolling = rolling || m.obs.Outdated
	}
	// The Scaling condition says where a rollout is, unless a scale or
	// switchover already said more.
	if rolling && out.scaling.Reason == "" {
		out.scaling = metav1.Condition{Status: metav1.ConditionTrue, Reason: "RollingUpdate",
			Message: fmt.Sprintf("revision %s, partition %d", sts.Status.UpdateRevision, plan.Partition)}
	}
	if !plan.Done {
		out.Soon(controller.RequeueScaling)
	}
	if plan.Partition != cur {
		if err := r.check(ctx, g); err != nil {
			return err
		}
		if err := controller.SetPartition(ctx, r.Client, r.Metrics, sts, plan.Partition); err != nil {
			return err
		}
		switch {
		case plan.Partition < cur:
			next := members[0]
			for _, m := range members {
				if m.obs.Ordinal == int(plan.Partition) {
					next = m
				}
			}
			r.Recorder.Eventf(g, corev1.EventTypeNormal, "RollingUpdate", "partition %d: the StatefulSet controller updates %s (%s) to revision %s",
				plan.Partition, next.obs.Name, roleOf(next, master), sts.Status.UpdateRevision)
		case plan.Done && cur != 0:
			r.Recorder.Eventf(g, corev1.EventTypeNormal, "RollingUpdate", "every pod runs revision %s; partition held at %d until the next update",
				sts.Status.UpdateRevision, plan.Partition)
		}
	}
	switch {
	case plan.SwitchoverTo != "":
		out.scaling.Message = fmt.Sprintf("switching the master over to %s before its pod is updated", plan.SwitchoverTo)
		out.Soon(controller.RequeueSyncing)
		return r.handOver(ctx, g, members, master, find(members, plan.SwitchoverTo), int32(len(members)), auth, "rolling update")
	case plan.Reason != "" && out.scaling.Reason == "RollingUpdate":
		out.scaling.Message += ": " + plan.Reason
	}
	return nil
}
