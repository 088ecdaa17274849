package group

import (
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/redis-autoscaler/redis-autoscaler/scaler/api/v1alpha1"
)

// holdCondition sets TopologyHeld: True while held, False once a hold it
// had acknowledged ends (a group never held gets no condition).
func holdCondition(g *v1alpha1.RedisReplicationGroup, until time.Time, held bool) {
	if held {
		meta.SetStatusCondition(&g.Status.Conditions, metav1.Condition{
			Type: v1alpha1.ConditionTopologyHeld, Status: metav1.ConditionTrue, Reason: "Held",
			Message: v1alpha1.HoldMessage(until, g.Annotations[v1alpha1.AnnotationHoldReason]), ObservedGeneration: g.Generation,
		})
		return
	}
	if c := meta.FindStatusCondition(g.Status.Conditions, v1alpha1.ConditionTopologyHeld); c != nil && c.Status == metav1.ConditionTrue {
		meta.SetStatusCondition(&g.Status.Conditions, metav1.Condition{
			Type: v1alpha1.ConditionTopologyHeld, Status: metav1.ConditionFalse, Reason: "Released", ObservedGeneration: g.Generation,
		})
	}
}
