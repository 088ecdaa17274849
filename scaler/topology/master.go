package topology

import (
	"fmt"
	"slices"
)

// Previous is what the group's status recorded about the master, and
// how long the controller has waited since it was lost.
type Previous struct {
	Name  string
	RunID string
	// WaitedOut: the master was lost and the controller has waited its
	// bound for unreachable pods; elect among the pods that answer. A
	// stalled pod may hold the most recent writes, so this is a last
	// resort reported as a Warning.
	WaitedOut bool
}

// Reasons a master was chosen; they end up in events and conditions.
const (
	ReasonKept            = "MasterKept"
	ReasonElected         = "MasterElected"
	ReasonSplitBrain      = "MultipleMasters"
	ReasonMasterDown      = "MasterDown"
	ReasonRestartedEmpty  = "MasterRestartedEmpty"
	ReasonRestartedBehind = "MasterRestartedBehind"
	ReasonPromotedBehind  = "MasterPromotedBehind"
	ReasonNoCandidate     = "NoMasterCandidate"
	ReasonWaitMasterComes = "MasterUnreachable"
	ReasonWaitForPods     = "WaitingForPods"
)

// MasterDecision is the outcome of ChooseMaster.
type MasterDecision struct {
	// Master is the pod to be master; empty when none can be chosen now.
	Master string
	// Promote: Master is not a master yet and must be promoted
	// (REPLICAOF NO ONE).
	Promote bool
	// Demote are other masters that must become replicas.
	Demote []string
	// Reason is one of the Reason constants; Message explains it.
	Reason  string
	Message string
	// Warning: the decision repairs a fault (split brain, lost master).
	Warning bool
}

// ChooseMaster decides which pod is the master. Its promise: a write a
// client saw acknowledged by the master and one replica (WAIT 1) is never
// dropped. Replication is one stream, so the replica with the highest
// offset holds every write any replica acknowledged; elections pick it,
// and only once every running pod has answered.
//
//   - A master that answers is kept, even when its pod is being deleted:
//     the controller moves it with a planned switchover (SwitchoverTarget),
//     never by promoting a replica while it may still take writes.
//   - Exactly one master: keep it, unless it is the previous master
//     restarted (new run_id) while a replica holds data it cannot prove
//     it has: restarted empty (the classic wipe-out,
//     spotahome/redis-operator#95, OT-CONTAINER-KIT/redis-operator#1158)
//     or from an older RDB/AOF. Following it would make every replica
//     resync down to its data, so the best replica is promoted.
//   - The previous master's pod is down (gone, or its container not
//     running): promote the replica with the highest offset, once every
//     running pod answered (or the controller waited its bound). A master
//     that is running but silent is not down, even while its pod is being
//     deleted: a process stalled in its preStop window (SIGSTOP, a long
//     fork, a saturated node) may answer again and take writes, so a
//     replica is promoted only once the process is gone (the kubelet
//     reports the container stopped, or the grace period is over).
//   - No master (or only new, empty ones): the pod with the most data
//     (highest offset, then lowest ordinal), once every pod answered.
//   - Several masters: keep the one with connected replicas and the highest
//     offset; demote the others.
//   - The master kept was promoted from a replica (master_replid2), has no
//     replicas, and a pod holds more of the history it was promoted from
//     than it took along: a switchover interrupted after the promotion,
//     whose old master served on (its preStop window) with its replicas
//     acknowledging. Following it would resync those replicas down to the
//     promotion point; the pod ahead is promoted instead (promotedBehind).
func ChooseMaster(pods []Pod, prev Previous) MasterDecision {
	d := chooseMaster(pods, prev)
	if d.Master == "" || d.Reason != ReasonKept && d.Reason != ReasonSplitBrain {
		return d
	}
	if r, replace := promotedBehind(pods, d, prev); replace {
		return r
	}
	return d
}

func chooseMaster(pods []Pod, prev Previous) MasterDecision {
	// A new pod starts as a master with nothing in it: it is waiting to be
	// attached, not competing. Only masters with data, replicas, or the
	// previous master's name count.
	var masters, reachable []Pod
	for _, p := range pods {
		if !p.Reachable {
			continue
		}
		reachable = append(reachable, p)
		if p.IsMaster() && (p.HasData() || p.ConnectedReplicas > 0 || p.Name == prev.Name) {
			masters = append(masters, p)
		}
	}
	if len(reachable) == 0 {
		return MasterDecision{Reason: ReasonNoCandidate, Message: "no pod answers"}
	}

	// The previous master is gone: do not wait for it to come back empty;
	// the replicas hold the data.
	prevPod, known := Find(pods, prev.Name)
	lost := prev.Name != "" && (!known || !prevPod.Running)
	if lost {
		var others []Pod
		for _, p := range masters {
			if p.Name != prev.Name {
				others = append(others, p)
			}
		}
		if len(others) == 0 {
			if d, wait := waitForRunning(pods, prev, "master "+prev.Name+" is down; electing"); wait {
				return d
			}
			best := bestOf(reachable)
			return MasterDecision{Master: best.Name, Promote: !best.IsMaster(), Reason: ReasonMasterDown, Warning: true,
				Message: fmt.Sprintf("master %s is down; promoting %s (offset %d)%s", prev.Name, best.Name, best.Offset, waitedOut(prev))}
		}
		// Someone already took over (an earlier reconcile): fall through to
		// the usual rules among the reachable pods.
	}

	// The previous master is running but did not answer this time (busy,
	// stopped, a network blip), whether or not its pod is being deleted:
	// electing another would split the brain.
	if known && prevPod.Running && !prevPod.Reachable {
		what := "is running"
		if prevPod.Terminating {
			what = "is being deleted, its container still running,"
		}
		return MasterDecision{Reason: ReasonWaitMasterComes, Message: fmt.Sprintf("master %s %s but does not answer", prev.Name, what)}
	}
	// Electing (or picking among several masters) compares everyone's
	// data: a pod that is starting may hold the most (a volume), so wait
	// until every pod answers.
	if len(masters) != 1 {
		for _, p := range pods {
			if !p.Reachable && !(p.Name == prev.Name && lost) {
				return MasterDecision{Reason: ReasonWaitForPods, Message: fmt.Sprintf("choosing a master waits for %s to answer", p.Name)}
			}
		}
	}

	switch len(masters) {
	case 0:
		best := bestOf(reachable)
		return MasterDecision{Master: best.Name, Promote: !best.IsMaster(), Reason: ReasonElected,
			Message: fmt.Sprintf("no master; electing %s (offset %d, %d keys)", best.Name, best.Offset, best.Keys)}
	case 1:
		m := masters[0]
		if restarted(m, prev) {
			if d, replace := replaceRestarted(pods, reachable, m, prev); replace {
				return d
			}
		}
		return MasterDecision{Master: m.Name, Reason: ReasonKept, Message: fmt.Sprintf("%s is the only master", m.Name)}
	default:
		slices.SortFunc(masters, func(a, b Pod) int {
			// Connected replicas first: that master is the one being followed.
			if (a.ConnectedReplicas > 0) != (b.ConnectedReplicas > 0) {
				if a.ConnectedReplicas > 0 {
					return -1
				}
				return 1
			}
			return moreData(a, b)
		})
		keep := masters[0]
		d := MasterDecision{Master: keep.Name, Reason: ReasonSplitBrain, Warning: true}
		for _, m := range masters[1:] {
			d.Demote = append(d.Demote, m.Name)
		}
		d.Message = fmt.Sprintf("%d masters; keeping %s (%d replicas, offset %d), demoting %v",
			len(masters), keep.Name, keep.ConnectedReplicas, keep.Offset, d.Demote)
		return d
	}
}

// restarted: the pod that was master is a new process (run_id changed).
func restarted(m Pod, prev Previous) bool {
	return prev.Name == m.Name && prev.RunID != "" && m.RunID != "" && m.RunID != prev.RunID
}

// replaceRestarted decides whether a restarted master m is replaced by
// the best replica holding data. m is kept only when it provably holds
// at least what that replica holds: the same replication history and an
// offset as high (an AOF with every write). Redis gives a master
// restarted from disk a new replication ID, so in practice a restarted
// master is replaced whenever a replica has data.
func replaceRestarted(pods, reachable []Pod, m Pod, prev Previous) (MasterDecision, bool) {
	var holders []Pod
	for _, p := range reachable {
		if p.Name != m.Name && p.HasData() {
			holders = append(holders, p)
		}
	}
	if len(holders) == 0 {
		return MasterDecision{}, false
	}
	best := bestOf(holders)
	if m.Keys > 0 && m.ReplID != "" && m.ReplID == best.ReplID && m.Offset >= best.Offset {
		return MasterDecision{}, false
	}
	if d, wait := waitForRunning(pods, Previous{Name: m.Name, WaitedOut: prev.WaitedOut}, "master "+m.Name+" restarted; electing"); wait {
		return d, true
	}
	reason, what := ReasonRestartedBehind, fmt.Sprintf("restarted from older data (offset %d, %d keys)", m.Offset, m.Keys)
	if m.Keys == 0 {
		reason, what = ReasonRestartedEmpty, "restarted empty"
	}
	return MasterDecision{Master: best.Name, Promote: !best.IsMaster(), Demote: []string{m.Name}, Reason: reason, Warning: true,
		Message: fmt.Sprintf("master %s %s (run_id changed); promoting %s (offset %d) instead of following it%s",
			m.Name, what, best.Name, best.Offset, waitedOut(prev))}, true
}

// promotedBehind checks the master d keeps against the history it was
// promoted from. A replica promoted at offset X (REPLICAOF NO ONE) keeps
// its old master's replication ID as master_replid2, valid up to
// second_repl_offset = X+1. A pod still in that history at an offset
// beyond X holds writes the master lacks, which its old master's replicas
// may have acknowledged (WAIT 1). The master is replaced by the most
// advanced such pod only while it has no replica of its own: with one, it
// may have acknowledged writes too, and the histories diverged; then it is
// kept (a promotion then would drop what its replicas hold instead).
func promotedBehind(pods []Pod, d MasterDecision, prev Previous) (MasterDecision, bool) {
	m, _ := Find(pods, d.Master)
	if m.ReplID2 == "" || m.SecondOffset <= 0 {
		return MasterDecision{}, false
	}
	var ahead []Pod
	for _, p := range pods {
		if p.Reachable && p.Name != m.Name && p.ReplID == m.ReplID2 && p.Offset >= m.SecondOffset {
			ahead = append(ahead, p)
		}
	}
	if len(ahead) == 0 {
		return MasterDecision{}, false
	}
	if m.ConnectedReplicas > 0 {
		// Diverged: replacing m would drop what its replicas hold.
		return MasterDecision{}, false
	}
	best := bestOf(ahead)
	if r, wait := waitForRunning(pods, Previous{Name: m.Name, WaitedOut: prev.WaitedOut}, "master "+m.Name+" is behind its previous history; electing"); wait {
		return r, true
	}
	demote := []string{m.Name}
	for _, n := range d.Demote {
		if n != best.Name {
			demote = append(demote, n)
		}
	}
	return MasterDecision{Master: best.Name, Promote: !best.IsMaster(), Demote: demote, Reason: ReasonPromotedBehind, Warning: true,
		Message: fmt.Sprintf("master %s was promoted at offset %d of history %s and has no replica; %s holds that history up to offset %d "+
			"(writes acknowledged after the promotion, as when a switchover is interrupted after it): promoting %s instead of following %s%s",
			m.Name, m.SecondOffset-1, m.ReplID2, best.Name, best.Offset, best.Name, m.Name, waitedOut(prev))}, true
}

// waitForRunning: an election after losing the master must include the
// most advanced replica, so it waits while any running pod other than the
// lost master does not answer (a stalled or busy replica may be the only
// one with the last acknowledged writes). A pod that is not running is
// lost as well; its data cannot be read either way.
func waitForRunning(pods []Pod, prev Previous, what string) (MasterDecision, bool) {
	if prev.WaitedOut {
		return MasterDecision{}, false
	}
	for _, p := range pods {
		if p.Name != prev.Name && p.Running && !p.Reachable {
			return MasterDecision{Reason: ReasonWaitForPods, Warning: true,
				Message: fmt.Sprintf("%s waits for %s to answer: it may hold the most recent acknowledged writes", what, p.Name)}, true
		}
	}
	return MasterDecision{}, false
}

func waitedOut(prev Previous) string {
	if prev.WaitedOut {
		return "; gave up waiting for unreachable pods, whose most recent writes may be lost"
	}
	return ""
}

func bestOf(pods []Pod) Pod {
	return slices.MinFunc(pods, moreData)
}
