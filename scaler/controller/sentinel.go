package controller

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/redis/go-redis/v9"

	"github.com/redis-autoscaler/redis-autoscaler/scaler/api/v1alpha1"
	"github.com/redis-autoscaler/redis-autoscaler/scaler/redisops"
)

// errFailoverInProgress: Sentinel is failing over; hands off the topology.
var errFailoverInProgress = errors.New("sentinel failover in progress")

// sentinelClient connects to the group's Sentinel (no auth, no TLS).
func (r *Reconciler) sentinelClient(g *v1alpha1.RedisReplicationGroup) (*redis.Client, error) {
	host, portStr, err := net.SplitHostPort(g.Spec.Sentinel.Address)
	if err != nil {
		return nil, fmt.Errorf("sentinel address %q: %w", g.Spec.Sentinel.Address, err)
	}
	port, err := strconv.Atoi(portStr)
	if err != nil {
		return nil, fmt.Errorf("sentinel address %q: %w", g.Spec.Sentinel.Address, err)
	}
	return r.conns.get(host, port, redisops.Auth{}, nil, "sentinel"), nil
}

// sentinelMaster is the pod Sentinel names as master (by pod IP or address).
func (r *Reconciler) sentinelMaster(ctx context.Context, g *v1alpha1.RedisReplicationGroup, members []*member) (*member, error) {
	sc, err := r.sentinelClient(g)
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
			return m, nil
		}
	}
	return nil, fmt.Errorf("sentinel master %s:%d is not a reachable pod of the group", host, port)
}

// sentinelSwitchover asks Sentinel to fail over, after making the pods
// being removed ineligible (replica-priority 0) so Sentinel picks a
// survivor.
func (r *Reconciler) sentinelSwitchover(ctx context.Context, g *v1alpha1.RedisReplicationGroup, members []*member, master *member, desired int32) error {
	sc, err := r.sentinelClient(g)
	if err != nil {
		return err
	}
	var leaving []*member
	for _, m := range members {
		if m.obs.Reachable && m.obs.Ordinal >= int(desired) && m != master {
			if err := m.client.Do(ctx, "CONFIG", "SET", "replica-priority", "0").Err(); err != nil {
				return fmt.Errorf("replica-priority 0 on %s: %w", m.obs.Name, err)
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
		r.Metrics.Switchovers.WithLabelValues("error").Inc()
		r.Recorder.Eventf(g, corev1.EventTypeWarning, "SwitchoverFailed", "SENTINEL FAILOVER %s: %v", g.Spec.Sentinel.MasterName, err)
		return err
	}
	r.Metrics.Switchovers.WithLabelValues("ok").Inc()
	r.Metrics.Commands.WithLabelValues("sentinel_failover").Inc()
	r.Recorder.Eventf(g, corev1.EventTypeNormal, "Switchover", "SENTINEL FAILOVER %s: master %s is removed by the scale-down", g.Spec.Sentinel.MasterName, master.obs.Name)
	return nil
}

// sentinelResetIfStale sends SENTINEL RESET when Sentinel still counts
// replicas that the scale-down removed.
func (r *Reconciler) sentinelResetIfStale(ctx context.Context, g *v1alpha1.RedisReplicationGroup, members []*member, master *member) {
	sc, err := r.sentinelClient(g)
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
