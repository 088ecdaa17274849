package topology

import "slices"

// AttachPlan lists pods to point at the master.
type AttachPlan struct {
	// Attach: pods to send REPLICAOF, lowest ordinal first.
	Attach []string
	// Waiting: pods that need attaching but wait for a sync slot.
	Waiting []string
	// Syncing: pods attached and still in initial sync (or link down).
	Syncing []string
	// InSync: replicas attached to the master and in sync.
	InSync []string
}

// PlanAttach decides which reachable pods must become (or be re-pointed as)
// replicas of the master at host:port. At most maxSyncs pods are in initial
// sync at once, counting those already syncing. Pods in demote are always
// attached: two masters taking writes is worse than an extra full sync.
func PlanAttach(pods []Pod, master string, host string, port int, maxSyncs int, demote []string) AttachPlan {
	var plan AttachPlan
	var need []Pod
	for _, p := range pods {
		if p.Name == master || !p.Reachable {
			continue
		}
		switch {
		case p.InSyncWith(host, port):
			plan.InSync = append(plan.InSync, p.Name)
		case p.Follows(host, port):
			plan.Syncing = append(plan.Syncing, p.Name)
		default:
			need = append(need, p)
		}
	}
	slices.SortFunc(need, func(a, b Pod) int { return a.Ordinal - b.Ordinal })
	slots := max(maxSyncs, 1) - len(plan.Syncing)
	for _, p := range need {
		if slices.Contains(demote, p.Name) || slots > 0 {
			plan.Attach = append(plan.Attach, p.Name)
			slots--
			continue
		}
		plan.Waiting = append(plan.Waiting, p.Name)
	}
	return plan
}
