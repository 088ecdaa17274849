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
	"github.com/redis-autoscaler/redis-autoscaler/scaler/topology/clusterplan"
)

// clusterStep is one reconcile of a RedisCluster: package clusterplan
// decides what to do from what was observed, and the step carries it out
// (Redis commands, the StatefulSet's size, events, the Resharding
// condition), then fills the status.
type clusterStep struct {
	r     *Reconciler
	rc    *v1alpha1.RedisCluster
	sts   *appsv1.StatefulSet
	nodes []*cnode
	creds clusterCreds
	out   *clusterOutcome

	per, want, wantPods int
	cur                 int32
	view                clusterplan.Cluster
	byName              map[string]*cnode
	ref                 *cnode
	masters             []*cnode // per wanted shard, once chosen
	pending             int
}

const (
	clusterOpTimeout  = 10 * time.Second
	requeueResharding = 10 * time.Millisecond
	// meetGrace: a node not known to the cluster this long after its
	// first CLUSTER MEET cannot meet it (a handshake takes a few of the
	// bus' 100 ms ticks).
	meetGrace = 5 * time.Second
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

	s.view = clusterplan.Cluster{StatefulSet: s.sts.Name, Replicas: s.cur, Shards: s.want, PodsPerShard: s.per,
		Formed: len(s.rc.Status.ShardStatuses) > 0, Resharding: s.rc.Status.Migrations.Pending > 0,
		ReplicaWait: spec.ReplicaWait(),
		Rolling:     controller.PartitionPaced(s.sts),
		Partition:   controller.Partition(s.sts)}
	s.byName = map[string]*cnode{}
	for _, n := range s.nodes {
		s.view.Nodes = append(s.view.Nodes, planNode(n))
		s.byName[n.name()] = n
	}
	if p, ok := s.view.Hold(); ok {
		// Before anything else: the StatefulSet controller must not
		// roll several pods in a row meanwhile.
		if err := s.r.check(ctx, s.rc); err != nil {
			s.out.Degrade("LeaseLost", err.Error())
			return
		}
		if err := controller.SetPartition(ctx, s.r.Client, s.r.Metrics, s.sts, p); err != nil {
			s.warn("RolloutFailed", "%v", err)
			return
		}
		s.event("RollingUpdate", "holding the update of statefulset %s at partition %d: the scaler paces it", s.sts.Name, p)
		s.view.Partition = p
	}
	plan := clusterplan.Decide(s.view)
	s.ref = s.byName[plan.Ref]
	joining := map[string]bool{}
	for _, st := range plan.Steps {
		if st.Kind == clusterplan.Meet {
			for _, name := range st.Nodes {
				joining[s.byName[name].me.ID] = true
			}
		}
	}
	s.r.joins.joined(s.rc.Namespace, s.rc.Name, joining)
	for _, st := range plan.Steps {
		if s.carryOut(ctx, st) || st.Ends() {
			return
		}
	}
}

// planNode is what the plan knows of a pod.
func planNode(n *cnode) clusterplan.Node {
	pn := clusterplan.Node{Name: n.name(), Ordinal: n.ord, Reachable: n.reachable(),
		ID: n.me.ID, Master: n.me.Master(), MasterID: n.me.MasterID, Slots: n.me.Slots,
		Open: len(n.me.Migrating) > 0 || len(n.me.Importing) > 0, Keys: n.keys, InSync: n.inSync,
		Outdated: n.outdated, Terminating: n.pod.DeletionTimestamp != nil}
	if n.err != nil {
		pn.Err = n.err.Error()
	}
	for _, p := range n.nodes {
		pn.View = append(pn.View, clusterplan.Peer{ID: p.ID, Addr: p.Addr, Master: p.Master(), Slots: len(p.Slots),
			Failed: p.Has("fail"), Suspected: p.Has("fail?"), Handshake: p.Has("handshake"), NoAddr: p.Has("noaddr")})
	}
	return pn
}

// carryOut does one step; true when its result ends the reconcile (a
// node was met).
func (s *clusterStep) carryOut(ctx context.Context, st clusterplan.Step) bool {
	if changes(st.Kind) {
		if err := s.r.check(ctx, s.rc); err != nil {
			s.out.Degrade("LeaseLost", err.Error())
			return true
		}
	}
	switch st.Kind {
	case clusterplan.Grow:
		s.grow(ctx, st)
	case clusterplan.WaitForPods:
		s.out.NotReady = st.Waiting
		if s.view.Pending() && s.view.Partition != clusterplan.PartitionHold {
			// A pod the StatefulSet controller is replacing: the
			// rollout's own wait, not a fault.
			s.resharding("RollingUpdate", "partition %d: waiting for pods: %s", s.view.Partition, controller.JoinMax(st.Waiting, 5))
			s.out.Soon(controller.RequeueScaling)
		} else if st.Joining {
			s.resharding("WaitingForPods", "waiting for pods: %s", controller.JoinMax(st.Waiting, 5))
		} else {
			s.out.Degrade("PodUnreachable", controller.JoinMax(st.Waiting, 5))
		}
		s.out.Soon(controller.RequeueSyncing)
	case clusterplan.NotReformed:
		s.warn("NoSlotOwners", "no node owns slots any more (every master restarted empty?); the cluster was formed before, so it is not formed again: restore it, or delete and recreate the RedisCluster")
	case clusterplan.NotEmpty:
		s.warn("NodeNotEmpty", "%s already knows other nodes or holds keys: not forming a cluster over it", st.Node)
	case clusterplan.Bootstrap:
		s.bootstrap(ctx, st)
	case clusterplan.WaitForFailover:
		s.out.Degrade("ShardMasterDown", fmt.Sprintf("master %s (%s, %d slots) is down; waiting for its replica to take over", st.ID, st.Addr, st.Slots))
		if st.Open {
			// The open move is finished the moment the replica is
			// promoted: look as often as an election is looked at.
			s.out.Soon(controller.RequeueSyncing)
		} else {
			s.out.Soon(controller.RequeueDegraded)
		}
	case clusterplan.Meet:
		return s.meet(ctx, st)
	case clusterplan.Forget:
		if err := s.forget(ctx, st.ID, s.nodes); err != nil {
			s.warn("ForgetFailed", "forgetting %s: %v", st.ID, err)
		} else {
			s.event("NodeForgotten", "failed node %s (%s) is no pod any more: forgotten", st.ID, st.Addr)
		}
	case clusterplan.Fix:
		s.fix(ctx)
	case clusterplan.Failover:
		s.failover(ctx, st)
	case clusterplan.Reset:
		s.reset(ctx, st)
	case clusterplan.Attach:
		s.attach(ctx, st)
	case clusterplan.PlanFailed:
		s.warn("PlanFailed", "%s", st.Message)
	case clusterplan.WaitForReplicas:
		s.resharding("WaitingForReplicas", "slots wait to move to %s until it has in-sync replicas", strings.Join(st.Nodes, ", "))
		s.out.Soon(controller.RequeueScaling)
	case clusterplan.Resharded:
		s.resharded()
	case clusterplan.MoveSlots:
		s.reshard(ctx, st)
	case clusterplan.Shrink:
		s.shrink(ctx, st)
	case clusterplan.Partition:
		s.partition(ctx, st)
	case clusterplan.Handover:
		s.handover(ctx, st)
	case clusterplan.RolloutWaits:
		s.resharding("RollingUpdate", "%s", st.Message)
		s.out.Soon(controller.RequeueScaling)
	}
	return false
}

// partition lets the StatefulSet controller update the next pod (or
// holds the partition once every pod is updated).
func (s *clusterStep) partition(ctx context.Context, st clusterplan.Step) {
	if err := controller.SetPartition(ctx, s.r.Client, s.r.Metrics, s.sts, int32(st.Pods)); err != nil {
		s.warn("RolloutFailed", "%v", err)
		return
	}
	if st.Node == "" {
		s.event("RollingUpdate", "every pod runs revision %s; partition held at %d until the next update", s.sts.Status.UpdateRevision, st.Pods)
		return
	}
	s.event("RollingUpdate", "partition %d: the StatefulSet controller updates %s to revision %s", st.Pods, st.Node, s.sts.Status.UpdateRevision)
	s.resharding("RollingUpdate", "updating %s to revision %s", st.Node, s.sts.Status.UpdateRevision)
	s.out.Soon(controller.RequeueScaling)
}

// handover moves a master's slots to its in-sync replica with a CLUSTER
// FAILOVER (the master pauses its clients until the replica has every
// write) before the master's pod is updated.
func (s *clusterStep) handover(ctx context.Context, st clusterplan.Step) {
	if s.takeOver(ctx, st, "whose pod is updated next") {
		s.resharding("RollingUpdate", "%s took over from %s before its update", st.Node, st.From)
	}
}

func (s *clusterStep) grow(ctx context.Context, st clusterplan.Step) {
	if err := s.r.setReplicas(ctx, s.rc, s.sts, s.cur, int32(st.Pods)); err != nil {
		s.warn("ScaleFailed", "%v", err)
		return
	}
	s.resharding("AddingPods", "statefulset %s: %d -> %d pods for %d shards", s.sts.Name, s.cur, st.Pods, s.want)
	s.out.Soon(controller.RequeueScaling)
}

func (s *clusterStep) member(n *cnode) clusterops.Member {
	port := s.rc.Spec.RedisPort()
	bus := n.me.BusPort
	if bus == 0 {
		bus = port + 10000
	}
	return clusterops.Member{Host: n.pod.Status.PodIP, Port: port, BusPort: bus}
}

func (s *clusterStep) members(names []string) []clusterops.Member {
	out := make([]clusterops.Member, 0, len(names))
	for _, name := range names {
		out = append(out, s.member(s.byName[name]))
	}
	return out
}

// bootstrap starts forming the cluster the plan laid out: the masters
// get their slots and every node is sent CLUSTER MEET, with no wait (a
// reconcile never holds a worker while nodes meet). The next reconciles'
// meet and attach steps finish it, and say what stops it.
func (s *clusterStep) bootstrap(ctx context.Context, st clusterplan.Step) {
	var others []string
	for _, rs := range st.Replicas {
		others = append(others, rs...)
	}
	bctx, cancel := context.WithTimeout(ctx, clusterOpTimeout)
	defer cancel()
	s.r.Metrics.Commands.WithLabelValues("CLUSTER ADDSLOTSRANGE").Inc()
	if err := clusterops.Form(bctx, s.r.client(s.creds), s.members(st.Masters), s.members(others)); err != nil {
		s.warn("BootstrapFailed", "forming the cluster: %v", err)
		return
	}
	s.event("Bootstrapped", "cluster formed: %d shards × %d replicas, %d slots each; %d nodes meeting", s.want, s.per-1, slots.Count/s.want, len(st.Masters)+len(others)-1)
	s.resharding("Bootstrapping", "slots assigned to %s; nodes meeting", strings.Join(st.Masters, ", "))
	s.out.Soon(controller.RequeueSyncing)
}

// meet sends CLUSTER MEET to the reference from every node it does not
// know; true when any was met. A node still unknown meetGrace after its
// first MEET makes the cluster Degraded, with what each side sees.
func (s *clusterStep) meet(ctx context.Context, st clusterplan.Step) bool {
	ref := s.byName[st.Node]
	target := s.member(ref)
	var met, stuck []string
	for _, name := range st.Nodes {
		n := s.byName[name]
		if s.r.joins.since(s.rc, n.me.ID) >= meetGrace {
			stuck = append(stuck, notMeeting(n, ref, s.member(n), target))
		}
		err := n.client.Do(ctx, "CLUSTER", "MEET", target.Host, target.Port, target.BusPort).Err()
		s.r.Metrics.Commands.WithLabelValues("CLUSTER MEET").Inc()
		if err != nil {
			s.warn("MeetFailed", "CLUSTER MEET from %s: %v", name, err)
			continue
		}
		met = append(met, name)
	}
	if len(met) == 0 {
		return false
	}
	s.resharding("Joining", "%s joining", strings.Join(met, ", "))
	if len(stuck) > 0 {
		s.warn("NodesCannotMeet", "%s. Every pod must reach every other pod's cluster bus port (a NetworkPolicy?), and each node must announce its pod's address (cluster-announce-ip, -port, -bus-port)", strings.Join(stuck, "; "))
		s.out.Soon(controller.RequeueDegraded)
		return true
	}
	s.event("NodesMet", "%s joining the cluster", strings.Join(met, ", "))
	s.out.Soon(controller.RequeueSyncing)
	return true
}

// notMeeting says why n does not join: where it and ref are, as each
// announces itself, and what n sees of ref.
func notMeeting(n, ref *cnode, nm, rm clusterops.Member) string {
	sees := "does not know it"
	for _, p := range n.nodes {
		if p.ID == ref.me.ID || (p.Addr == ref.me.Addr && !p.Has("myself")) {
			sees = fmt.Sprintf("sees it as %s %s", p.Addr, strings.Join(p.Flags, ","))
			break
		}
	}
	return fmt.Sprintf("%s (pod %s, cluster bus %s:%d, announces %s@%d) is unknown to %s (cluster bus %s:%d) %v after CLUSTER MEET; %s %s",
		n.name(), n.pod.Status.PodIP, nm.Host, nm.BusPort, orUnset(n.me.Addr), n.me.BusPort,
		ref.name(), rm.Host, rm.BusPort, meetGrace, n.name(), sees)
}

func orUnset(addr string) string {
	if addr == "" || strings.HasPrefix(addr, ":") {
		return "no address (" + addr + ")"
	}
	return addr
}

// forget makes every reachable node of among but id itself forget id.
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

// failover has a replica of an owner about to be removed take its slots.
func (s *clusterStep) failover(ctx context.Context, st clusterplan.Step) {
	s.takeOver(ctx, st, "which is to be removed")
}

// takeOver has st.Node take st.From's slots over with a CLUSTER FAILOVER
// (no acknowledged write lost); why ends the event. True when it did.
func (s *clusterStep) takeOver(ctx context.Context, st clusterplan.Step, why string) bool {
	n := s.byName[st.Node]
	s.r.Metrics.Commands.WithLabelValues("CLUSTER FAILOVER").Inc()
	fctx, cancel := context.WithTimeout(ctx, clusterOpTimeout)
	err := clusterops.Failover(fctx, n.client)
	cancel()
	if err != nil {
		s.warn("FailoverFailed", "%s taking over from %s (%s): %v", st.Node, st.From, why, err)
		return false
	}
	s.event("FailedOver", "%s took over %d slots from %s, %s", st.Node, st.Slots, st.From, why)
	s.out.Soon(controller.RequeueSyncing)
	return true
}

// reset makes a pod that replicates another shard an empty master again.
func (s *clusterStep) reset(ctx context.Context, st clusterplan.Step) {
	n := s.byName[st.Node]
	s.r.Metrics.Commands.WithLabelValues("CLUSTER RESET").Inc()
	if err := n.client.Do(ctx, "CLUSTER", "RESET", "SOFT").Err(); err != nil {
		s.warn("ResetFailed", "%s: CLUSTER RESET SOFT: %v", st.Node, err)
		return
	}
	s.event("NodeReset", "%s replicated another shard: reset to lead shard %d", st.Node, st.Shard)
	s.out.Soon(controller.RequeueSyncing)
}

// attach records the chosen masters and attaches (or reports) the pods
// that are not yet their replicas in sync.
func (s *clusterStep) attach(ctx context.Context, st clusterplan.Step) {
	s.masters = make([]*cnode, len(st.Masters))
	for k, name := range st.Masters {
		s.masters[k] = s.byName[name]
	}
	if len(st.Actions) == 0 {
		return
	}
	for _, a := range st.Actions {
		switch a.Kind {
		case clusterplan.Syncing:
			s.out.NotReady = append(s.out.NotReady, a.Node+" syncing")
		case clusterplan.KeepsKeys:
			s.warn("NodeNotEmpty", "%s is a master with %d keys and no slots: not made a replica (its keys would be lost)", a.Node, a.Keys)
		case clusterplan.OfLostMaster:
			s.out.Degrade("ReplicaOfLostMaster", fmt.Sprintf("%s replicates %s, which does not answer: left as it is", a.Node, a.MasterID))
		case clusterplan.Replicate:
			m := s.byName[a.Master]
			s.r.Metrics.Commands.WithLabelValues("CLUSTER REPLICATE").Inc()
			if err := s.byName[a.Node].client.Do(ctx, "CLUSTER", "REPLICATE", m.me.ID).Err(); err != nil {
				// Usually the node has not heard of the master yet.
				s.out.NotReady = append(s.out.NotReady, fmt.Sprintf("%s: %v", a.Node, err))
				continue
			}
			s.event("ReplicaAttached", "%s replicates %s (shard %d)", a.Node, a.Master, a.Shard)
		}
	}
	s.resharding("AttachingReplicas", "replicas attaching: %s", controller.JoinMax(s.out.NotReady, 5))
	s.out.Soon(controller.RequeueSyncing)
}

// shrink forgets the emptied pods beyond the wanted shards, then lowers
// the StatefulSet.
func (s *clusterStep) shrink(ctx context.Context, st clusterplan.Step) {
	var kept []*cnode
	for _, n := range s.nodes {
		if n.ord < s.wantPods {
			kept = append(kept, n)
		}
	}
	for _, name := range st.Forget {
		n := s.byName[name]
		if err := s.forget(ctx, n.me.ID, kept); err != nil {
			s.warn("ForgetFailed", "forgetting %s (%s): %v", n.me.ID, name, err)
			return
		}
	}
	if err := s.r.setReplicas(ctx, s.rc, s.sts, s.cur, int32(st.Pods)); err != nil {
		s.warn("ScaleFailed", "%v", err)
		return
	}
	s.event("ShardsRemoved", "%s emptied and forgotten; statefulset %s: %d -> %d pods", strings.Join(st.Forget, ", "), s.sts.Name, s.cur, st.Pods)
	s.resharding("RemovingPods", "statefulset %s: %d -> %d pods", s.sts.Name, s.cur, st.Pods)
	s.out.Soon(controller.RequeueScaling)
}

// block is the pods of wanted shard k.
func (s *clusterStep) block(k int) []*cnode {
	var out []*cnode
	for _, n := range s.view.Block(k) {
		out = append(out, s.byName[n.Name])
	}
	return out
}

func splitHostPort(addr string) (string, int) {
	host, p, err := net.SplitHostPort(addr)
	if err != nil {
		return addr, 0
	}
	port, _ := strconv.Atoi(p)
	return host, port
}
