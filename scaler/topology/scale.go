package topology

import (
	"fmt"
	"slices"
)

// ScaleDownPlan is the outcome of PlanScaleDown.
type ScaleDownPlan struct {
	// Safe: the StatefulSet may be lowered to the target now.
	Safe bool
	// SwitchoverTo: the master is among the pods removed; switch over to
	// this pod first (then scale down in a later reconcile).
	SwitchoverTo string
	// Reason when neither is possible.
	Reason string
}

// Reasons a scale-down waits.
const (
	ReasonNoMaster         = "NoMaster"
	ReasonNoInSyncSurvivor = "NoInSyncReplicaAmongSurvivors"
)

// DesiredReplicas clamps the wanted count to the floor (minReplicas, and
// never below 1). A nil want keeps the current count.
func DesiredReplicas(want *int32, current int32, floor int32) int32 {
	d := current
	if want != nil {
		d = *want
	}
	return max(d, floor, 1)
}

// PlanScaleDown decides whether the StatefulSet can go down to target pods
// (ordinals 0..target-1 stay). The master must stay; when it would be
// removed, the switchover target is the best candidate (SwitchoverTarget)
// among the pods that stay. A scale-down that keeps the master and at
// least one replica never removes the last in-sync replica: while the
// replicas that stay are still syncing (a restarted pod, a new one), the
// in-sync ones among those removed hold the only second copy, and a
// master lost right after would take the acknowledged writes with it.
// Going down to the master alone is what the user asked for.
func PlanScaleDown(pods []Pod, master string, host string, port int, target int32, maxLag int64) ScaleDownPlan {
	m, ok := Find(pods, master)
	if master == "" || !ok || !m.IsMaster() {
		return ScaleDownPlan{Reason: ReasonNoMaster}
	}
	if int32(m.Ordinal) < target {
		_, survivor := SwitchoverTarget(pods, m, host, port, maxLag, func(p Pod) bool { return p.Ordinal < int(target) })
		_, removed := SwitchoverTarget(pods, m, host, port, maxLag, func(p Pod) bool { return p.Ordinal >= int(target) })
		if target > 1 && removed && !survivor {
			return ScaleDownPlan{Reason: ReasonNoInSyncSurvivor}
		}
		return ScaleDownPlan{Safe: true}
	}
	best, ok := SwitchoverTarget(pods, m, host, port, maxLag, func(p Pod) bool { return p.Ordinal < int(target) })
	if !ok {
		return ScaleDownPlan{Reason: ReasonNoInSyncSurvivor}
	}
	return ScaleDownPlan{SwitchoverTo: best}
}

// SwitchoverTarget is the replica a planned switchover away from master
// goes to: running, not being deleted, attached to master at host:port and
// in sync, no further behind than maxLag bytes, accepted by keep; among
// those the pods already on the new revision first, then the most data.
func SwitchoverTarget(pods []Pod, master Pod, host string, port int, maxLag int64, keep func(Pod) bool) (string, bool) {
	var candidates []Pod
	for _, p := range pods {
		if p.Name != master.Name && p.Running && !p.Terminating && p.InSyncWith(host, port) &&
			master.Offset-p.Offset <= maxLag && (keep == nil || keep(p)) {
			candidates = append(candidates, p)
		}
	}
	if len(candidates) == 0 {
		return "", false
	}
	best := slices.MinFunc(candidates, func(a, b Pod) int {
		if a.Outdated != b.Outdated {
			if b.Outdated {
				return -1
			}
			return 1
		}
		return moreData(a, b)
	})
	return best.Name, true
}

// Summary is one line about a plan, for logs and events.
func (p ScaleDownPlan) Summary() string {
	switch {
	case p.Safe:
		return "safe"
	case p.SwitchoverTo != "":
		return fmt.Sprintf("switch over to %s first", p.SwitchoverTo)
	default:
		return p.Reason
	}
}
