package topology

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
)

// Helpers building observations: m = master, r = replica of host "h0" (pod
// p0's address) unless told otherwise.
func master(ord int, offset, keys int64, replicas int) Pod {
	return Pod{Name: fmt.Sprintf("p%d", ord), Ordinal: ord, Address: fmt.Sprintf("h%d", ord), Port: 6379,
		Running: true, Reachable: true, Role: RoleMaster, RunID: fmt.Sprintf("run%d", ord),
		Offset: offset, Keys: keys, ConnectedReplicas: replicas}
}

func replica(ord int, of int, offset, keys int64, linkUp bool) Pod {
	return Pod{Name: fmt.Sprintf("p%d", ord), Ordinal: ord, Address: fmt.Sprintf("h%d", ord), Port: 6379,
		Running: true, Reachable: true, Role: RoleReplica, RunID: fmt.Sprintf("run%d", ord),
		Offset: offset, Keys: keys, MasterHost: fmt.Sprintf("h%d", of), MasterPort: 6379, LinkUp: linkUp}
}

func down(p Pod) Pod { p.Running, p.Reachable = false, false; return p }

func unreachable(p Pod) Pod { p.Reachable = false; return p }

func withRunID(p Pod, id string) Pod { p.RunID = id; return p }

func history(p Pod, replID string) Pod { p.ReplID = replID; return p }

func terminating(p Pod) Pod { p.Terminating = true; return p }

// promotedFrom: p was promoted at offset at of history replID.
func promotedFrom(p Pod, replID string, at int64) Pod {
	p.ReplID, p.ReplID2, p.SecondOffset = "new-"+p.Name, replID, at+1
	return p
}

func TestChooseMaster(t *testing.T) {
	tests := []struct {
		name    string
		pods    []Pod
		prev    Previous
		want    string
		promote bool
		demote  []string
		reason  string
	}{
		{"single master kept", []Pod{master(0, 100, 5, 2), replica(1, 0, 100, 5, true), replica(2, 0, 90, 5, true)},
			Previous{Name: "p0", RunID: "run0"}, "p0", false, nil, ReasonKept},
		{"fresh single pod", []Pod{master(0, 0, 0, 0)}, Previous{}, "p0", false, nil, ReasonElected},
		{"fresh standalone pods: lowest ordinal, nobody demoted", []Pod{master(1, 0, 0, 0), master(0, 0, 0, 0), master(2, 0, 0, 0)},
			Previous{}, "p0", false, nil, ReasonElected},
		{"standalone with keys wins over empty ones", []Pod{master(0, 0, 0, 0), master(1, 0, 10, 0)},
			Previous{}, "p1", false, nil, ReasonKept},
		{"two standalones with data: most keys", []Pod{master(0, 0, 3, 0), master(1, 0, 10, 0)},
			Previous{}, "p1", false, []string{"p0"}, ReasonSplitBrain},
		{"scale-up: new empty pods are not competing masters", []Pod{master(0, 0, 200, 0), master(1, 0, 0, 0), master(2, 0, 0, 0)},
			Previous{Name: "p0", RunID: "run0"}, "p0", false, nil, ReasonKept},
		{"no master: highest offset", []Pod{replica(0, 9, 50, 3, false), replica(1, 9, 70, 3, false), replica(2, 9, 70, 3, false)},
			Previous{}, "p1", true, nil, ReasonElected},
		{"no master: tie goes to lowest ordinal", []Pod{replica(2, 9, 70, 3, false), replica(1, 9, 70, 3, false)},
			Previous{}, "p1", true, nil, ReasonElected},
		{"two masters: the one with replicas", []Pod{master(0, 500, 9, 0), master(1, 100, 9, 1), replica(2, 1, 100, 9, true)},
			Previous{Name: "p1", RunID: "run1"}, "p1", false, []string{"p0"}, ReasonSplitBrain},
		{"two masters with replicas: highest offset", []Pod{master(0, 500, 9, 1), master(1, 100, 9, 1), replica(2, 1, 100, 9, true), replica(3, 0, 500, 9, true)},
			Previous{Name: "p1", RunID: "run1"}, "p0", false, []string{"p1"}, ReasonSplitBrain},
		{"master restarted empty: promote best replica", []Pod{withRunID(master(0, 0, 0, 0), "new"), replica(1, 0, 100, 5, false), replica(2, 0, 120, 5, false)},
			Previous{Name: "p0", RunID: "run0"}, "p2", true, []string{"p0"}, ReasonRestartedEmpty},
		{"master restarted from an AOF with every write (same history, offset as high): kept", []Pod{history(withRunID(master(0, 100, 5, 0), "new"), "h"), history(replica(1, 0, 100, 5, false), "h")},
			Previous{Name: "p0", RunID: "run0"}, "p0", false, nil, ReasonKept},
		{"master restarted with data under a new history: the replica is trusted", []Pod{history(withRunID(master(0, 100, 5, 0), "new"), "other"), history(replica(1, 0, 100, 5, false), "h")},
			Previous{Name: "p0", RunID: "run0"}, "p1", true, []string{"p0"}, ReasonRestartedBehind},
		{"master restarted behind, a replica stalled: wait for it", []Pod{withRunID(master(0, 80, 5, 0), "new"), replica(1, 0, 100, 6, false), unreachable(replica(2, 0, 120, 7, false))},
			Previous{Name: "p0", RunID: "run0"}, "", false, nil, ReasonWaitForPods},
		{"master restarted empty, replicas empty too: kept", []Pod{withRunID(master(0, 0, 0, 0), "new"), replica(1, 0, 0, 0, false)},
			Previous{Name: "p0", RunID: "run0"}, "p0", false, nil, ReasonKept},
		{"master down: promote best replica before it restarts", []Pod{down(master(0, 0, 0, 0)), replica(1, 0, 100, 5, false), replica(2, 0, 90, 5, false)},
			Previous{Name: "p0", RunID: "run0"}, "p1", true, nil, ReasonMasterDown},
		{"master pod gone: promote", []Pod{replica(1, 0, 100, 5, false)},
			Previous{Name: "p0", RunID: "run0"}, "p1", true, nil, ReasonMasterDown},
		{"master down, already replaced: keep the new one", []Pod{down(master(0, 0, 0, 0)), master(1, 100, 5, 1), replica(2, 1, 100, 5, true)},
			Previous{Name: "p0", RunID: "run0"}, "p1", false, nil, ReasonKept},
		{"master running but unreachable: wait, no election", []Pod{unreachable(master(0, 0, 0, 0)), replica(1, 0, 100, 5, true)},
			Previous{Name: "p0", RunID: "run0"}, "", false, nil, ReasonWaitMasterComes},
		{"fresh group with a pod still starting: wait", []Pod{master(1, 0, 0, 0), down(master(0, 0, 0, 0)), master(2, 0, 0, 0)},
			Previous{}, "", false, nil, ReasonWaitForPods},
		{"fresh empty pod while another starts: wait (it may bring a volume)", []Pod{master(0, 0, 0, 0), down(master(1, 0, 0, 0))},
			Previous{}, "", false, nil, ReasonWaitForPods},
		{"master with data while another pod starts: kept", []Pod{master(0, 0, 5, 0), down(master(1, 0, 0, 0))},
			Previous{}, "p0", false, nil, ReasonKept},
		{"nobody answers", []Pod{down(master(0, 0, 0, 0))}, Previous{Name: "p0", RunID: "run0"}, "", false, nil, ReasonNoCandidate},
		// Case 2 of issue 11: the most advanced replica is briefly
		// unreachable; promoting the reachable one loses the writes only
		// p2 acknowledged (WAIT 1).
		{"master down, most advanced replica unreachable: wait for it", []Pod{down(master(0, 0, 0, 0)), replica(1, 0, 100, 5, false), unreachable(replica(2, 0, 120, 5, false))},
			Previous{Name: "p0", RunID: "run0"}, "", false, nil, ReasonWaitForPods},
		{"master down, a replica stalled past the wait bound: best reachable", []Pod{down(master(0, 0, 0, 0)), replica(1, 0, 100, 5, false), unreachable(replica(2, 0, 120, 5, false))},
			Previous{Name: "p0", RunID: "run0", WaitedOut: true}, "p1", true, nil, ReasonMasterDown},
		{"master down, another replica down too: it cannot be read, elect", []Pod{down(master(0, 0, 0, 0)), replica(1, 0, 100, 5, false), down(replica(2, 0, 120, 5, false))},
			Previous{Name: "p0", RunID: "run0"}, "p1", true, nil, ReasonMasterDown},
		// Case 1: a master in its termination grace period still takes
		// writes; it is kept (the controller switches over), never failed
		// over while it answers.
		{"master being deleted but answering: kept", []Pod{terminating(master(0, 100, 5, 2)), replica(1, 0, 100, 5, true), replica(2, 0, 100, 5, true)},
			Previous{Name: "p0", RunID: "run0"}, "p0", false, nil, ReasonKept},
		// Issue 25 case 8: silent in its grace period is not gone; the
		// process may be stalled and answer again with writes.
		{"master being deleted, silent, container running: wait for it", []Pod{unreachable(terminating(master(0, 100, 5, 2))), replica(1, 0, 90, 5, false), replica(2, 0, 100, 5, false)},
			Previous{Name: "p0", RunID: "run0"}, "", false, nil, ReasonWaitMasterComes},
		{"master being deleted, container stopped: down, best replica", []Pod{down(terminating(master(0, 100, 5, 2))), replica(1, 0, 90, 5, false), replica(2, 0, 100, 5, false)},
			Previous{Name: "p0", RunID: "run0"}, "p2", true, nil, ReasonMasterDown},
		{"master down, the most advanced replica is being deleted: still the one", []Pod{down(master(0, 0, 0, 0)), replica(1, 0, 90, 5, false), terminating(replica(2, 0, 100, 5, false))},
			Previous{Name: "p0", RunID: "run0"}, "p2", true, nil, ReasonMasterDown},
		// Case 3: the master restarted from an older RDB/AOF (keys, but a
		// lower offset than its replicas hold): following it makes every
		// replica resync down to the older data.
		{"master restarted from older data: promote the replica ahead", []Pod{withRunID(master(0, 80, 5, 0), "new"), replica(1, 0, 100, 6, false), replica(2, 0, 120, 7, false)},
			Previous{Name: "p0", RunID: "run0"}, "p2", true, []string{"p0"}, ReasonRestartedBehind},
		// Issue 25 case 7: a switchover promoted p1 at offset 100 and its
		// scaler died; the old master p0 served on in its preStop window,
		// p2 acknowledging up to 150, and is gone now. Keeping p1 would
		// resync p2 down to 100.
		{"promoted at 100, a replica of the old history at 150: the replica", []Pod{
			down(master(0, 0, 0, 0)), promotedFrom(master(1, 100, 5, 0), "H", 100), history(replica(2, 0, 150, 7, false), "H")},
			Previous{Name: "p0", RunID: "run0"}, "p2", true, []string{"p1"}, ReasonPromotedBehind},
		{"promoted at 100, the replica of the old history at 100 too: kept", []Pod{
			down(master(0, 0, 0, 0)), promotedFrom(master(1, 100, 5, 0), "H", 100), history(replica(2, 0, 100, 7, false), "H")},
			Previous{Name: "p0", RunID: "run0"}, "p1", false, nil, ReasonKept},
		{"promoted behind, but with a replica of its own: diverged, kept", []Pod{
			down(master(0, 0, 0, 0)), promotedFrom(master(1, 120, 5, 1), "H", 100), history(replica(2, 0, 150, 7, false), "H"), history(replica(3, 1, 120, 5, true), "new-p1")},
			Previous{Name: "p0", RunID: "run0"}, "p1", false, nil, ReasonKept},
		{"promoted behind, a pod that may be further ahead does not answer: wait", []Pod{
			down(master(0, 0, 0, 0)), promotedFrom(master(1, 100, 5, 0), "H", 100), history(replica(2, 0, 150, 7, false), "H"), unreachable(replica(3, 0, 0, 0, false))},
			Previous{Name: "p0", RunID: "run0"}, "", false, nil, ReasonWaitForPods},
		// Offsets of two histories do not compare: p1's 160 includes 60
		// bytes of its own, unacknowledged (no replica); p0 is back with
		// 150 of H, which p2 acknowledged.
		{"the old master back as a second master, fewer bytes but ahead in the history: it wins", []Pod{
			history(master(0, 150, 7, 0), "H"), promotedFrom(master(1, 160, 5, 0), "H", 100), history(replica(2, 0, 150, 7, false), "H")},
			Previous{Name: "p1", RunID: "run1"}, "p0", false, []string{"p1"}, ReasonPromotedBehind},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := ChooseMaster(tt.pods, tt.prev)
			assert.Equal(t, tt.want, d.Master, d.Message)
			assert.Equal(t, tt.promote, d.Promote, "promote")
			assert.Equal(t, tt.demote, d.Demote, "demote")
			assert.Equal(t, tt.reason, d.Reason)
		})
	}
}

func TestPlanAttach(t *testing.T) {
	syncing := func(p Pod) Pod { p.SyncInProgress = true; return p }
	tests := []struct {
		name     string
		pods     []Pod
		maxSyncs int
		demote   []string
		want     AttachPlan
	}{
		{"all in sync", []Pod{master(0, 1, 1, 2), replica(1, 0, 1, 1, true), replica(2, 0, 1, 1, true)}, 1, nil,
			AttachPlan{InSync: []string{"p1", "p2"}}},
		{"scale-up of 3: one at a time", []Pod{master(0, 1, 1, 0), master(3, 0, 0, 0), master(1, 0, 0, 0), master(2, 0, 0, 0)}, 1, nil,
			AttachPlan{Attach: []string{"p1"}, Waiting: []string{"p2", "p3"}}},
		{"slot taken by a syncing replica", []Pod{master(0, 1, 1, 1), syncing(replica(1, 0, 0, 0, false)), master(2, 0, 0, 0)}, 1, nil,
			AttachPlan{Attach: nil, Waiting: []string{"p2"}, Syncing: []string{"p1"}}},
		{"two slots", []Pod{master(0, 1, 1, 1), syncing(replica(1, 0, 0, 0, true)), master(2, 0, 0, 0), master(3, 0, 0, 0)}, 2, nil,
			AttachPlan{Attach: []string{"p2"}, Waiting: []string{"p3"}, Syncing: []string{"p1"}}},
		{"replica of the wrong master is re-pointed", []Pod{master(0, 1, 1, 0), replica(1, 7, 1, 1, true)}, 1, nil,
			AttachPlan{Attach: []string{"p1"}}},
		{"demoted master attached whatever the slots", []Pod{master(0, 1, 1, 1), syncing(replica(1, 0, 0, 0, false)), master(2, 5, 5, 0)}, 1, []string{"p2"},
			AttachPlan{Attach: []string{"p2"}, Syncing: []string{"p1"}}},
		{"unreachable pods are left alone", []Pod{master(0, 1, 1, 0), down(replica(1, 7, 1, 1, true))}, 1, nil,
			AttachPlan{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, PlanAttach(tt.pods, "p0", "h0", 6379, tt.maxSyncs, tt.demote))
		})
	}
}

func TestPlanScaleDown(t *testing.T) {
	m := func(ord int) Pod { p := master(ord, 1000, 10, 3); return p }
	r := func(ord, of int, offset int64, up bool) Pod { return replica(ord, of, offset, 10, up) }
	tests := []struct {
		name   string
		pods   []Pod
		master string
		target int32
		want   ScaleDownPlan
	}{
		{"master stays", []Pod{m(0), r(1, 0, 1000, true), r(2, 0, 1000, true), r(3, 0, 1000, true)}, "p0", 2, ScaleDownPlan{Safe: true}},
		{"master stays, the replicas that stay are syncing: the in-sync one is not removed", []Pod{m(0), r(1, 0, 1000, false), r(2, 0, 1000, true)}, "p0", 2,
			ScaleDownPlan{Reason: ReasonNoInSyncSurvivor}},
		{"master stays, a replica that stays is in sync", []Pod{m(0), r(1, 0, 1000, true), r(2, 0, 1000, true)}, "p0", 2, ScaleDownPlan{Safe: true}},
		{"master stays, none in sync anywhere: no copy is lost", []Pod{m(0), r(1, 0, 1000, false), r(2, 0, 1000, false)}, "p0", 2, ScaleDownPlan{Safe: true}},
		{"down to the master alone, as asked", []Pod{m(0), r(1, 0, 1000, true)}, "p0", 1, ScaleDownPlan{Safe: true}},
		{"master removed: best survivor", []Pod{r(0, 3, 990, true), r(1, 3, 1000, true), r(2, 3, 1000, true), m(3)}, "p3", 2,
			ScaleDownPlan{SwitchoverTo: "p1"}},
		{"removed replica with higher offset is not a candidate", []Pod{r(0, 3, 990, true), r(1, 3, 900, true), r(2, 3, 1000, true), m(3)}, "p3", 2,
			ScaleDownPlan{SwitchoverTo: "p0"}},
		{"survivors out of sync: wait", []Pod{r(0, 3, 1000, false), r(1, 3, 1000, false), r(2, 3, 1000, true), m(3)}, "p3", 2,
			ScaleDownPlan{Reason: ReasonNoInSyncSurvivor}},
		{"survivor lagging too much", []Pod{r(0, 1, 1, true), m(1)}, "p1", 1,
			ScaleDownPlan{Reason: ReasonNoInSyncSurvivor}},
		{"survivor of another master", []Pod{r(0, 7, 1000, true), m(1)}, "p1", 1,
			ScaleDownPlan{Reason: ReasonNoInSyncSurvivor}},
		{"no master", []Pod{r(0, 7, 1000, true), r(1, 7, 1000, true)}, "", 1, ScaleDownPlan{Reason: ReasonNoMaster}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			host := ""
			if p, ok := Find(tt.pods, tt.master); ok {
				host = p.Address
			}
			assert.Equal(t, tt.want, PlanScaleDown(tt.pods, tt.master, host, 6379, tt.target, 100))
		})
	}
}

func TestDesiredReplicas(t *testing.T) {
	i := func(v int32) *int32 { return &v }
	assert.EqualValues(t, 3, DesiredReplicas(nil, 3, 1), "nil keeps the current count")
	assert.EqualValues(t, 5, DesiredReplicas(i(5), 3, 1))
	assert.EqualValues(t, 2, DesiredReplicas(i(1), 3, 2), "clamped to minReplicas")
	assert.EqualValues(t, 1, DesiredReplicas(i(0), 3, 0), "never below 1")
}

func TestSwitchoverTarget(t *testing.T) {
	outdated := func(p Pod) Pod { p.Outdated = true; return p }
	m := master(0, 1000, 10, 3)
	tests := []struct {
		name string
		pods []Pod
		want string
	}{
		{"most data", []Pod{m, replica(1, 0, 990, 10, true), replica(2, 0, 1000, 10, true)}, "p2"},
		{"being deleted is no candidate", []Pod{m, replica(1, 0, 990, 10, true), terminating(replica(2, 0, 1000, 10, true))}, "p1"},
		{"updated revision first", []Pod{m, replica(1, 0, 990, 10, true), outdated(replica(2, 0, 1000, 10, true))}, "p1"},
		{"link down is no candidate", []Pod{m, replica(1, 0, 1000, 10, false)}, ""},
		{"too far behind", []Pod{m, replica(1, 0, 100, 10, true)}, ""},
		{"nobody", []Pod{m}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := SwitchoverTarget(tt.pods, m, "h0", 6379, 100, nil)
			assert.Equal(t, tt.want, got)
			assert.Equal(t, tt.want != "", ok)
		})
	}
}

func TestPlanRollout(t *testing.T) {
	old := func(p Pod) Pod { p.Outdated = true; return p }
	m := func(ord int) Pod { return master(ord, 1000, 10, 2) }
	r := func(ord, of int) Pod { return replica(ord, of, 1000, 10, true) }
	tests := []struct {
		name   string
		pods   []Pod
		master string
		want   RolloutPlan
	}{
		{"nothing to do", []Pod{m(0), r(1, 0), r(2, 0)}, "p0", RolloutPlan{Done: true}},
		{"replicas first, highest ordinal first", []Pod{old(m(1)), old(r(0, 1)), old(r(2, 1))}, "p1", RolloutPlan{Delete: "p2"}},
		{"then the next replica", []Pod{old(m(1)), old(r(0, 1)), r(2, 1)}, "p1", RolloutPlan{Delete: "p0"}},
		{"master last, after one switchover to an updated replica", []Pod{old(m(1)), r(0, 1), r(2, 1)}, "p1", RolloutPlan{SwitchoverTo: "p0"}},
		{"after the switchover the old master is a replica: deleted", []Pod{m(0), old(r(1, 0)), r(2, 0)}, "p0", RolloutPlan{Delete: "p1"}},
		{"a pod being replaced: wait", []Pod{old(m(0)), terminating(old(r(1, 0))), r(2, 0)}, "p0",
			RolloutPlan{Reason: "waiting for p1 to be running and answer"}},
		{"a new pod still syncing: wait", []Pod{old(m(0)), old(r(1, 0)), replica(2, 0, 0, 0, false)}, "p0",
			RolloutPlan{Reason: "waiting for p2 to be in sync"}},
		{"single pod: replaced in place", []Pod{old(m(0))}, "p0", RolloutPlan{Delete: "p0"}},
		{"no master", []Pod{r(1, 0)}, "p0", RolloutPlan{Reason: "no master"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			host := ""
			if p, ok := Find(tt.pods, tt.master); ok {
				host = p.Address
			}
			assert.Equal(t, tt.want, PlanRollout(tt.pods, tt.master, host, 6379, 100))
		})
	}
}
