// Package clusterplan decides the next step of a RedisCluster's
// reconcile from what the scaler observed, as plain values: no clients,
// no Kubernetes objects. The cluster reconciler carries the steps out
// (sends the Redis commands, records events and status); every rule here
// is a row of the table test.
package clusterplan

// Peer is one line of a node's CLUSTER NODES: another node (or itself)
// as that node sees it.
type Peer struct {
	ID, Addr string
	Master   bool
	// Slots is how many hash slots it owns.
	Slots int
	// Failed (fail), Suspected (fail?), Handshake and NoAddr are its flags.
	Failed, Suspected, Handshake, NoAddr bool
}

// Node is one pod of the cluster's StatefulSet and what its Redis says of
// the cluster.
type Node struct {
	// Name is the pod's; Ordinal its index in the StatefulSet.
	Name    string
	Ordinal int
	// Reachable: running and observed. Err says why not.
	Reachable bool
	Err       string

	// ID, Master, MasterID and Slots are from the node's own line.
	ID       string
	Master   bool
	MasterID string
	Slots    []int
	// Open: a slot is MIGRATING or IMPORTING on it (a move left half-done).
	Open bool
	// Keys is its DBSIZE.
	Keys int64
	// InSync: a replica whose link is up and no sync running.
	InSync bool
	// Outdated: the pod runs an older revision of the StatefulSet's
	// template than its update revision; Terminating: it is being deleted.
	Outdated, Terminating bool
	// View is its whole CLUSTER NODES.
	View []Peer
}

// Owner: a reachable master that owns slots.
func (n *Node) Owner() bool { return n.Reachable && n.Master && len(n.Slots) > 0 }

// Cluster is what a step is decided on.
type Cluster struct {
	// StatefulSet is the name of the StatefulSet; Replicas its
	// spec.replicas.
	StatefulSet string
	Replicas    int32
	// Shards is how many shards are wanted; PodsPerShard is
	// 1 + replicasPerShard.
	Shards, PodsPerShard int
	// Formed: the status lists shards, so the cluster owned slots before.
	Formed bool
	// Resharding: the status says slot moves were pending.
	Resharding bool
	// ReplicaWait: how many of a destination's replicas must have each
	// migrated batch (0: none).
	ReplicaWait int
	// Nodes are the StatefulSet's pods, by ordinal.
	Nodes []Node
	// Rolling: the StatefulSet's updateStrategy is RollingUpdate, whose
	// Partition the scaler paces (see Rollout).
	Rolling   bool
	Partition int32
}

// Pods is how many pods the wanted shards take.
func (c *Cluster) Pods() int { return c.Shards * c.PodsPerShard }

// Wanted reports whether the pod belongs to a wanted shard.
func (c *Cluster) Wanted(n *Node) bool { return n.Ordinal < c.Pods() }

// ShardOf is the shard a pod of a wanted shard belongs to.
func (c *Cluster) ShardOf(n *Node) int { return n.Ordinal / c.PodsPerShard }

// Block is the pods of wanted shard k, by ordinal.
func (c *Cluster) Block(k int) []*Node {
	var out []*Node
	for i := range c.Nodes {
		if n := &c.Nodes[i]; c.Wanted(n) && c.ShardOf(n) == k {
			out = append(out, n)
		}
	}
	return out
}

// ByID is the reachable pod whose node has this ID (nil: no pod answers
// to it).
func (c *Cluster) ByID(id string) *Node {
	for i := range c.Nodes {
		if n := &c.Nodes[i]; n.Reachable && n.ID == id {
			return n
		}
	}
	return nil
}

// LiveMasters are the IDs of the masters of a view that are not failed,
// suspected or still in handshake: the nodes told of a slot's new owner.
func LiveMasters(view []Peer) []string {
	var out []string
	for _, p := range view {
		if p.Master && !p.Failed && !p.Suspected && !p.Handshake {
			out = append(out, p.ID)
		}
	}
	return out
}
