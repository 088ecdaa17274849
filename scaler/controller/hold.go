package controller

import (
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/redis-autoscaler/redis-autoscaler/scaler/api/v1alpha1"
)

// HoldUntil is when a group's topology hold ends, and whether one is in
// force at now. A malformed time holds nothing.
func HoldUntil(g *v1alpha1.RedisReplicationGroup, now time.Time) (time.Time, bool) {
	v := g.Annotations[v1alpha1.AnnotationHoldUntil]
	if v == "" {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return time.Time{}, false
	}
	return t, now.Before(t)
}

// HoldMessage is the TopologyHeld condition's message for a hold until t:
// a holder waits for exactly this message to know the scaler saw its hold
// (and that no operation it started before is still running).
func HoldMessage(t time.Time, reason string) string {
	msg := "held until " + t.UTC().Format(time.RFC3339)
	if reason != "" {
		msg += ": " + reason
	}
	return msg
}

// holdCondition sets TopologyHeld: True while held, False once a hold it
// had acknowledged ends (a group never held gets no condition).
func holdCondition(g *v1alpha1.RedisReplicationGroup, until time.Time, held bool) {
	if held {
		meta.SetStatusCondition(&g.Status.Conditions, metav1.Condition{
			Type: v1alpha1.ConditionTopologyHeld, Status: metav1.ConditionTrue, Reason: "Held",
			Message: HoldMessage(until, g.Annotations[v1alpha1.AnnotationHoldReason]), ObservedGeneration: g.Generation,
		})
		return
	}
	if c := meta.FindStatusCondition(g.Status.Conditions, v1alpha1.ConditionTopologyHeld); c != nil && c.Status == metav1.ConditionTrue {
		meta.SetStatusCondition(&g.Status.Conditions, metav1.Condition{
			Type: v1alpha1.ConditionTopologyHeld, Status: metav1.ConditionFalse, Reason: "Released", ObservedGeneration: g.Generation,
		})
	}
}
