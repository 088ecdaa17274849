package topology

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestPlanPartition(t *testing.T) {
	outdated := func(p Pod) Pod { p.Outdated = true; return p }
	m := func(ord int) Pod { return master(ord, 100, 10, 2) }
	r := func(ord int) Pod { return replica(ord, 0, 100, 10, true) }
	const hold = PartitionHold
	// Replicas follow whichever pod is master (host h<ordinal>).
	tests := []struct {
		name string
		pods []Pod
		cur  int32
		want PartitionPlan
		n    int // pods the StatefulSet wants; 0: 3
	}{
		{"nothing to update: hold", []Pod{m(0), r(1), r(2)}, 0, PartitionPlan{Partition: hold, Done: true}, 0},
		{"nothing to update, held: unchanged", []Pod{m(0), r(1), r(2)}, hold, PartitionPlan{Partition: hold, Done: true}, 0},
		{"a pod missing: wait", []Pod{m(0), r(1)}, hold, PartitionPlan{Partition: hold, Reason: "waiting for every pod to exist"}, 0},
		{"update pending, settled: the highest ordinal", []Pod{outdated(m(0)), outdated(r(1)), outdated(r(2))}, hold,
			PartitionPlan{Partition: 2}, 0},
		{"the controller replaces p2: wait", []Pod{outdated(m(0)), outdated(r(1)), terminating(outdated(r(2)))}, 2,
			PartitionPlan{Partition: 2, Reason: "the StatefulSet controller is replacing p2"}, 0},
		{"p2 updated, still in its first sync: hold p1", []Pod{outdated(m(0)), outdated(r(1)), replica(2, 0, 0, 0, false)}, 2,
			PartitionPlan{Partition: 2, Reason: "waiting for p2 to be in sync"}, 0},
		{"p2 updated and in sync: p1", []Pod{outdated(m(0)), outdated(r(1)), r(2)}, 2, PartitionPlan{Partition: 1}, 0},
		{"the master is next: switch over to the updated replica first", []Pod{outdated(m(0)), r(1), r(2)}, 1,
			PartitionPlan{Partition: 1, SwitchoverTo: "p1"}, 0},
		{"the master is next, no replica in sync: wait", []Pod{outdated(m(0)), replica(1, 0, 0, 0, false)}, 1,
			PartitionPlan{Partition: 1, Reason: "waiting for p1 to be in sync"}, 2},
		{"the master has the highest ordinal: over to a replica, outdated as it is", []Pod{outdated(r(0)), outdated(r(1)), outdated(master(2, 100, 10, 2))}, hold,
			PartitionPlan{Partition: hold, SwitchoverTo: "p0"}, 0},
		{"a partition not set by the scaler: hold all but the pod being replaced", []Pod{outdated(m(0)), outdated(r(1)), down(terminating(outdated(r(2))))}, 0,
			PartitionPlan{Partition: 2, Reason: "holding the update to pace it"}, 0},
		{"a partition not set by the scaler, nothing being replaced: hold all", []Pod{outdated(m(0)), outdated(r(1)), outdated(r(2))}, 0,
			PartitionPlan{Partition: 3, Reason: "holding the update to pace it"}, 0},
		{"opened to the controller, then elected master: held again", []Pod{outdated(r(0)), outdated(master(1, 100, 10, 1))}, 1,
			PartitionPlan{Partition: 2, Reason: "p1 became the master; holding its update for a switchover"}, 2},
		{"a group of one: replaced in place", []Pod{outdated(master(0, 100, 10, 0))}, hold, PartitionPlan{Partition: 0}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pods := make([]Pod, len(tt.pods))
			copy(pods, tt.pods)
			want := tt.n
			if want == 0 {
				want = 3
			}
			masterName := "p0"
			for _, p := range pods {
				if p.Role == RoleMaster {
					masterName = p.Name
				}
			}
			host := "h" + masterName[1:]
			for i := range pods {
				if pods[i].Role == RoleReplica {
					pods[i].MasterHost = host
				}
			}
			assert.Equal(t, tt.want, PlanPartition(pods, want, masterName, host, 6379, 1<<20, tt.cur))
		})
	}
}

func TestHoldPartition(t *testing.T) {
	outdated := func(p Pod) Pod { p.Outdated = true; return p }
	tests := []struct {
		name string
		pods []Pod
		cur  int32
		want int32
		ok   bool
	}{
		{"nothing to update", []Pod{master(0, 1, 1, 1), replica(1, 0, 1, 1, true)}, 0, 0, false},
		{"held above the next pod", []Pod{outdated(master(0, 1, 1, 1)), outdated(replica(1, 0, 1, 1, true))}, PartitionHold, 0, false},
		{"below it, nothing replaced yet: hold every pod", []Pod{outdated(master(0, 1, 1, 1)), outdated(replica(1, 0, 1, 1, true))}, 0, 2, true},
		{"below it, the next being replaced: let it finish", []Pod{outdated(master(0, 1, 1, 1)), terminating(outdated(replica(1, 0, 1, 1, true)))}, 0, 1, true},
		{"at it: the controller's turn", []Pod{outdated(master(0, 1, 1, 1)), outdated(replica(1, 0, 1, 1, true))}, 1, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := HoldPartition(tt.pods, tt.cur)
			assert.Equal(t, tt.ok, ok)
			assert.Equal(t, tt.want, got)
		})
	}
}
