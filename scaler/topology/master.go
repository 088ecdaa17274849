package topology

import (
	"fmt"
	"slices"
)

// Previous is what the group's status recorded about the master.
type Previous struct {
	Name  string
	RunID string
}

// Reasons a master was chosen; they end up in events and conditions.
const (
	ReasonKept            = "MasterKept"
	ReasonElected         = "MasterElected"
	ReasonSplitBrain      = "MultipleMasters"
	ReasonMasterDown      = "MasterDown"
	ReasonRestartedEmpty  = "MasterRestartedEmpty"
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

// ChooseMaster decides which pod is the master.
//
//   - Exactly one master: keep it, unless it is the previous master
//     restarted empty (new run_id, no data) while a replica still holds
//     data: following it would wipe every replica (spotahome/redis-operator#95,
//     OT-CONTAINER-KIT/redis-operator#1158), so the best replica is promoted.
//   - The previous master's pod is not running while replicas are: promote
//     the best replica before the pod restarts (possibly empty).
//   - No master (or only new, empty ones): the pod with the most data
//     (highest offset, then lowest ordinal).
//   - Several masters: keep the one with connected replicas and the highest
//     offset; demote the others.
func ChooseMaster(pods []Pod, prev Previous) MasterDecision {
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

	// The previous master is known but its pod is down: do not wait for
	// it to come back empty; the replicas hold the data.
	if prevPod, ok := Find(pods, prev.Name); prev.Name != "" && (!ok || !prevPod.Running) {
		var others []Pod
		for _, p := range masters {
			if p.Name != prev.Name {
				others = append(others, p)
			}
		}
		if len(others) == 0 {
			best := bestOf(reachable)
			return MasterDecision{Master: best.Name, Promote: !best.IsMaster(), Reason: ReasonMasterDown, Warning: true,
				Message: fmt.Sprintf("master %s is down; promoting %s (offset %d)", prev.Name, best.Name, best.Offset)}
		}
		// Someone already took over (an earlier reconcile): fall through to
		// the usual rules among the reachable pods.
	}

	// The previous master is running but did not answer this time (busy,
	// a network blip): electing another would split the brain.
	if prevPod, ok := Find(pods, prev.Name); ok && prevPod.Running && !prevPod.Reachable {
		return MasterDecision{Reason: ReasonWaitMasterComes, Message: fmt.Sprintf("master %s is running but does not answer", prev.Name)}
	}
	// Electing (or picking among several masters) compares everyone's
	// data: a pod that is starting may hold the most (a volume), so wait
	// until every pod answers.
	if len(masters) != 1 {
		for _, p := range pods {
			if !p.Reachable {
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
		if restartedEmpty(m, prev) {
			var holders []Pod
			for _, p := range reachable {
				if p.Name != m.Name && p.HasData() {
					holders = append(holders, p)
				}
			}
			if len(holders) > 0 {
				best := bestOf(holders)
				return MasterDecision{Master: best.Name, Promote: !best.IsMaster(), Demote: []string{m.Name},
					Reason: ReasonRestartedEmpty, Warning: true,
					Message: fmt.Sprintf("master %s restarted empty (run_id changed); promoting %s (offset %d) instead of following it", m.Name, best.Name, best.Offset)}
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

// restartedEmpty: the pod that was master came back as a new process
// (run_id changed) without any data.
func restartedEmpty(m Pod, prev Previous) bool {
	return prev.Name == m.Name && prev.RunID != "" && m.RunID != "" && m.RunID != prev.RunID && m.Keys == 0
}

func bestOf(pods []Pod) Pod {
	return slices.MinFunc(pods, moreData)
}
