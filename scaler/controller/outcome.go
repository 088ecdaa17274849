// Package controller is the kit the scaler's two reconcilers share (the
// RedisReplicationGroup reconciler in package group, the RedisCluster
// reconciler in package cluster): what one reconcile saw and when to look
// again, the pods of a StatefulSet, a cache of Redis connections, the
// role labels on pods, the StatefulSet's replica count, the status patch
// that ends a reconcile and the watches both set up.
package controller

import (
	"fmt"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/redis-autoscaler/redis-autoscaler/scaler/api/v1alpha1"
	"github.com/redis-autoscaler/redis-autoscaler/scaler/metrics"
)

// How soon to look again.
const (
	// RequeueSyncing: something is about to change (a sync, an election).
	RequeueSyncing = 100 * time.Millisecond
	// RequeueScaling: pods are coming or going.
	RequeueScaling = 500 * time.Millisecond
	// RequeueDegraded: something failed; try again.
	RequeueDegraded = time.Second
)

// DefaultResync is how often a settled object is looked at again when
// the reconciler sets no interval: Redis changes without Kubernetes
// events.
const DefaultResync = 10 * time.Second

// Resync is interval, or DefaultResync when it is not positive.
func Resync(interval time.Duration) time.Duration {
	if interval > 0 {
		return interval
	}
	return DefaultResync
}

// Outcome collects what one reconcile saw and did, for status and requeue.
type Outcome struct {
	// Requeue is the soonest look again asked for (0: none).
	Requeue time.Duration
	// Ready counts the pods (groups) or shards (clusters) ready.
	Ready int32
	// NotReady says what is not ready yet and why.
	NotReady []string
	// Degraded holds the messages of what went wrong; Reason is the first's.
	Degraded []string
	Reason   string
}

// Soon asks to look again within d.
func (o *Outcome) Soon(d time.Duration) {
	if o.Requeue == 0 || d < o.Requeue {
		o.Requeue = d
	}
}

// Degrade records a problem (the first reason names the condition) and
// asks to look again.
func (o *Outcome) Degrade(reason, msg string) {
	if o.Reason == "" {
		o.Reason = reason
	}
	o.Degraded = append(o.Degraded, msg)
	o.Soon(RequeueDegraded)
}

// SetDegraded sets the Degraded condition from what the reconcile saw.
func (o *Outcome) SetDegraded(conditions *[]metav1.Condition, generation int64) {
	if len(o.Degraded) > 0 {
		meta.SetStatusCondition(conditions, metav1.Condition{Type: v1alpha1.ConditionDegraded, Status: metav1.ConditionTrue,
			Reason: o.Reason, Message: JoinMax(o.Degraded, 5), ObservedGeneration: generation})
		return
	}
	meta.SetStatusCondition(conditions, metav1.Condition{Type: v1alpha1.ConditionDegraded, Status: metav1.ConditionFalse,
		Reason: "AsExpected", ObservedGeneration: generation})
}

// Timed runs one reconcile and counts it by result: error, requeue
// (sooner than the resync interval) or ok.
func Timed(m *metrics.Metrics, resync time.Duration, reconcile func() (ctrl.Result, error)) (ctrl.Result, error) {
	start := time.Now()
	res, err := reconcile()
	m.ReconcileSeconds.Observe(time.Since(start).Seconds())
	switch {
	case err != nil:
		m.Reconciles.WithLabelValues("error").Inc()
	case res.RequeueAfter > 0 && res.RequeueAfter < resync:
		m.Reconciles.WithLabelValues("requeue").Inc()
	default:
		m.Reconciles.WithLabelValues("ok").Inc()
	}
	return res, err
}

// JoinMax joins at most n items, noting how many were left out.
func JoinMax(items []string, n int) string {
	if len(items) <= n {
		return strings.Join(items, "; ")
	}
	return fmt.Sprintf("%s; and %d more", strings.Join(items[:n], "; "), len(items)-n)
}
