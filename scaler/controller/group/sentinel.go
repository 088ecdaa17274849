package group

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/redis/go-redis/v9"

	"github.com/redis-autoscaler/redis-autoscaler/scaler/api/v1alpha1"
	"github.com/redis-autoscaler/redis-autoscaler/scaler/credentials"
	"github.com/redis-autoscaler/redis-autoscaler/scaler/redisops"
)

// errFailoverInProgress: Sentinel is failing over; hands off the topology.
var errFailoverInProgress = errors.New("sentinel failover in progress")

// sentinelClient connects to the group's Sentinel (with its password
// when spec.sentinel.passwordSecretRef names one; no TLS).
func (r *Reconciler) sentinelClient(ctx context.Context, g *v1alpha1.RedisReplicationGroup) (*redis.Client, error) {
	host, portStr, err := net.SplitHostPort(g.Spec.Sentinel.Address)
	if err != nil {
		return nil, fmt.Errorf("sentinel address %q: %w", g.Spec.Sentinel.Address, err)
	}
	port, err := strconv.Atoi(portStr)
	if err != nil {
		return nil, fmt.Errorf("sentinel address %q: %w", g.Spec.Sentinel.Address, err)
	}
	var auth redisops.Auth
	if ref := g.Spec.Sentinel.PasswordSecretRef; ref != nil {
		pw, err := credentials.Password(ctx, r.APIReader, g.Namespace, ref)
		if err != nil {
			return nil, fmt.Errorf("sentinel password: %w", err)
		}
		auth.Password = pw
	}
	return r.conns.Get(host, port, auth, credentials.TLS{Key: "sentinel"}), nil
}

// sentinelMaster is the pod Sentinel names as master (by pod IP or address).
func (r *Reconciler) sentinelMaster(ctx context.Context, g *v1alpha1.RedisReplicationGroup, members []*member) (*member, error) {
	sc, err := r.sentinelClient(ctx, g)
	if err != nil {
		return nil, err
	}
	inProgress, err := redisops.SentinelFailoverInProgress(ctx, sc, g.Spec.Sentinel.MasterName)
	if err != nil {
		return nil, err
	}
	if inProgress {
		// Re-attaching the replica Sentinel is promoting would undo its
		// failover: wait until Sentinel names the new master.
		return nil, errFailoverInProgress
	}
	host, port, err := redisops.SentinelMaster(ctx, sc, g.Spec.Sentinel.MasterName)
	if err != nil {
		return nil, err
	}
	for _, m := range members {
		if (m.obs.Address == host || m.pod.Status.PodIP == host) && m.obs.Port == port && m.obs.Reachable {
			if !m.obs.IsMaster() {
				// Sentinel's master restarted as a replica (it starts as one
				// of a placeholder, so it cannot wipe its replicas). It
				// answers pings, so Sentinel would wait down-after plus 20 s
				// before failing over: ask now. Attaching anyone to it
				// meanwhile would only chain replicas behind a replica.
				err := redisops.SentinelFailover(ctx, sc, g.Spec.Sentinel.MasterName)
				switch {
				case err == nil:
					r.Metrics.Commands.WithLabelValues("sentinel_failover").Inc()
					r.Recorder.Eventf(g, corev1.EventTypeWarning, "SentinelFailover",
						"Sentinel names %s as master, but it is a replica (restarted?): SENTINEL FAILOVER %s", m.obs.Name, g.Spec.Sentinel.MasterName)
				case !strings.Contains(err.Error(), "INPROG"):
					return nil, err
				}
				return nil, errFailoverInProgress
			}
			return m, nil
		}
	}
	return nil, fmt.Errorf("sentinel master %s:%d is not a reachable pod of the group", host, port)
}

// sentinelSwitchover asks Sentinel to fail over, after making the pods
// being removed ineligible (replica-priority 0) so Sentinel picks a
// survivor.
func (r *Reconciler) sentinelSwitchover(ctx context.Context, g *v1alpha1.RedisReplicationGroup, members []*member, master *member, desired int32) error {
	sc, err := r.sentinelClient(ctx, g)
	if err != nil {
		return err
	}
	var leaving []*member
	for _, m := range members {
		if m.obs.Reachable && m.obs.Ordinal >= int(desired) && m != master {
			if err := r.makeIneligible(ctx, g, m); err != nil {
				return err
			}
			leaving = append(leaving, m)
		}
	}
	if len(leaving) > 0 {
		// Sentinel uses the priority it last read from the replica's INFO
		// (every 10 s): fail over only once it knows, or it may promote a
		// pod that is about to be removed.
		prios, err := redisops.SentinelReplicaPriorities(ctx, sc, g.Spec.Sentinel.MasterName)
		if err != nil {
			return err
		}
		for _, m := range leaving {
			if p, ok := prios[net.JoinHostPort(m.pod.Status.PodIP, strconv.Itoa(m.obs.Port))]; ok && p != 0 {
				return nil // not yet; the reconcile is requeued
			}
		}
	}
	if err := redisops.SentinelFailover(ctx, sc, g.Spec.Sentinel.MasterName); err != nil {
		if strings.Contains(err.Error(), "INPROG") {
			// Asked in an earlier reconcile; Sentinel is on it.
			return nil
		}
		r.Metrics.Switchovers.WithLabelValues(g.Namespace, g.Name, "error").Inc()
		r.Recorder.Eventf(g, corev1.EventTypeWarning, "SwitchoverFailed", "SENTINEL FAILOVER %s: %v", g.Spec.Sentinel.MasterName, err)
		return err
	}
	r.Metrics.Switchovers.WithLabelValues(g.Namespace, g.Name, "ok").Inc()
	now := metav1.Now()
	g.Status.LastSwitchoverTime = &now
	r.Metrics.Commands.WithLabelValues("sentinel_failover").Inc()
	r.Recorder.Eventf(g, corev1.EventTypeNormal, "Switchover", "SENTINEL FAILOVER %s: master %s is removed by the scale-down", g.Spec.Sentinel.MasterName, master.obs.Name)
	return nil
}

// sentinelResetIfStale sends SENTINEL RESET when Sentinel still counts
// replicas that the scale-down removed.
func (r *Reconciler) sentinelResetIfStale(ctx context.Context, g *v1alpha1.RedisReplicationGroup, members []*member, master *member) {
	sc, err := r.sentinelClient(ctx, g)
	if err != nil {
		return
	}
	known, err := redisops.SentinelReplicaCount(ctx, sc, g.Spec.Sentinel.MasterName)
	if err != nil {
		r.Metrics.Errors.WithLabelValues("sentinel").Inc()
		return
	}
	replicas := 0
	for _, m := range members {
		if m != master && m.obs.Reachable {
			replicas++
		}
	}
	if known <= replicas {
		return
	}
	if err := redisops.SentinelReset(ctx, sc, g.Spec.Sentinel.MasterName); err != nil {
		r.Metrics.Errors.WithLabelValues("sentinel").Inc()
		return
	}
	r.Metrics.Commands.WithLabelValues("sentinel_reset").Inc()
	r.Recorder.Eventf(g, corev1.EventTypeNormal, "SentinelReset", "SENTINEL RESET %s: it knew %d replicas, the group has %d", g.Spec.Sentinel.MasterName, known, replicas)
}

// AnnotationReplicaPriority keeps a pod's replica-priority from before the
// scaler set it to 0 for a scale-down, so a cancelled scale-down can give
// it back.
const AnnotationReplicaPriority = "redisautoscaler.io/replica-priority"

// makeIneligible sets replica-priority 0 on a pod a scale-down removes, so
// Sentinel does not promote it; its own value is kept in an annotation
// first (a scaler restart in between still finds it).
func (r *Reconciler) makeIneligible(ctx context.Context, g *v1alpha1.RedisReplicationGroup, m *member) error {
	prio, err := redisops.ReplicaPriority(ctx, m.client)
	if err != nil {
		return fmt.Errorf("%s: %w", m.obs.Name, err)
	}
	if prio == "0" {
		return nil
	}
	if _, saved := m.pod.Annotations[AnnotationReplicaPriority]; !saved {
		patch := client.MergeFrom(m.pod.DeepCopy())
		if m.pod.Annotations == nil {
			m.pod.Annotations = map[string]string{}
		}
		m.pod.Annotations[AnnotationReplicaPriority] = prio
		if err := r.Client.Patch(ctx, m.pod, patch); err != nil {
			return fmt.Errorf("annotate %s with its replica-priority: %w", m.obs.Name, err)
		}
	}
	if err := redisops.SetReplicaPriority(ctx, m.client, "0"); err != nil {
		return fmt.Errorf("%s: %w", m.obs.Name, err)
	}
	r.Metrics.Commands.WithLabelValues("config_set").Inc()
	r.Recorder.Eventf(g, corev1.EventTypeNormal, "ReplicaPriority", "CONFIG SET replica-priority 0 on %s (was %s): the scale-down removes it, Sentinel must not promote it", m.obs.Name, prio)
	return nil
}

// restorePriorities gives replica-priority back to pods that stay after
// all (a scale-down cancelled or lowered less): they were made ineligible
// for a removal that is no longer planned.
func (r *Reconciler) restorePriorities(ctx context.Context, g *v1alpha1.RedisReplicationGroup, members []*member, desired int32) {
	for _, m := range members {
		prio, saved := m.pod.Annotations[AnnotationReplicaPriority]
		if !saved || m.obs.Ordinal >= int(desired) || !m.obs.Reachable {
			continue
		}
		if err := redisops.SetReplicaPriority(ctx, m.client, prio); err != nil {
			r.Metrics.Errors.WithLabelValues("config").Inc()
			r.Recorder.Eventf(g, corev1.EventTypeWarning, "ReplicaPriorityRestoreFailed", "%s: %v", m.obs.Name, err)
			continue
		}
		patch := client.MergeFrom(m.pod.DeepCopy())
		delete(m.pod.Annotations, AnnotationReplicaPriority)
		if err := r.Client.Patch(ctx, m.pod, patch); err != nil {
			r.Metrics.Errors.WithLabelValues("label").Inc()
			continue // restored; the annotation is removed next time
		}
		r.Metrics.Commands.WithLabelValues("config_set").Inc()
		r.Recorder.Eventf(g, corev1.EventTypeNormal, "ReplicaPriorityRestored",
			"CONFIG SET replica-priority %s on %s: it stays in the group (scale-down cancelled)", prio, m.obs.Name)
	}
}
