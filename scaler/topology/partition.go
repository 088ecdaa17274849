package topology

import (
	"fmt"
	"math"
)

// PartitionHold is the RollingUpdate partition at which the StatefulSet
// controller updates no pod by itself: it updates only ordinals at or
// above the partition.
const PartitionHold = math.MaxInt32

// PartitionPlan is the next step of a rolling update of a StatefulSet
// with updateStrategy RollingUpdate, which the scaler paces through the
// partition: Partition is the value to hold now (the current one when
// nothing changes), and at most one of SwitchoverTo and Reason is set.
type PartitionPlan struct {
	Partition int32
	// SwitchoverTo: the next pod to update is the master; hand it over
	// to this in-sync replica first.
	SwitchoverTo string
	// Reason the update waits.
	Reason string
	// Done: every pod runs the update revision.
	Done bool
}

// PlanPartition decides the partition of a RollingUpdate StatefulSet of
// want pods whose current partition is cur. Left alone, the StatefulSet
// controller deletes the next pod as soon as the last one is Ready, which
// a Redis replica is before its first sync ends: a rollout could take the
// master while no replica held its data (issue 25, case 12). So the scaler
// holds the partition above every pod and lowers it one ordinal at a time
// (the controller goes highest ordinal first), each only from a settled
// group (every pod running, answering and in sync, none being deleted),
// and never to the master's ordinal before a switchover moved the master
// to an in-sync replica, updated if one is. Once every pod is updated the
// hold is restored, so the next template change waits for the scaler.
//
// The master moves at most twice per rollout: once when it is the highest
// ordinal and no replica is updated yet, once more when its successor's
// turn comes.
func PlanPartition(pods []Pod, want int, master, host string, port int, maxLag int64, cur int32) PartitionPlan {
	plan := PartitionPlan{Partition: cur}
	next := nextOutdated(pods)
	if next == nil {
		if len(pods) < want {
			plan.Reason = "waiting for every pod to exist"
			return plan
		}
		plan.Partition, plan.Done = PartitionHold, true
		return plan
	}
	at := int32(next.Ordinal)
	switch {
	case cur == at && next.Name == master && next.Running && !next.Terminating && len(pods) > 1:
		// It became the master after it was opened to the controller
		// (an election after a crash): hand it over first.
		plan.Partition = at + 1
		plan.Reason = fmt.Sprintf("%s became the master; holding its update for a switchover", next.Name)
		return plan
	case cur == at:
		plan.Reason = fmt.Sprintf("the StatefulSet controller is replacing %s", next.Name)
		return plan
	case cur < at:
		// Not set by the scaler (a StatefulSet it just started to
		// manage, or edited by hand): HoldPartition's rule.
		plan.Partition, _ = HoldPartition(pods, cur)
		plan.Reason = "holding the update to pace it"
		return plan
	}
	if r := unsettled(pods, want, master, host, port); r != "" {
		plan.Reason = r
		return plan
	}
	if next.Name == master {
		m, _ := Find(pods, master)
		target, ok := SwitchoverTarget(pods, m, host, port, maxLag, nil)
		if !ok {
			if len(pods) == 1 {
				plan.Partition = at // a group of one is replaced in place
				return plan
			}
			plan.Reason = "no replica in sync to take over the master"
			return plan
		}
		plan.SwitchoverTo = target
		return plan
	}
	plan.Partition = at
	return plan
}

// HoldPartition is PlanPartition's first rule alone, for a group with no
// master to plan around (none elected, or its pod going): when the
// partition is below the next pod to update, the partition that lets the
// StatefulSet controller finish the pod it may be replacing and no more.
func HoldPartition(pods []Pod, cur int32) (int32, bool) {
	next := nextOutdated(pods)
	if next == nil || cur >= int32(next.Ordinal) {
		return 0, false
	}
	if next.Terminating || !next.Running {
		return int32(next.Ordinal), true
	}
	return int32(next.Ordinal) + 1, true
}

// nextOutdated is the pod with the highest ordinal not updated (the
// StatefulSet controller's next), nil when none.
func nextOutdated(pods []Pod) *Pod {
	var next *Pod
	for i := range pods {
		if p := &pods[i]; p.Outdated && (next == nil || p.Ordinal > next.Ordinal) {
			next = p
		}
	}
	return next
}

// unsettled names why the group is not settled, or returns "".
func unsettled(pods []Pod, want int, master, host string, port int) string {
	if len(pods) < want {
		return "waiting for every pod to exist"
	}
	for _, p := range pods {
		switch {
		case p.Terminating || !p.Running || !p.Reachable:
			return fmt.Sprintf("waiting for %s to be running and answer", p.Name)
		case p.Name == master && !p.IsMaster():
			return "no master"
		case p.Name != master && !p.InSyncWith(host, port):
			return fmt.Sprintf("waiting for %s to be in sync", p.Name)
		}
	}
	return ""
}
