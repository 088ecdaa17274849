package topology

import "fmt"

// RolloutPlan is the next step of a rolling update the scaler drives
// (StatefulSet updateStrategy OnDelete): at most one of its fields is set.
type RolloutPlan struct {
	// Delete: delete this pod so the StatefulSet re-creates it on the new
	// revision. Replicas go first, highest ordinal first.
	Delete string
	// SwitchoverTo: every replica is updated and the master is not; move
	// the master here first (the only switchover of the update).
	SwitchoverTo string
	// Done: every pod runs the update revision.
	Done bool
	// Reason a step waits.
	Reason string
}

// PlanRollout decides the next step of a rolling update. One pod at a time,
// and only from a settled group: every pod running, answering and (but the
// master) in sync with the master, none being deleted. So a replica is
// replaced only while the master and the other replicas hold every
// acknowledged write, and the master moves once, to an updated replica.
func PlanRollout(pods []Pod, master string, host string, port int, maxLag int64) RolloutPlan {
	m, ok := Find(pods, master)
	if !ok || !m.IsMaster() {
		return RolloutPlan{Reason: "no master"}
	}
	var outdated []Pod
	for _, p := range pods {
		switch {
		case p.Terminating || !p.Running || !p.Reachable:
			return RolloutPlan{Reason: fmt.Sprintf("waiting for %s to be running and answer", p.Name)}
		case p.Name != master && !p.InSyncWith(host, port):
			return RolloutPlan{Reason: fmt.Sprintf("waiting for %s to be in sync", p.Name)}
		}
		if p.Outdated && p.Name != master {
			outdated = append(outdated, p)
		}
	}
	if len(outdated) > 0 {
		last := outdated[0]
		for _, p := range outdated[1:] {
			if p.Ordinal > last.Ordinal {
				last = p
			}
		}
		return RolloutPlan{Delete: last.Name}
	}
	if !m.Outdated {
		return RolloutPlan{Done: true}
	}
	target, ok := SwitchoverTarget(pods, m, host, port, maxLag, func(p Pod) bool { return !p.Outdated })
	if !ok {
		if len(pods) == 1 {
			// A group of one has nobody to hand over to: the master is
			// replaced in place (its writes are unavailable meanwhile).
			return RolloutPlan{Delete: m.Name}
		}
		return RolloutPlan{Reason: "no updated replica in sync to take over the master"}
	}
	return RolloutPlan{SwitchoverTo: target}
}
