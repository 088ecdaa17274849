package cluster

import (
	"context"
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/redis-autoscaler/redis-autoscaler/scaler/api/v1alpha1"
	"github.com/redis-autoscaler/redis-autoscaler/scaler/controller"
	"github.com/redis-autoscaler/redis-autoscaler/scaler/metrics"
	"github.com/redis-autoscaler/redis-autoscaler/scaler/slots"
)

// label marks each wanted pod's role (master: owns slots or leads a new
// shard; replica) and whether it is in sync, as for groups, so Services
// and the adapter's per-master aggregation can select them.
func (s *clusterStep) label(ctx context.Context) {
	if err := s.r.check(ctx, s.rc); err != nil {
		return // the labels route clients: the holder's to set
	}
	lead := map[*cnode]bool{}
	for _, m := range s.masters {
		lead[m] = true
	}
	for _, n := range s.nodes {
		role, synced := "", ""
		switch {
		case !n.reachable():
			role, synced = n.pod.Labels[controller.LabelRole], n.pod.Labels[controller.LabelSynced]
			if role == controller.RoleMaster {
				role, synced = "", ""
			}
		case n.owner() || lead[n]:
			role = controller.RoleMaster
		case n.me.MasterID != "":
			role, synced = controller.RoleReplica, "false"
			if n.inSync {
				synced = "true"
			}
		}
		controller.Label(ctx, s.r.Client, s.r.Metrics, n.pod, role, synced, &s.out.Outcome)
	}
}

// finish writes the conditions and status and chooses when to look again.
func (r *Reconciler) finish(ctx context.Context, rc, orig *v1alpha1.RedisCluster, out *clusterOutcome, reconcileErr error) (ctrl.Result, error) {
	st := &rc.Status
	gen := rc.Generation
	st.ObservedGeneration = gen
	out.SetDegraded(&st.Conditions, gen)
	resh := out.resharding
	if resh.Reason == "" {
		resh = metav1.Condition{Status: metav1.ConditionFalse, Reason: "Stable"}
	}
	resh.Type, resh.ObservedGeneration = v1alpha1.ConditionResharding, gen
	meta.SetStatusCondition(&st.Conditions, resh)

	want := rc.Spec.WantShards(st.Replicas)
	ready := metav1.Condition{Type: v1alpha1.ConditionReady, Status: metav1.ConditionFalse, ObservedGeneration: gen}
	switch {
	case st.Shards == 0:
		ready.Reason, ready.Message = "NotFormed", "no shard owns slots"
	case !out.clusterOK:
		ready.Reason, ready.Message = "ClusterNotOK", "a wanted node is unreachable or reports cluster_state other than ok"
	case resh.Status == metav1.ConditionTrue:
		ready.Reason, ready.Message = "Resharding", resh.Message
	case int(st.ReadyShards) != want || int(st.Shards) != want:
		ready.Reason, ready.Message = "ShardsNotReady", fmt.Sprintf("%d of %d shards ready", st.ReadyShards, want)
	case int(st.Replicas) != want*(1+rc.Spec.PerShard()):
		ready.Reason, ready.Message = "PodsNotRunning", fmt.Sprintf("%d pods, want %d", st.Replicas, want*(1+rc.Spec.PerShard()))
	default:
		ready.Status, ready.Reason = metav1.ConditionTrue, "Balanced"
		ready.Message = fmt.Sprintf("%d shards, even slots, %d replicas each in sync", want, rc.Spec.PerShard())
	}
	if ready.Status != metav1.ConditionTrue {
		out.Soon(controller.RequeueScaling)
	}
	meta.SetStatusCondition(&st.Conditions, ready)

	if err := r.check(ctx, rc); err != nil {
		return ctrl.Result{RequeueAfter: time.Second}, nil // deposed: the status is the holder's
	}
	return controller.Finish(ctx, r.Client, r.Metrics, rc, orig, !equality.Semantic.DeepEqual(&orig.Status, st), &out.Outcome,
		controller.Resync(r.ResyncInterval), reconcileErr)
}

func (s *clusterStep) status() {
	st := &s.rc.Status
	var owners, ready int32
	for _, n := range s.nodes {
		if n.owner() {
			owners++
		}
	}
	st.Shards = owners
	shares := slots.Shares(max(s.want, 1))
	var perShard []metrics.Shard
	if s.masters != nil {
		st.ShardStatuses = st.ShardStatuses[:0]
		for k, m := range s.masters {
			ss := v1alpha1.ShardStatus{Index: int32(k), Master: m.name(), NodeID: m.me.ID, Slots: int32(len(m.me.Slots))}
			for _, n := range s.block(k) {
				if n != m && n.me.MasterID == m.me.ID && n.inSync {
					ss.Replicas++
				}
			}
			// Even: Count/n slots, or one more (which masters carry the
			// remainder depends on where slots came from).
			even := int(ss.Slots) == shares[len(shares)-1] || int(ss.Slots) == shares[0]
			if even && int(ss.Replicas) >= s.per-1 && m.ok {
				ready++
			}
			perShard = append(perShard, metrics.Shard{Slots: len(m.me.Slots), InSync: int(ss.Replicas), Wanted: s.per - 1})
			st.ShardStatuses = append(st.ShardStatuses, ss)
		}
		s.r.Cluster.SetShards(s.rc.Namespace, s.rc.Name, perShard)
	}
	st.ReadyShards = ready
	st.Migrations.Pending = int32(s.pending)
	st.Migrations.InProgress = 0
	if s.pending > 0 {
		st.Migrations.InProgress = int32(min(s.pending, s.rc.Spec.Concurrency()))
	}
	s.r.Cluster.Shards.WithLabelValues(s.rc.Namespace, s.rc.Name).Set(float64(owners))
	s.r.Cluster.MigrationsPending.WithLabelValues(s.rc.Namespace, s.rc.Name).Set(float64(s.pending))
	s.out.clusterOK = true
	for _, n := range s.nodes {
		if n.ord < s.wantPods && (!n.reachable() || !n.ok) {
			s.out.clusterOK = false
		}
	}
	s.out.Ready = ready
}
