package group

import (
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/redis-autoscaler/redis-autoscaler/scaler/api/v1alpha1"
	"github.com/redis-autoscaler/redis-autoscaler/scaler/topology"
)

// checkTemplate sets the Guaranteed condition from the StatefulSet and,
// when it turns False or names other gaps, records a Warning event with
// the fixes: without the placeholder a restart in place wipes the group,
// without preStop a deleted master is failed over instead of handed over,
// and the user could not tell from the group.
func (r *Reconciler) checkTemplate(g *v1alpha1.RedisReplicationGroup, sts *appsv1.StatefulSet) {
	gaps := templateOf(sts, g.Spec.RedisPort()).Gaps()
	c := metav1.Condition{Type: v1alpha1.ConditionGuaranteed, Status: metav1.ConditionTrue, Reason: "AsRequired",
		Message: "placeholder and preStop as the guarantee needs", ObservedGeneration: g.Generation}
	if len(gaps) > 0 {
		c.Status, c.Reason = metav1.ConditionFalse, "TemplateIncomplete"
		c.Message = "acknowledged writes can be lost; statefulset " + sts.Name + " needs: " + strings.Join(gaps, "; ")
		if old := meta.FindStatusCondition(g.Status.Conditions, v1alpha1.ConditionGuaranteed); old == nil || old.Message != c.Message {
			r.Recorder.Event(g, corev1.EventTypeWarning, c.Reason, c.Message)
		}
	}
	meta.SetStatusCondition(&g.Status.Conditions, c)
}

// templateOf reads the Redis container (the one serving port, else the
// first) and the update strategy.
func templateOf(sts *appsv1.StatefulSet, port int) topology.Template {
	t := topology.Template{OnDelete: sts.Spec.UpdateStrategy.Type == appsv1.OnDeleteStatefulSetStrategyType}
	containers := sts.Spec.Template.Spec.Containers
	if len(containers) == 0 {
		return t
	}
	redis := containers[0]
	for _, c := range containers {
		for _, p := range c.Ports {
			if int(p.ContainerPort) == port {
				redis = c
			}
		}
	}
	t.PreStop = redis.Lifecycle != nil && redis.Lifecycle.PreStop != nil
	t.Args = append(append([]string{}, redis.Command...), redis.Args...)
	return t
}
