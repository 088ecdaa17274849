package clusterplan

import (
	"fmt"
	"math"
)

// PartitionHold is the RollingUpdate partition at which the StatefulSet
// controller updates no pod by itself (it updates ordinals at or above
// the partition).
const PartitionHold = math.MaxInt32

// A RollingUpdate of the cluster's StatefulSet is paced by the scaler
// through the partition, as a group's is (topology.PlanPartition): left
// alone, the StatefulSet controller deletes each pod, masters included,
// as soon as the previous one is Ready, so every master gets SIGTERM with
// no CLUSTER FAILOVER first (its slots refuse writes for the node timeout
// and the election) and may go while its just-restarted replica is still
// in its first sync. The partition is held above every pod, and lowered
// one ordinal at a time (the controller goes highest first) from a settled
// cluster only; a master's ordinal only once a CLUSTER FAILOVER handed its
// slots to an in-sync replica (updated if one is). A shard whose master
// has the lower ordinal (as formed) changes master once per rollout; one
// whose master has the higher ordinal, twice.

// next is the pod with the highest ordinal not updated; nil when none.
func (c *Cluster) next() *Node {
	var next *Node
	for i := range c.Nodes {
		if n := &c.Nodes[i]; n.Outdated && (next == nil || n.Ordinal > next.Ordinal) {
			next = n
		}
	}
	return next
}

// Pending: a RollingUpdate with pods still to update.
func (c *Cluster) Pending() bool { return c.Rolling && c.next() != nil }

// Hold is the partition to set before anything else is decided, when the
// partition would let the StatefulSet controller do more than the scaler
// allowed: it is below the next pod to update (not set by the scaler, or
// edited by hand), so the controller may update several pods in a row
// (the pod it may be replacing already finishes; the rest wait); or it is
// at that pod and the pod became a master since (a failover), which must
// be handed over before its pod goes.
func (c *Cluster) Hold() (int32, bool) {
	next := c.next()
	if !c.Rolling || next == nil || c.Partition > int32(next.Ordinal) {
		return 0, false
	}
	replacing := next.Terminating || !next.Reachable
	if c.Partition == int32(next.Ordinal) {
		if next.Master && len(next.Slots) > 0 && !replacing && c.PodsPerShard > 1 {
			return int32(next.Ordinal) + 1, true
		}
		return 0, false
	}
	if replacing {
		return int32(next.Ordinal), true
	}
	return int32(next.Ordinal) + 1, true
}

// rollout is the last step of a settled cluster: the next pod to update,
// a master handed over first.
func (d *decision) rollout() {
	c := d.c
	if !c.Rolling {
		return
	}
	next := c.next()
	if next == nil {
		if c.Partition != PartitionHold {
			d.add(Step{Kind: Partition, Pods: PartitionHold})
		}
		return
	}
	if c.Partition <= int32(next.Ordinal) {
		return // the StatefulSet controller is replacing it
	}
	if next.Master && len(next.Slots) > 0 {
		var to *Node
		for i := range c.Nodes {
			n := &c.Nodes[i]
			if n.Reachable && !n.Terminating && n.InSync && n.MasterID == next.ID && (to == nil || to.Outdated && !n.Outdated) {
				to = n
			}
		}
		if to == nil && c.PodsPerShard == 1 {
			// No replicas at all: the master is replaced in place (its
			// slots are unavailable meanwhile; its data on its volume).
			d.add(Step{Kind: Partition, Node: next.Name, Pods: next.Ordinal})
			return
		}
		if to == nil {
			d.add(Step{Kind: RolloutWaits, Node: next.Name,
				Message: fmt.Sprintf("%s, master of %d slots, is next to update and has no in-sync replica to hand them to", next.Name, len(next.Slots))})
			return
		}
		d.add(Step{Kind: Handover, Node: to.Name, From: next.Name, Slots: len(next.Slots)})
		return
	}
	d.add(Step{Kind: Partition, Node: next.Name, Pods: next.Ordinal})
}
