package clusterplan

import "github.com/redis-autoscaler/redis-autoscaler/scaler/slots"

// Kind is what a step does.
type Kind int

// The steps, in the order Decide considers them.
const (
	// Grow the StatefulSet to Pods pods.
	Grow Kind = iota
	// WaitForPods: wanted pods are missing or do not answer (Waiting);
	// Joining when pods are still being created.
	WaitForPods
	// NotReformed: no node owns slots, but the cluster was formed before
	// (every master restarted empty?): its data is gone, it is not formed
	// again over it.
	NotReformed
	// NotEmpty: Node knows other nodes or holds keys, so no cluster is
	// formed over it.
	NotEmpty
	// Bootstrap forms the cluster: Masters (one per shard) get the slots,
	// Replicas[k] replicate Masters[k].
	Bootstrap
	// WaitForFailover: master ID (Addr, Slots) owns slots and is down;
	// Redis promotes its replica, which may hold the only copy. Open: a
	// slot move is open meanwhile, to finish as soon as the replica takes
	// over (keys it moved read as missing on the new owner until then).
	WaitForFailover
	// Meet introduces Nodes to the cluster through Node (the reference).
	Meet
	// Forget a failed identity (ID, Addr) no pod answers to any more.
	Forget
	// Fix finishes the slot moves an earlier scaler left open.
	Fix
	// Failover: Node, a replica of From (an owner to be removed), takes
	// its slots over (CLUSTER FAILOVER: no acknowledged write lost).
	Failover
	// Reset Node (CLUSTER RESET SOFT) to lead shard Shard: every pod of
	// the new shard replicates another shard.
	Reset
	// Attach: the wanted shards' Masters are chosen; Actions attach the
	// shards' other pods, or say why they wait.
	Attach
	// PlanFailed: the slot plan failed (Message).
	PlanFailed
	// MoveSlots makes Moves towards an even share; First when no
	// resharding was under way.
	MoveSlots
	// WaitForReplicas: every move left goes to a master (Nodes) with
	// fewer in-sync replicas than its source; they wait until it has them.
	WaitForReplicas
	// Resharded: the moves a resharding needed are all made.
	Resharded
	// Shrink: Forget the pods beyond the wanted shards (they own no
	// slots), then lower the StatefulSet to Pods.
	Shrink
	// Partition: set the StatefulSet's RollingUpdate partition to Pods,
	// so that the StatefulSet controller updates Node next (none: every
	// pod is updated, the partition is held for the next update).
	Partition
	// Handover: Node, an in-sync replica of From, takes From's slots
	// over with a CLUSTER FAILOVER before From's pod is updated.
	Handover
	// RolloutWaits: the next pod to update is a master with no in-sync
	// replica to hand its slots to (Message).
	RolloutWaits
)

// Step is one thing to do; the fields a Kind uses are named in its doc.
type Step struct {
	Kind Kind
	// Node is the pod acted on or through; From the one taken over from.
	Node, From string
	// Nodes (Meet) and Forget (Shrink) are pods.
	Nodes, Forget []string
	// ID, Addr and Slots name a node of the cluster (WaitForFailover,
	// Forget).
	ID, Addr string
	Slots    int
	Shard    int
	// Pods is the StatefulSet's new size (Grow, Shrink).
	Pods int
	// Waiting says which pods are waited for and why; Joining when the
	// StatefulSet has fewer pods than wanted.
	Waiting []string
	Joining bool
	// Masters and Replicas are pods (Bootstrap, Attach).
	Masters  []string
	Replicas [][]string
	Actions  []Action
	Moves    []slots.Move
	First    bool
	Open     bool
	Message  string
}

// Ends reports whether the reconcile stops after the step, whatever it
// did. Forget and Resharded never end it; Attach ends it while pods are
// not attached and in sync; Meet ends it once any node was met, which
// only its result tells (the executor's to see): when every MEET failed,
// the steps after it go on, decided on the same observation.
func (s Step) Ends() bool {
	switch s.Kind {
	case Meet, Forget, Resharded:
		return false
	case Attach:
		return len(s.Actions) > 0
	default:
		return true
	}
}

// ActionKind is what Attach does with one pod of a shard.
type ActionKind int

const (
	// Syncing: Node replicates its master and is still syncing.
	Syncing ActionKind = iota
	// KeepsKeys: Node is a master with Keys keys and no slots; it is not
	// made a replica (its keys would be lost).
	KeepsKeys
	// OfLostMaster: Node replicates MasterID, which no pod answers to;
	// Redis may be about to promote it, with the only copy of its slots.
	OfLostMaster
	// Replicate: CLUSTER REPLICATE on Node, to Master of Shard.
	Replicate
)

// Action is one pod's part of Attach.
type Action struct {
	Kind         ActionKind
	Node, Master string
	MasterID     string
	Shard        int
	Keys         int64
}
