package group

import (
	"context"
	"errors"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/redis-autoscaler/redis-autoscaler/scaler/api/v1alpha1"
	"github.com/redis-autoscaler/redis-autoscaler/scaler/controller"
	"github.com/redis-autoscaler/redis-autoscaler/scaler/redisops"
	"github.com/redis-autoscaler/redis-autoscaler/scaler/topology"
)

// scale applies spec.replicas (clamped) to the StatefulSet. A scale-down
// that would remove the master switches over first and lowers the
// StatefulSet in a later reconcile, once the new master is recorded.
// settled: the StatefulSet is at the wanted count with every pod ready.
func (r *Reconciler) scale(ctx context.Context, g *v1alpha1.RedisReplicationGroup, sts *appsv1.StatefulSet, members []*member, master *member, auth redisops.Auth, out *outcome) (settled bool, err error) {
	current := int32(1)
	if sts.Spec.Replicas != nil {
		current = *sts.Spec.Replicas
	}
	desired := topology.DesiredReplicas(g.Spec.Replicas, current, g.Spec.Floor())
	if g.Spec.Sentinel != nil {
		r.restorePriorities(ctx, g, members, desired)
	}
	switch {
	case desired > current:
		if err := r.setReplicas(ctx, g, sts, current, desired); err != nil {
			return false, err
		}
		r.Recorder.Eventf(g, corev1.EventTypeNormal, "ScaledUp", "statefulset %s: %d -> %d replicas", sts.Name, current, desired)
		out.scaling = metav1.Condition{Status: metav1.ConditionTrue, Reason: "ScalingUp", Message: fmt.Sprintf("%d -> %d", current, desired)}
		out.Soon(controller.RequeueScaling)
		return false, nil
	case desired < current:
		plan := topology.PlanScaleDown(observations(members), master.obs.Name, master.obs.Address, master.obs.Port, desired, g.Spec.LagLimit())
		logf.FromContext(ctx).V(1).Info("scale-down plan", "from", current, "to", desired, "plan", plan.Summary())
		switch {
		case plan.Safe:
			if err := r.setReplicas(ctx, g, sts, current, desired); err != nil {
				return false, err
			}
			r.Recorder.Eventf(g, corev1.EventTypeNormal, "ScaledDown", "statefulset %s: %d -> %d replicas (master %s stays)", sts.Name, current, desired, master.obs.Name)
			out.scaling = metav1.Condition{Status: metav1.ConditionTrue, Reason: "ScalingDown", Message: fmt.Sprintf("%d -> %d", current, desired)}
			out.Soon(controller.RequeueScaling)
			return false, nil
		case plan.SwitchoverTo != "":
			out.scaling = metav1.Condition{Status: metav1.ConditionTrue, Reason: "Switchover",
				Message: fmt.Sprintf("master %s is removed by %d -> %d; switching over to %s", master.obs.Name, current, desired, plan.SwitchoverTo)}
			out.Soon(controller.RequeueSyncing)
			return false, r.handOver(ctx, g, members, master, find(members, plan.SwitchoverTo), desired, auth, "before scale-down")
		default:
			out.scaling = metav1.Condition{Status: metav1.ConditionTrue, Reason: "ScaleDownBlocked",
				Message: fmt.Sprintf("%d -> %d waits: %s", current, desired, plan.Reason)}
			out.Soon(controller.RequeueScaling)
			return false, nil
		}
	}
	if sts.Status.Replicas != desired || sts.Status.ReadyReplicas != desired {
		out.scaling = metav1.Condition{Status: metav1.ConditionTrue, Reason: "PodsChanging",
			Message: fmt.Sprintf("%d of %d pods ready", sts.Status.ReadyReplicas, desired)}
		out.Soon(controller.RequeueScaling)
		return false, nil
	}
	if g.Spec.Sentinel != nil {
		r.sentinelResetIfStale(ctx, g, members, master)
	}
	return true, nil
}

// handOver moves the master to target before its pod goes away: through
// Sentinel in Sentinel mode (Sentinel picks the replica; pods with an
// ordinal of keep or more are made ineligible first), otherwise with the
// scaler's own switchover.
func (r *Reconciler) handOver(ctx context.Context, g *v1alpha1.RedisReplicationGroup, members []*member, master, target *member, keep int32, auth redisops.Auth, why string) error {
	if g.Spec.Sentinel != nil {
		return r.sentinelSwitchover(ctx, g, members, master, keep)
	}
	return r.switchover(ctx, g, members, master, target, auth, why)
}

// setReplicas sizes the group's StatefulSet and counts the scale event.
func (r *Reconciler) setReplicas(ctx context.Context, g *v1alpha1.RedisReplicationGroup, sts *appsv1.StatefulSet, from, n int32) error {
	if err := r.check(ctx, g); err != nil {
		return err
	}
	if err := controller.SetReplicas(ctx, r.Client, r.Metrics, sts, n); err != nil {
		return err
	}
	direction := "up"
	if n < from {
		direction = "down"
	}
	r.Metrics.ScaleEvents.WithLabelValues(g.Namespace, g.Name, direction).Inc()
	return nil
}

// switchover moves the master to target, then records it in the status
// right away: the next reconcile lowers the StatefulSet, and must know the
// pod being removed is no longer the master.
func (r *Reconciler) switchover(ctx context.Context, g *v1alpha1.RedisReplicationGroup, members []*member, master, target *member, auth redisops.Auth, why string) error {
	var others []redisops.Node
	for _, m := range members {
		if m != master && m != target && m.obs.Reachable {
			others = append(others, redisops.Node{Name: m.obs.Name, Client: m.client})
		}
	}
	// A replica that must sync anew (one still in its first sync when the
	// master's pod went, or one just re-created) does so from the target
	// after the switchover; with Redis' default delay WAIT 1 would find no
	// acknowledging replica for 5 s (seen in a plain StatefulSet's rollout).
	r.startSyncsPromptly(ctx, g, target, "switchover target")
	res, err := redisops.Switchover(ctx,
		redisops.Node{Name: master.obs.Name, Client: master.client, Host: master.obs.Address, Port: master.obs.Port},
		redisops.Node{Name: target.obs.Name, Client: target.client},
		target.obs.Address, target.obs.Port, others,
		redisops.SwitchoverOptions{PauseTimeout: g.Spec.PauseTimeout(), Auth: auth, AfterPromote: r.AfterPromote, BeforePause: r.BeforeSwitchover,
			Proceed: func(ctx context.Context) error { return r.check(ctx, g) }})
	r.Metrics.Commands.WithLabelValues("client_pause").Inc()
	if res.WritePause > 0 {
		r.Metrics.WritePauseSeconds.WithLabelValues(g.Namespace, g.Name).Observe(res.WritePause.Seconds())
	}
	if err != nil {
		result := "error"
		if errors.Is(err, redisops.ErrCatchUpTimeout) || errors.Is(err, redisops.ErrPauseExpiring) {
			result = "aborted"
		}
		r.Metrics.Switchovers.WithLabelValues(g.Namespace, g.Name, result).Inc()
		r.Recorder.Eventf(g, corev1.EventTypeWarning, "SwitchoverFailed", "switchover %s -> %s (write pause %s): %v", master.obs.Name, target.obs.Name, res.WritePause, err)
		return fmt.Errorf("switchover %s -> %s: %w", master.obs.Name, target.obs.Name, err)
	}
	r.Metrics.Switchovers.WithLabelValues(g.Namespace, g.Name, "ok").Inc()
	now := metav1.Now()
	g.Status.LastSwitchoverTime = &now
	r.Metrics.Commands.WithLabelValues("replicaof_no_one").Inc()
	r.Metrics.Commands.WithLabelValues("replicaof").Add(float64(1 + len(others)))
	r.Recorder.Eventf(g, corev1.EventTypeNormal, "Switchover",
		"CLIENT PAUSE WRITE on %s, REPLICAOF NO ONE on %s at offset %d, %d pods re-pointed; writes paused %s (%s)",
		master.obs.Name, target.obs.Name, res.Offset, 1+len(others)-len(res.RepointErrors), res.WritePause.Round(10_000), why)
	for name, e := range res.RepointErrors {
		r.Recorder.Eventf(g, corev1.EventTypeWarning, "AttachFailed", "re-point %s to %s: %v", name, target.obs.Name, e)
	}
	g.Status.Master = target.obs.Name
	g.Status.MasterRunID = target.obs.RunID
	return nil
}
