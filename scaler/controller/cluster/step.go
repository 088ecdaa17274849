package cluster

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/redis-autoscaler/redis-autoscaler/scaler/api/v1alpha1"
	"github.com/redis-autoscaler/redis-autoscaler/scaler/clusterops"
	"github.com/redis-autoscaler/redis-autoscaler/scaler/controller"
	"github.com/redis-autoscaler/redis-autoscaler/scaler/slots"
)

// clusterStep is one reconcile of a RedisCluster: it finds the first thing
// that differs from the wanted state and does that, in this order (each a
// precondition of the next):
//
//  1. grow the StatefulSet to shards × (1 + replicasPerShard) pods;
//  2. wait for every wanted pod to run and answer;
//  3. form the cluster (only if no node ever owned slots);
//  4. wait while a slot owner is down (Redis fails its replica over);
//  5. meet nodes the cluster does not know (new pods, pods restarted empty);
//  6. forget failed identities no pod has any more;
//  7. finish a migration an earlier scaler left open (as redis-cli --cluster fix);
//  8. choose each shard's master, attach the shard's other pods as its replicas;
//  9. move slots to an even share over the wanted shards' masters;
//  10. shrink: forget the emptied pods, then lower the StatefulSet.
type clusterStep struct {
	r     *Reconciler
	rc    *v1alpha1.RedisCluster
	sts   *appsv1.StatefulSet
	nodes []*cnode
	creds clusterCreds
	out   *clusterOutcome

	per, want, wantPods int
	cur                 int32
	masters             []*cnode // per wanted shard, once chosen
	pending             int
}

const (
	clusterOpTimeout  = 10 * time.Second
	bootstrapTimeout  = time.Minute
	requeueResharding = 10 * time.Millisecond
)

func (s *clusterStep) event(reason, format string, args ...any) {
	s.r.Recorder.Eventf(s.rc, corev1.EventTypeNormal, reason, format, args...)
}

func (s *clusterStep) warn(reason, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	s.r.Recorder.Event(s.rc, corev1.EventTypeWarning, reason, msg)
	s.out.Degrade(reason, msg)
}

func (s *clusterStep) resharding(reason, format string, args ...any) {
	s.out.resharding = metav1.Condition{Status: metav1.ConditionTrue, Reason: reason, Message: fmt.Sprintf(format, args...)}
}

func (s *clusterStep) run(ctx context.Context) {
	defer s.status()
	spec := &s.rc.Spec
	s.per = 1 + spec.PerShard()
	s.cur = 1
	if s.sts.Spec.Replicas != nil {
		s.cur = *s.sts.Spec.Replicas
	}
	s.want = spec.WantShards(s.cur)
	s.wantPods = s.want * s.per
	s.r.Cluster.DesiredShards.WithLabelValues(s.rc.Namespace, s.rc.Name).Set(float64(s.want))

	if int(s.cur) < s.wantPods { // 1
		if err := s.r.setReplicas(ctx, s.rc, s.sts, s.cur, int32(s.wantPods)); err != nil {
			s.warn("ScaleFailed", "%v", err)
			return
		}
		s.resharding("AddingPods", "statefulset %s: %d -> %d pods for %d shards", s.sts.Name, s.cur, s.wantPods, s.want)
		s.out.Soon(controller.RequeueScaling)
		return
	}
	if !s.podsReady() { // 2
		return
	}
	owners := s.owners()
	if len(owners) == 0 { // 3
		s.bootstrap(ctx)
		return
	}
	ref := owners[0]
	for _, o := range owners[1:] {
		if len(o.nodes) > len(ref.nodes) {
			ref = o
		}
	}
	if s.ownerDown(ref) { // 4
		return
	}
	if s.meet(ctx, ref) { // 5
		return
	}
	s.forgetStrangers(ctx, ref) // 6
	if s.fixOpen(ctx, ref) {    // 7
		return
	}
	if !s.chooseMasters(ctx) || !s.attach(ctx) { // 8
		return
	}
	if s.reshard(ctx, ref) { // 9
		return
	}
	s.shrink(ctx) // 10
}

// wanted reports whether the pod belongs to a wanted shard.
func (s *clusterStep) wanted(n *cnode) bool { return n.ord < s.wantPods }

func (s *clusterStep) shardOf(n *cnode) int { return n.ord / s.per }

func (s *clusterStep) podsReady() bool {
	have := map[int]*cnode{}
	for _, n := range s.nodes {
		have[n.ord] = n
	}
	var waiting []string
	for ord := range s.wantPods {
		n := have[ord]
		switch {
		case n == nil:
			waiting = append(waiting, fmt.Sprintf("%s-%d: no pod", s.sts.Name, ord))
		case !n.reachable():
			waiting = append(waiting, fmt.Sprintf("%s: %v", n.name(), n.err))
		}
	}
	if len(waiting) == 0 {
		return true
	}
	s.out.NotReady = waiting
	if len(s.nodes) < s.wantPods {
		s.resharding("WaitingForPods", "waiting for pods: %s", controller.JoinMax(waiting, 5))
	} else {
		s.out.Degrade("PodUnreachable", controller.JoinMax(waiting, 5))
	}
	s.out.Soon(controller.RequeueSyncing)
	return false
}

func (s *clusterStep) owners() []*cnode {
	var out []*cnode
	for _, n := range s.nodes {
		if n.owner() {
			out = append(out, n)
		}
	}
	return out
}

func (s *clusterStep) member(n *cnode) clusterops.Member {
	port := s.rc.Spec.RedisPort()
	bus := n.me.BusPort
	if bus == 0 {
		bus = port + 10000
	}
	return clusterops.Member{Host: n.pod.Status.PodIP, Port: port, BusPort: bus}
}

// bootstrap forms the cluster: the first pod of each shard gets its even
// share of the slots, the others replicate it. Only a cluster that never
// owned slots is formed: nodes that lost every slot lost the data with
// them, and are not handed slots as if nothing had happened.
func (s *clusterStep) bootstrap(ctx context.Context) {
	if len(s.rc.Status.ShardStatuses) > 0 {
		s.warn("NoSlotOwners", "no node owns slots any more (every master restarted empty?); the cluster was formed before, so it is not formed again: restore it, or delete and recreate the RedisCluster")
		return
	}
	masters := make([]clusterops.Member, s.want)
	replicas := make([][]clusterops.Member, s.want)
	for _, n := range s.nodes {
		if !s.wanted(n) {
			continue
		}
		if len(n.nodes) > 1 || n.keys > 0 {
			s.warn("NodeNotEmpty", "%s already knows other nodes or holds keys: not forming a cluster over it", n.name())
			return
		}
		k := s.shardOf(n)
		if n.ord%s.per == 0 {
			masters[k] = s.member(n)
		} else {
			replicas[k] = append(replicas[k], s.member(n))
		}
	}
	bctx, cancel := context.WithTimeout(ctx, bootstrapTimeout)
	defer cancel()
	s.r.Metrics.Commands.WithLabelValues("CLUSTER ADDSLOTSRANGE").Inc()
	if err := clusterops.Bootstrap(bctx, s.r.client(s.creds), masters, replicas); err != nil {
		s.warn("BootstrapFailed", "forming the cluster: %v", err)
		return
	}
	s.event("Bootstrapped", "cluster formed: %d shards × %d replicas, %d slots each", s.want, s.per-1, slots.Count/s.want)
	s.resharding("Bootstrapping", "cluster formed")
	s.out.Soon(controller.RequeueSyncing)
}

// meet introduces every wanted node the reference master does not know:
// a new pod, or one that restarted without its nodes.conf (a new node ID).
func (s *clusterStep) meet(ctx context.Context, ref *cnode) bool {
	known := map[string]bool{}
	for _, n := range ref.nodes {
		if !n.Has("handshake") {
			known[n.ID] = true
		}
	}
	target := s.member(ref)
	var met []string
	for _, n := range s.nodes {
		if !s.wanted(n) || known[n.me.ID] {
			continue
		}
		err := n.client.Do(ctx, "CLUSTER", "MEET", target.Host, target.Port, target.BusPort).Err()
		s.r.Metrics.Commands.WithLabelValues("CLUSTER MEET").Inc()
		if err != nil {
			s.warn("MeetFailed", "CLUSTER MEET from %s: %v", n.name(), err)
			continue
		}
		met = append(met, n.name())
	}
	if len(met) == 0 {
		return false
	}
	s.event("NodesMet", "%s joined the cluster", strings.Join(met, ", "))
	s.resharding("Joining", "%s joining", strings.Join(met, ", "))
	s.out.Soon(controller.RequeueSyncing)
	return true
}

// ownerDown: a master that owns slots is failing, or is no pod that
// answers (killed, restarted as a new node, stalled). Redis Cluster
// promotes its replica after cluster-node-timeout (with a majority of
// masters up); until then nothing is changed: its replica may hold the
// only copy of its slots, and attaching that replica elsewhere would
// flush it.
func (s *clusterStep) ownerDown(ref *cnode) bool {
	for _, n := range ref.nodes {
		if n.Master() && len(n.Slots) > 0 && (s.byID(n.ID) == nil || n.Has("fail") || n.Has("fail?")) {
			s.out.Degrade("ShardMasterDown", fmt.Sprintf("master %s (%s, %d slots) is down; waiting for its replica to take over", n.ID, n.Addr, len(n.Slots)))
			s.out.Soon(controller.RequeueDegraded)
			return true
		}
	}
	return false
}

// forgetStrangers makes every node forget failed node IDs that no pod
// answers to any more: a pod restarted without its nodes.conf is a new
// node at the same address, and its old identity would linger as failed.
func (s *clusterStep) forgetStrangers(ctx context.Context, ref *cnode) {
	for _, n := range ref.nodes {
		if s.byID(n.ID) != nil || n.Has("handshake") || len(n.Slots) > 0 || !(n.Has("fail") || n.Has("noaddr")) {
			continue
		}
		if err := s.forget(ctx, n.ID, s.nodes); err != nil {
			s.warn("ForgetFailed", "forgetting %s: %v", n.ID, err)
			continue
		}
		s.event("NodeForgotten", "failed node %s (%s) is no pod any more: forgotten", n.ID, n.Addr)
	}
}

func (s *clusterStep) forget(ctx context.Context, id string, among []*cnode) error {
	var others []clusterops.Member
	for _, n := range among {
		if n.reachable() && n.me.ID != id {
			others = append(others, s.member(n))
		}
	}
	s.r.Metrics.Commands.WithLabelValues("CLUSTER FORGET").Inc()
	err := clusterops.Forget(ctx, s.r.client(s.creds), others, id)
	if err != nil && strings.Contains(err.Error(), "forget my master") {
		return nil // a replica of it learns from the bus once it moved
	}
	return err
}

// liveMasters are the masters of the reference view that are not failed.
func liveMasters(ref *cnode) []clusterops.Node {
	var out []clusterops.Node
	for _, n := range ref.nodes {
		if n.Master() && !n.Has("fail") && !n.Has("fail?") && !n.Has("handshake") {
			out = append(out, n)
		}
	}
	return out
}

// fixOpen finishes migrations an interrupted scaler left open.
func (s *clusterStep) fixOpen(ctx context.Context, ref *cnode) bool {
	open := false
	for _, n := range s.nodes {
		if n.reachable() && (len(n.me.Migrating) > 0 || len(n.me.Importing) > 0) {
			open = true
		}
	}
	if !open {
		return false
	}
	fixed, err := s.migrator(func(n int) { s.rc.Status.Migrations.KeysMoved += int64(n) }).Fix(ctx, liveMasters(ref))
	s.count(fixed)
	if err != nil {
		s.warn("FixFailed", "finishing an interrupted migration: %v", err)
		return true
	}
	s.event("MigrationResumed", "finished %d slot moves an earlier run left open", fixed)
	s.resharding("Resuming", "finished %d open slot moves", fixed)
	s.out.Soon(requeueResharding)
	return true
}

func (s *clusterStep) block(k int) []*cnode {
	var out []*cnode
	for _, n := range s.nodes {
		if s.wanted(n) && s.shardOf(n) == k {
			out = append(out, n)
		}
	}
	return out
}

func (s *clusterStep) byID(id string) *cnode {
	for _, n := range s.nodes {
		if n.reachable() && n.me.ID == id {
			return n
		}
	}
	return nil
}

// chooseMasters picks each wanted shard's master: the pod of the shard
// that owns slots (the most, if several do); failing that, a pod of the
// shard that replicates an owner about to be removed takes over from it
// (CLUSTER FAILOVER: no acknowledged write lost); failing that, an empty
// master of the shard, which receives slots by migration.
func (s *clusterStep) chooseMasters(ctx context.Context) bool {
	s.masters = make([]*cnode, s.want)
	for k := range s.want {
		blk := s.block(k)
		for _, n := range blk {
			if n.owner() && (s.masters[k] == nil || len(n.me.Slots) > len(s.masters[k].me.Slots)) {
				s.masters[k] = n
			}
		}
		if s.masters[k] != nil {
			continue
		}
		for _, n := range blk {
			if m := s.byID(n.me.MasterID); m != nil && m.owner() && !s.wanted(m) {
				s.r.Metrics.Commands.WithLabelValues("CLUSTER FAILOVER").Inc()
				fctx, cancel := context.WithTimeout(ctx, clusterOpTimeout)
				err := clusterops.Failover(fctx, n.client)
				cancel()
				if err != nil {
					s.warn("FailoverFailed", "%s taking over from %s: %v", n.name(), m.name(), err)
					return false
				}
				s.event("FailedOver", "%s took over %d slots from %s, which is to be removed", n.name(), len(m.me.Slots), m.name())
				s.out.Soon(controller.RequeueSyncing)
				return false
			}
		}
		for _, n := range blk {
			if n.me.Master() && n.keys == 0 {
				s.masters[k] = n
				break
			}
		}
		if s.masters[k] == nil {
			// Every pod of the new shard replicates another shard (Redis
			// moved them there): the first becomes an empty master again.
			n := blk[0]
			s.r.Metrics.Commands.WithLabelValues("CLUSTER RESET").Inc()
			if err := n.client.Do(ctx, "CLUSTER", "RESET", "SOFT").Err(); err != nil {
				s.warn("ResetFailed", "%s: CLUSTER RESET SOFT: %v", n.name(), err)
				return false
			}
			s.event("NodeReset", "%s replicated another shard: reset to lead shard %d", n.name(), k)
			s.out.Soon(controller.RequeueSyncing)
			return false
		}
	}
	return true
}

// attach makes every other pod of a shard a replica of its master; true
// when all are attached and in sync (slots move only then, so every
// migrated batch can reach a replica of its destination).
func (s *clusterStep) attach(ctx context.Context) bool {
	done := true
	for k, m := range s.masters {
		for _, n := range s.block(k) {
			switch {
			case n == m:
				continue
			case n.me.MasterID == m.me.ID:
				if !n.inSync {
					s.out.NotReady = append(s.out.NotReady, n.name()+" syncing")
					done = false
				}
				continue
			case n.owner():
				continue // drained by the plan, then attached
			case n.me.Master() && n.keys > 0:
				s.warn("NodeNotEmpty", "%s is a master with %d keys and no slots: not made a replica (its keys would be lost)", n.name(), n.keys)
				done = false
				continue
			case n.me.MasterID != "" && s.byID(n.me.MasterID) == nil:
				// Its master is no pod that answers: Redis may be about to
				// promote it, with the only copy of the slots.
				s.out.Degrade("ReplicaOfLostMaster", fmt.Sprintf("%s replicates %s, which does not answer: left as it is", n.name(), n.me.MasterID))
				done = false
				continue
			}
			done = false
			s.r.Metrics.Commands.WithLabelValues("CLUSTER REPLICATE").Inc()
			if err := n.client.Do(ctx, "CLUSTER", "REPLICATE", m.me.ID).Err(); err != nil {
				// Usually the node has not heard of the master yet.
				s.out.NotReady = append(s.out.NotReady, fmt.Sprintf("%s: %v", n.name(), err))
				continue
			}
			s.event("ReplicaAttached", "%s replicates %s (shard %d)", n.name(), m.name(), k)
		}
	}
	if !done {
		s.resharding("AttachingReplicas", "replicas attaching: %s", controller.JoinMax(s.out.NotReady, 5))
		s.out.Soon(controller.RequeueSyncing)
	}
	return done
}

// migrator moves slots with the cluster's credentials and limits;
// onKeys is told each batch's key count (after the metric counts it).
func (s *clusterStep) migrator(onKeys func(n int)) *clusterops.Migrator {
	ns, name := s.rc.Namespace, s.rc.Name
	return &clusterops.Migrator{
		Client: s.r.client(s.creds), User: s.creds.auth.Username, Password: s.creds.auth.Password,
		Batch: s.rc.Spec.Batch(), Replicas: s.rc.Spec.ReplicaWait(),
		OnKeys: func(n int) {
			s.r.Cluster.KeysMoved.WithLabelValues(ns, name).Add(float64(n))
			onKeys(n)
			if s.r.AfterBatch != nil {
				s.r.AfterBatch()
			}
		},
		OnBytes: func(n int64) { s.r.Cluster.BytesMoved.WithLabelValues(ns, name).Add(float64(n)) },
	}
}

func (s *clusterStep) count(slotsMoved int) {
	s.r.Cluster.SlotsMoved.WithLabelValues(s.rc.Namespace, s.rc.Name).Add(float64(slotsMoved))
	s.rc.Status.Migrations.SlotsMoved += int64(slotsMoved)
}

func (s *clusterStep) stepBudget() time.Duration {
	if s.r.StepBudget > 0 {
		return s.r.StepBudget
	}
	return 2 * time.Second
}

// reshard plans the fewest slot moves to an even share over the wanted
// shards' masters and makes as many as fit in the step budget,
// maxConcurrent at a time. True while moves remain.
func (s *clusterStep) reshard(ctx context.Context, ref *cnode) bool {
	owned := map[string][]int{}
	for _, n := range s.nodes {
		if n.owner() {
			owned[n.me.ID] = n.me.Slots
		}
	}
	keep := make([]string, len(s.masters))
	for i, m := range s.masters {
		keep[i] = m.me.ID
	}
	moves, err := slots.Plan(owned, keep)
	if err != nil {
		s.warn("PlanFailed", "%v", err)
		return true
	}
	s.pending = len(moves)
	if len(moves) == 0 {
		if s.rc.Status.Migrations.Pending > 0 {
			s.resharded()
		}
		return false
	}
	if s.rc.Status.Migrations.Pending == 0 {
		s.event("Resharding", "%d slots to move for %d shards", len(moves), s.want)
	}
	nodes := map[string]clusterops.Node{}
	for _, n := range s.nodes {
		if n.reachable() {
			nodes[n.me.ID] = n.me
		}
	}
	masters := liveMasters(ref)
	done, err := s.moveSlots(ctx, moves, nodes, masters)
	s.pending = len(moves) - done
	s.resharding("MovingSlots", "%d of %d slots moved this step, %d to go", done, len(moves), s.pending)
	if err != nil {
		s.warn("MigrationFailed", "%v", err)
		return true
	}
	if s.pending == 0 {
		s.resharded()
	}
	s.out.Soon(requeueResharding)
	return true
}

func (s *clusterStep) resharded() {
	now := metav1.Now()
	s.rc.Status.Migrations.LastCompletionTime = &now
	s.event("Resharded", "every wanted shard owns its even share (%d shards)", s.want)
}

// moveSlots runs moves with bounded concurrency until the budget is spent
// or a move fails; it returns how many finished.
func (s *clusterStep) moveSlots(ctx context.Context, moves []slots.Move, nodes map[string]clusterops.Node, masters []clusterops.Node) (int, error) {
	ns, name := s.rc.Namespace, s.rc.Name
	deadline := time.Now().Add(s.stepBudget())
	conc := s.rc.Spec.Concurrency()
	type result struct {
		keys int
		err  error
	}
	work := make(chan slots.Move)
	results := make(chan result)
	mctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for range conc {
		go func() {
			for mv := range work {
				keys := 0
				mig := s.migrator(func(n int) { keys += n })
				s.r.Cluster.MigrationsInProgress.WithLabelValues(ns, name).Inc()
				start := time.Now()
				octx, ocancel := context.WithTimeout(mctx, clusterOpTimeout)
				err := mig.MoveSlot(octx, mv.Slot, nodes[mv.From], nodes[mv.To], masters)
				ocancel()
				s.r.Cluster.MigrationsInProgress.WithLabelValues(ns, name).Dec()
				if err == nil {
					s.r.Cluster.SlotMigrationSeconds.WithLabelValues(ns, name).Observe(time.Since(start).Seconds())
				}
				results <- result{keys: keys, err: err}
			}
		}()
	}
	done, sent, running := 0, 0, 0
	var firstErr error
	for sent < len(moves) || running > 0 {
		var next chan slots.Move
		if sent < len(moves) && firstErr == nil && time.Now().Before(deadline) && running < conc {
			next = work
		} else if running == 0 {
			break
		}
		var mv slots.Move
		if next != nil {
			mv = moves[sent]
		}
		select {
		case next <- mv:
			sent++
			running++
		case res := <-results:
			running--
			s.rc.Status.Migrations.KeysMoved += int64(res.keys)
			if res.err != nil {
				if firstErr == nil {
					firstErr = res.err
				}
				continue
			}
			done++
		}
	}
	close(work)
	s.count(done)
	return done, firstErr
}

// shrink removes the pods beyond the wanted shards once they own no
// slots: every remaining node forgets them (CLUSTER FORGET also bans
// them for a minute, longer than the pods take to go), then the
// StatefulSet is lowered. They are not reset: until deleted they keep
// answering clients with correct redirections (a reset node answers
// CLUSTERDOWN, and a client that loads its slot map there loses its
// way). A scaler stopped in between forgets them again.
func (s *clusterStep) shrink(ctx context.Context) {
	if int(s.cur) <= s.wantPods {
		return
	}
	var kept, gone []*cnode
	for _, n := range s.nodes {
		if s.wanted(n) {
			kept = append(kept, n)
		} else {
			gone = append(gone, n)
		}
	}
	for _, n := range gone {
		if n.owner() {
			return // the plan moves its slots first
		}
	}
	var removed []string
	for _, n := range gone {
		if !n.reachable() {
			continue
		}
		if err := s.forget(ctx, n.me.ID, kept); err != nil {
			s.warn("ForgetFailed", "forgetting %s (%s): %v", n.me.ID, n.name(), err)
			return
		}
		removed = append(removed, n.name())
	}
	if err := s.r.setReplicas(ctx, s.rc, s.sts, s.cur, int32(s.wantPods)); err != nil {
		s.warn("ScaleFailed", "%v", err)
		return
	}
	s.event("ShardsRemoved", "%s emptied and forgotten; statefulset %s: %d -> %d pods", strings.Join(removed, ", "), s.sts.Name, s.cur, s.wantPods)
	s.resharding("RemovingPods", "statefulset %s: %d -> %d pods", s.sts.Name, s.cur, s.wantPods)
	s.out.Soon(controller.RequeueScaling)
}

// status fills the status from what this step saw.
func (s *clusterStep) status() {
	st := &s.rc.Status
	var owners, ready int32
	for _, n := range s.nodes {
		if n.owner() {
			owners++
		}
	}
	st.Shards = owners
	shares := slots.Shares(max(s.want, 1))
	var perShard []int
	if s.masters != nil {
		st.ShardStatuses = st.ShardStatuses[:0]
		for k, m := range s.masters {
			ss := v1alpha1.ShardStatus{Index: int32(k), Master: m.name(), NodeID: m.me.ID, Slots: int32(len(m.me.Slots))}
			for _, n := range s.block(k) {
				if n != m && n.me.MasterID == m.me.ID && n.inSync {
					ss.Replicas++
				}
			}
			// Even: Count/n slots, or one more (which masters carry the
			// remainder depends on where slots came from).
			even := int(ss.Slots) == shares[len(shares)-1] || int(ss.Slots) == shares[0]
			if even && int(ss.Replicas) >= s.per-1 && m.ok {
				ready++
			}
			perShard = append(perShard, len(m.me.Slots))
			st.ShardStatuses = append(st.ShardStatuses, ss)
		}
		s.r.Cluster.SetSlots(s.rc.Namespace, s.rc.Name, perShard)
	}
	st.ReadyShards = ready
	st.Migrations.Pending = int32(s.pending)
	st.Migrations.InProgress = 0
	if s.pending > 0 {
		st.Migrations.InProgress = int32(min(s.pending, s.rc.Spec.Concurrency()))
	}
	s.r.Cluster.Shards.WithLabelValues(s.rc.Namespace, s.rc.Name).Set(float64(owners))
	s.r.Cluster.MigrationsPending.WithLabelValues(s.rc.Namespace, s.rc.Name).Set(float64(s.pending))
	s.out.clusterOK = true
	for _, n := range s.nodes {
		if s.wanted(n) && (!n.reachable() || !n.ok) {
			s.out.clusterOK = false
		}
	}
	s.out.Ready = ready
}

func splitHostPort(addr string) (string, int) {
	host, p, err := net.SplitHostPort(addr)
	if err != nil {
		return addr, 0
	}
	port, _ := strconv.Atoi(p)
	return host, port
}
