package clusterplan

import (
	"fmt"
	"slices"

	"github.com/redis-autoscaler/redis-autoscaler/scaler/slots"
)

// Plan is what one reconcile does: its steps, carried out in order until
// one ends the reconcile (Step.Ends).
type Plan struct {
	Steps []Step
	// Ref is the pod whose view stands for the cluster's (the slot owner
	// that knows the most nodes); "" while no node owns slots.
	Ref string
}

// Decide finds the first thing that differs from the wanted state, in
// this order (each a precondition of the next):
//
//  1. grow the StatefulSet to shards × (1 + replicasPerShard) pods;
//  2. wait for every wanted pod to run and answer (but finish a slot
//     move a failover left open first, if every slot owner is up);
//  3. form the cluster (only if no node ever owned slots);
//  4. wait while a slot owner is down (Redis fails its replica over);
//  5. meet nodes the cluster does not know (new pods, pods restarted empty);
//  6. forget failed identities no pod has any more;
//  7. finish a migration an earlier scaler left open (as redis-cli --cluster fix);
//  8. choose each shard's master, attach the shard's other pods as its replicas;
//  9. move slots to an even share over the wanted shards' masters;
//  10. shrink: forget the emptied pods, then lower the StatefulSet;
//  11. roll the next pod of a RollingUpdate (rollout.go).
func Decide(c Cluster) Plan {
	d := &decision{c: &c}
	d.decide()
	return Plan{Steps: d.steps, Ref: d.ref}
}

type decision struct {
	c     *Cluster
	steps []Step
	ref   string
}

// add appends a step; true when it ends the reconcile.
func (d *decision) add(s Step) bool {
	d.steps = append(d.steps, s)
	return s.Ends()
}

func (d *decision) decide() {
	c := d.c
	if int(c.Replicas) < c.Pods() { // 1
		d.add(Step{Kind: Grow, Pods: c.Pods()})
		return
	}
	ref := d.reference()
	if waiting := d.unreachable(); len(waiting) > 0 { // 2
		// A move left open by a failover mid-move is finished at once,
		// whoever else is away: until then the keys it already moved
		// read as missing on the promoted replica. Only live masters
		// take part, and every slot owner must be up.
		if ref != nil && d.downOwner(ref) == nil && d.open() {
			d.ref = ref.Name
			d.add(Step{Kind: Fix})
			return
		}
		d.add(Step{Kind: WaitForPods, Waiting: waiting, Joining: len(c.Nodes) < c.Pods()})
		return
	}
	if ref == nil { // 3
		d.bootstrap()
		return
	}
	d.ref = ref.Name
	if d.ownerDown(ref) || d.meet(ref) { // 4, 5
		return
	}
	d.forgetStrangers(ref) // 6
	if d.fixOpen() {       // 7
		return
	}
	masters, stop := d.chooseMasters() // 8
	if stop || d.attach(masters) {
		return
	}
	if d.reshard(masters) { // 9
		return
	}
	if d.shrink() { // 10
		return
	}
	d.rollout() // 11
}

// reference is the slot owner that knows the most nodes: its view
// stands for the cluster's. nil while no reachable node owns slots.
func (d *decision) reference() *Node {
	var ref *Node
	for i := range d.c.Nodes {
		if o := &d.c.Nodes[i]; o.Owner() && (ref == nil || len(o.View) > len(ref.View)) {
			ref = o
		}
	}
	return ref
}

// unreachable says which wanted pods are missing or do not answer.
func (d *decision) unreachable() []string {
	c := d.c
	have := map[int]*Node{}
	for i := range c.Nodes {
		have[c.Nodes[i].Ordinal] = &c.Nodes[i]
	}
	var waiting []string
	for ord := range c.Pods() {
		n := have[ord]
		switch {
		case n == nil:
			waiting = append(waiting, fmt.Sprintf("%s-%d: no pod", c.StatefulSet, ord))
		case !n.Reachable:
			waiting = append(waiting, fmt.Sprintf("%s: %s", n.Name, n.Err))
		}
	}
	return waiting
}

// bootstrap forms the cluster: the first pod of each shard gets its even
// share of the slots, the others replicate it. Only a cluster that never
// owned slots is formed: nodes that lost every slot lost the data with
// them, and are not handed slots as if nothing had happened.
func (d *decision) bootstrap() {
	c := d.c
	if c.Formed {
		d.add(Step{Kind: NotReformed})
		return
	}
	masters := make([]string, c.Shards)
	replicas := make([][]string, c.Shards)
	for i := range c.Nodes {
		n := &c.Nodes[i]
		if !c.Wanted(n) {
			continue
		}
		if len(n.View) > 1 || n.Keys > 0 {
			d.add(Step{Kind: NotEmpty, Node: n.Name})
			return
		}
		k := c.ShardOf(n)
		if n.Ordinal%c.PodsPerShard == 0 {
			masters[k] = n.Name
		} else {
			replicas[k] = append(replicas[k], n.Name)
		}
	}
	d.add(Step{Kind: Bootstrap, Masters: masters, Replicas: replicas})
}

// ownerDown: a master that owns slots is failing, or is no pod that
// answers (killed, restarted as a new node, stalled). Redis Cluster
// promotes its replica after cluster-node-timeout (with a majority of
// masters up); until then nothing is changed: its replica may hold the
// only copy of its slots, and attaching that replica elsewhere would
// flush it.
func (d *decision) ownerDown(ref *Node) bool {
	if p := d.downOwner(ref); p != nil {
		return d.add(Step{Kind: WaitForFailover, ID: p.ID, Addr: p.Addr, Slots: p.Slots, Open: d.open()})
	}
	return false
}

// downOwner is the first master of ref's view that owns slots and is
// failing or answers to no pod.
func (d *decision) downOwner(ref *Node) *Peer {
	for i, p := range ref.View {
		if p.Master && p.Slots > 0 && (d.c.ByID(p.ID) == nil || p.Failed || p.Suspected) {
			return &ref.View[i]
		}
	}
	return nil
}

// meet introduces every wanted node the reference master does not know:
// a new pod, or one that restarted without its nodes.conf (a new node ID).
func (d *decision) meet(ref *Node) bool {
	known := map[string]bool{}
	for _, p := range ref.View {
		if !p.Handshake {
			known[p.ID] = true
		}
	}
	var strangers []string
	for i := range d.c.Nodes {
		if n := &d.c.Nodes[i]; d.c.Wanted(n) && !known[n.ID] {
			strangers = append(strangers, n.Name)
		}
	}
	if len(strangers) > 0 {
		return d.add(Step{Kind: Meet, Node: ref.Name, Nodes: strangers})
	}
	return false
}

// forgetStrangers forgets failed node IDs that no pod answers to any
// more: a pod restarted without its nodes.conf is a new node at the same
// address, and its old identity would linger as failed.
func (d *decision) forgetStrangers(ref *Node) {
	for _, p := range ref.View {
		if d.c.ByID(p.ID) != nil || p.Handshake || p.Slots > 0 || !(p.Failed || p.NoAddr) {
			continue
		}
		d.add(Step{Kind: Forget, ID: p.ID, Addr: p.Addr})
	}
}

// fixOpen finishes migrations an interrupted scaler left open.
func (d *decision) fixOpen() bool {
	if d.open() {
		return d.add(Step{Kind: Fix})
	}
	return false
}

// open: a reachable node has a slot MIGRATING or IMPORTING.
func (d *decision) open() bool {
	for i := range d.c.Nodes {
		if n := &d.c.Nodes[i]; n.Reachable && n.Open {
			return true
		}
	}
	return false
}

// chooseMasters picks each wanted shard's master: the pod of the shard
// that owns slots (the most, if several do); failing that, a pod of the
// shard that replicates an owner about to be removed takes over from it
// (CLUSTER FAILOVER: no acknowledged write lost); failing that, an empty
// master of the shard, which receives slots by migration; failing that
// (every pod of the new shard replicates another shard: Redis moved them
// there), the first is reset to be an empty master again. stop: a
// failover or reset comes first.
func (d *decision) chooseMasters() (masters []*Node, stop bool) {
	c := d.c
	masters = make([]*Node, c.Shards)
	for k := range c.Shards {
		blk := c.Block(k)
		for _, n := range blk {
			if n.Owner() && (masters[k] == nil || len(n.Slots) > len(masters[k].Slots)) {
				masters[k] = n
			}
		}
		if masters[k] != nil {
			continue
		}
		for _, n := range blk {
			if m := c.ByID(n.MasterID); m != nil && m.Owner() && !c.Wanted(m) {
				return nil, d.add(Step{Kind: Failover, Node: n.Name, From: m.Name, Slots: len(m.Slots)})
			}
		}
		for _, n := range blk {
			if n.Master && n.Keys == 0 {
				masters[k] = n
				break
			}
		}
		if masters[k] == nil {
			return nil, d.add(Step{Kind: Reset, Node: blk[0].Name, Shard: k})
		}
	}
	return masters, false
}

// attach makes every other pod of a shard a replica of its master; it
// ends the reconcile until all are attached and in sync (slots move only
// then, so every migrated batch can reach a replica of its destination).
func (d *decision) attach(masters []*Node) bool {
	c := d.c
	st := Step{Kind: Attach}
	for k, m := range masters {
		st.Masters = append(st.Masters, m.Name)
		for _, n := range c.Block(k) {
			a := Action{Node: n.Name, Master: m.Name, Shard: k}
			switch {
			case n == m:
				continue
			case n.MasterID == m.ID:
				if n.InSync {
					continue
				}
				a.Kind = Syncing
			case n.Owner():
				continue // drained by the plan, then attached
			case n.Master && n.Keys > 0:
				a.Kind, a.Keys = KeepsKeys, n.Keys
			case n.MasterID != "" && c.ByID(n.MasterID) == nil:
				a.Kind, a.MasterID = OfLostMaster, n.MasterID
			default:
				a.Kind = Replicate
			}
			st.Actions = append(st.Actions, a)
		}
	}
	return d.add(st)
}

// reshard plans the fewest slot moves to an even share over the wanted
// shards' masters.
func (d *decision) reshard(masters []*Node) bool {
	c := d.c
	owned := map[string][]int{}
	for i := range c.Nodes {
		if n := &c.Nodes[i]; n.Owner() {
			owned[n.ID] = n.Slots
		}
	}
	keep := make([]string, len(masters))
	for i, m := range masters {
		keep[i] = m.ID
	}
	moves, err := slots.Plan(owned, keep)
	if err != nil {
		return d.add(Step{Kind: PlanFailed, Message: err.Error()})
	}
	if len(moves) == 0 {
		if c.Resharding {
			d.add(Step{Kind: Resharded})
		}
		return false
	}
	moves, held := d.withReplicas(moves)
	if len(moves) == 0 {
		return d.add(Step{Kind: WaitForReplicas, Nodes: held})
	}
	return d.add(Step{Kind: MoveSlots, Moves: moves, First: !c.Resharding})
}

// withReplicas keeps the moves that leave keys with as many copies as
// they had: the destination has as many in-sync replicas as the source,
// up to ReplicaWait. held names the destinations the others wait for (a
// master whose replica is still to be attached, such as a shard's new
// master while an old one of the same shard still owns slots).
func (d *decision) withReplicas(moves []slots.Move) (ready []slots.Move, held []string) {
	c := d.c
	if c.ReplicaWait == 0 {
		return moves, nil
	}
	inSync := map[string]int{}
	for i := range c.Nodes {
		if n := &c.Nodes[i]; n.Reachable && n.InSync && n.MasterID != "" {
			inSync[n.MasterID]++
		}
	}
	for _, mv := range moves {
		if inSync[mv.To] >= min(c.ReplicaWait, inSync[mv.From]) {
			ready = append(ready, mv)
			continue
		}
		if n := c.ByID(mv.To); n != nil && !slices.Contains(held, n.Name) {
			held = append(held, n.Name)
		}
	}
	return ready, held
}

// shrink removes the pods beyond the wanted shards once they own no
// slots: every remaining node forgets them (CLUSTER FORGET also bans
// them for a minute, longer than the pods take to go), then the
// StatefulSet is lowered. They are not reset: until deleted they keep
// answering clients with correct redirections (a reset node answers
// CLUSTERDOWN, and a client that loads its slot map there loses its
// way). A scaler stopped in between forgets them again.
func (d *decision) shrink() bool {
	c := d.c
	if int(c.Replicas) <= c.Pods() {
		return false
	}
	var forget []string
	for i := range c.Nodes {
		n := &c.Nodes[i]
		if c.Wanted(n) {
			continue
		}
		if n.Owner() {
			return true // its slots move first
		}
		if n.Reachable {
			forget = append(forget, n.Name)
		}
	}
	return d.add(Step{Kind: Shrink, Forget: forget, Pods: c.Pods()})
}
