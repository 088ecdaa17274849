package cluster

import (
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/redis-autoscaler/redis-autoscaler/scaler/api/v1alpha1"
	"github.com/redis-autoscaler/redis-autoscaler/scaler/topology/clusterplan"
)

// checkPersistence sets the Guaranteed condition from the masters'
// persistence (clusterplan.RestartGaps) and, when it turns False,
// records a Warning event: a master restarted within the
// node timeout hands its replica what it loaded, and no step of the
// scaler can undo that once the replica resynced (about a second).
func (s *clusterStep) checkPersistence() {
	var masters []clusterplan.Persistence
	for _, n := range s.nodes {
		if n.owner() {
			masters = append(masters, clusterplan.Persistence{Node: n.name(), AppendOnly: n.appendonly, AppendFsync: n.appendfsync})
		}
	}
	if len(masters) == 0 {
		return // nothing formed, or nothing answers: nothing to judge
	}
	c := metav1.Condition{Type: v1alpha1.ConditionGuaranteed, Status: metav1.ConditionTrue, Reason: "AsRequired",
		Message: "every master fsyncs its AOF before it answers a write (appendonly yes, appendfsync always)", ObservedGeneration: s.rc.Generation}
	var unread []string
	for _, m := range masters {
		if m.AppendOnly == "" {
			unread = append(unread, m.Node)
		}
	}
	if len(unread) > 0 {
		// No evidence is no guarantee (CONFIG renamed away, or denied by
		// an ACL): say so rather than True.
		c.Status, c.Reason = metav1.ConditionUnknown, "ConfigUnreadable"
		c.Message = "CONFIG GET append* fails on " + strings.Join(unread, ", ") + ": what a restart of those masters keeps is unknown"
	}
	if gaps := clusterplan.RestartGaps(masters); len(gaps) > 0 {
		c.Status, c.Reason = metav1.ConditionFalse, "RestartLosesWrites"
		c.Message = "a master killed and restarted within cluster-node-timeout keeps its slots, and its replica resyncs " +
			"to what the restart loaded, so writes a replica acknowledged (WAIT) are lost: " + strings.Join(gaps, "; ") +
			". appendonly yes with appendfsync always keeps them (each write's reply waits for its fsync)"
		if old := meta.FindStatusCondition(s.rc.Status.Conditions, v1alpha1.ConditionGuaranteed); old == nil || old.Status != c.Status {
			s.r.Recorder.Event(s.rc, corev1.EventTypeWarning, c.Reason, c.Message)
		}
	}
	meta.SetStatusCondition(&s.rc.Status.Conditions, c)
}
