package clusterplan

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/redis-autoscaler/redis-autoscaler/scaler/slots"
)

// formed is a settled cluster of rc's pods rc-0 … : shards masters (the
// first pod of each shard) owning even shares, the others their replicas
// in sync, every node knowing every other.
func formed(shards, perShard int) Cluster {
	c := Cluster{StatefulSet: "rc", Replicas: int32(shards * perShard), Shards: shards, PodsPerShard: perShard, Formed: true}
	next := 0
	for k, share := range slots.Shares(shards) {
		for i := range perShard {
			n := Node{Name: fmt.Sprintf("rc-%d", k*perShard+i), Ordinal: k*perShard + i, Reachable: true}
			n.ID = "id-" + n.Name
			if i == 0 {
				n.Master, n.Slots, n.Keys = true, span(next, next+share), 100
			} else {
				n.MasterID, n.InSync, n.Keys = fmt.Sprintf("id-rc-%d", k*perShard), true, 100
			}
			c.Nodes = append(c.Nodes, n)
		}
		next += share
	}
	return views(c)
}

// fresh is pods that never formed a cluster: empty masters knowing only
// themselves.
func fresh(shards, perShard int) Cluster {
	c := Cluster{StatefulSet: "rc", Replicas: int32(shards * perShard), Shards: shards, PodsPerShard: perShard}
	for ord := range shards * perShard {
		n := Node{Name: fmt.Sprintf("rc-%d", ord), Ordinal: ord, Reachable: true, Master: true}
		n.ID = "id-" + n.Name
		n.View = []Peer{{ID: n.ID, Addr: addr(ord), Master: true}}
		c.Nodes = append(c.Nodes, n)
	}
	return c
}

func span(lo, hi int) []int {
	out := make([]int, 0, hi-lo)
	for s := lo; s < hi; s++ {
		out = append(out, s)
	}
	return out
}

func addr(ord int) string { return fmt.Sprintf("10.0.0.%d:6379", ord) }

// views gives every reachable node a view of every reachable node as it is.
func views(c Cluster) Cluster {
	var all []Peer
	for _, n := range c.Nodes {
		if n.Reachable {
			all = append(all, Peer{ID: n.ID, Addr: addr(n.Ordinal), Master: n.Master, Slots: len(n.Slots)})
		}
	}
	for i := range c.Nodes {
		if c.Nodes[i].Reachable {
			c.Nodes[i].View = append([]Peer(nil), all...)
		}
	}
	return c
}

// describe is one step in a line, with the fields its Kind uses.
func describe(s Step) string {
	switch s.Kind {
	case Grow:
		return fmt.Sprintf("grow to %d", s.Pods)
	case WaitForPods:
		return fmt.Sprintf("wait for pods (joining %v): %s", s.Joining, strings.Join(s.Waiting, "; "))
	case NotReformed:
		return "not formed again"
	case NotEmpty:
		return "not empty: " + s.Node
	case Bootstrap:
		return fmt.Sprintf("bootstrap %v %v", s.Masters, s.Replicas)
	case WaitForFailover:
		open := ""
		if s.Open {
			open = ", a move open"
		}
		return fmt.Sprintf("wait for failover of %s (%s, %d slots%s)", s.ID, s.Addr, s.Slots, open)
	case Meet:
		return fmt.Sprintf("meet %v through %s", s.Nodes, s.Node)
	case Forget:
		return fmt.Sprintf("forget %s (%s)", s.ID, s.Addr)
	case Fix:
		return "fix"
	case Failover:
		return fmt.Sprintf("failover %s from %s (%d slots)", s.Node, s.From, s.Slots)
	case Reset:
		return fmt.Sprintf("reset %s for shard %d", s.Node, s.Shard)
	case Attach:
		var acts []string
		for _, a := range s.Actions {
			acts = append(acts, fmt.Sprintf("%s %s", []string{"syncing", "keeps keys", "of lost master", "replicate"}[a.Kind], a.Node))
		}
		return fmt.Sprintf("attach to %v: %s", s.Masters, strings.Join(acts, ", "))
	case PlanFailed:
		return "plan failed: " + s.Message
	case MoveSlots:
		return fmt.Sprintf("move %d slots (first %v)", len(s.Moves), s.First)
	case WaitForReplicas:
		return fmt.Sprintf("wait for replicas of %v", s.Nodes)
	case Resharded:
		return "resharded"
	case Shrink:
		return fmt.Sprintf("shrink: forget %v, %d pods", s.Forget, s.Pods)
	case Partition:
		return fmt.Sprintf("partition %d (%s next)", s.Pods, s.Node)
	case Handover:
		return fmt.Sprintf("%s takes over %d slots from %s before its update", s.Node, s.Slots, s.From)
	case RolloutWaits:
		return "rollout waits: " + s.Message
	}
	return "?"
}

func TestDecide(t *testing.T) {
	cases := []struct {
		name    string
		cluster func() Cluster
		want    []string
		ref     string
	}{
		{name: "settled: masters chosen, nothing to do", cluster: func() Cluster { return formed(2, 2) }, want: []string{"attach to [rc-0 rc-2]: "}, ref: "rc-0"},
		{name: "1 grow the StatefulSet first", cluster: func() Cluster {
			c := fresh(2, 2)
			c.Replicas = 2
			return c
		}, want: []string{"grow to 4"}},
		{name: "2 wait for a pod not created yet", cluster: func() Cluster {
			c := fresh(2, 2)
			c.Nodes = c.Nodes[:3]
			return c
		}, want: []string{"wait for pods (joining true): rc-3: no pod"}},
		{name: "2 wait for a pod that does not answer", cluster: func() Cluster {
			c := formed(2, 2)
			c.Nodes[1].Reachable, c.Nodes[1].Err = false, "not running"
			return c
		}, want: []string{"wait for pods (joining false): rc-1: not running"}},
		{name: "2 a move a failover left open is finished while the old master is away", cluster: func() Cluster {
			c := formed(2, 2)
			c.Nodes[0].Reachable, c.Nodes[0].Err = false, "i/o timeout"
			c.Nodes[1].Master, c.Nodes[1].MasterID, c.Nodes[1].Slots = true, "", c.Nodes[0].Slots
			c.Nodes[0].Slots = nil
			c = views(c)
			for i := range c.Nodes[1:] {
				c.Nodes[1+i].View = append(c.Nodes[1+i].View, Peer{ID: "id-rc-0", Addr: addr(0), Master: true, Failed: true})
			}
			c.Nodes[2].Open = true
			return c
		}, want: []string{"fix"}, ref: "rc-1"},
		{name: "2 an open move waits while its owner does not answer", cluster: func() Cluster {
			c := formed(2, 2)
			c.Nodes[2].Open = true
			c.Nodes[0].Reachable, c.Nodes[0].Err = false, "i/o timeout"
			return c
		}, want: []string{"wait for pods (joining false): rc-0: i/o timeout"}},
		{name: "3 bootstrap pods that never formed a cluster", cluster: func() Cluster { return fresh(2, 2) },
			want: []string{"bootstrap [rc-0 rc-2] [[rc-1] [rc-3]]"}},
		{name: "3 a cluster formed before is not formed again", cluster: func() Cluster {
			c := fresh(2, 2)
			c.Formed = true
			return c
		}, want: []string{"not formed again"}},
		{name: "3 no cluster over a pod holding keys", cluster: func() Cluster {
			c := fresh(2, 2)
			c.Nodes[1].Keys = 3
			return c
		}, want: []string{"not empty: rc-1"}},
		{name: "3 no cluster over a pod knowing other nodes", cluster: func() Cluster {
			c := fresh(2, 2)
			c.Nodes[2].View = append(c.Nodes[2].View, Peer{ID: "other"})
			return c
		}, want: []string{"not empty: rc-2"}},
		{name: "4 wait while an owner is failing", cluster: func() Cluster {
			c := formed(2, 2)
			c.Nodes[0].View[2].Suspected = true
			return c
		}, want: []string{"wait for failover of id-rc-2 (10.0.0.2:6379, 8192 slots)"}, ref: "rc-0"},
		{name: "4 wait while an owner is failing, a move open: finish it once the replica takes over", cluster: func() Cluster {
			c := formed(2, 2)
			c.Nodes[0].View[2].Failed = true
			c.Nodes[0].Open = true
			return c
		}, want: []string{"wait for failover of id-rc-2 (10.0.0.2:6379, 8192 slots, a move open)"}, ref: "rc-0"},
		{name: "4 wait while an owner is no pod that answers", cluster: func() Cluster {
			c := formed(2, 2)
			c.Nodes[0].View = append(c.Nodes[0].View, Peer{ID: "gone", Addr: "10.0.0.9:6379", Master: true, Slots: 5})
			return c
		}, want: []string{"wait for failover of gone (10.0.0.9:6379, 5 slots)"}, ref: "rc-0"},
		{name: "ref: the owner that knows the most nodes", cluster: func() Cluster {
			c := formed(2, 2)
			c.Nodes[0].View = c.Nodes[0].View[:3] // rc-0 has not heard of rc-3
			return c
		}, want: []string{"attach to [rc-0 rc-2]: "}, ref: "rc-2"},
		{name: "5 meet a pod the cluster does not know; the rest goes on should every MEET fail", cluster: func() Cluster {
			c := formed(2, 2)
			c.Nodes[3] = Node{Name: "rc-3", Ordinal: 3, Reachable: true, ID: "id-new", Master: true, View: []Peer{{ID: "id-new"}}}
			return c
		}, want: []string{"meet [rc-3] through rc-0", "attach to [rc-0 rc-2]: replicate rc-3"}, ref: "rc-0"},
		{name: "5 a node in handshake is not known yet", cluster: func() Cluster {
			c := formed(2, 2)
			c.Nodes[0].View[3].Handshake = true
			c.Nodes[1].View = c.Nodes[1].View[:3]
			return c
		}, want: []string{"meet [rc-3] through rc-0", "attach to [rc-0 rc-2]: "}, ref: "rc-0"},
		{name: "6 forget a failed identity no pod has; then go on", cluster: func() Cluster {
			c := formed(2, 2)
			c.Nodes[0].View = append(c.Nodes[0].View, Peer{ID: "old", Addr: "10.0.0.3:6379", Failed: true},
				Peer{ID: "noaddr", NoAddr: true}, Peer{ID: "alive"})
			return c
		}, want: []string{"forget old (10.0.0.3:6379)", "forget noaddr ()", "attach to [rc-0 rc-2]: "}, ref: "rc-0"},
		{name: "7 finish a slot move left open", cluster: func() Cluster {
			c := formed(2, 2)
			c.Nodes[2].Open = true
			return c
		}, want: []string{"fix"}, ref: "rc-0"},
		{name: "8 the owner with the most slots leads its shard", cluster: func() Cluster {
			c := formed(2, 2)
			c.Nodes[3].MasterID, c.Nodes[3].Master, c.Nodes[3].Slots = "", true, c.Nodes[2].Slots[:10]
			c.Nodes[2].Slots = c.Nodes[2].Slots[10:]
			return views(c)
		}, want: []string{"attach to [rc-0 rc-2]: ", "move 10 slots (first true)"}, ref: "rc-0"},
		{name: "8 a replica of an owner to be removed takes over", cluster: func() Cluster {
			c := formed(2, 2)
			c.Shards = 1
			c.Nodes[2].Slots = span(0, slots.Count)
			c.Nodes[0].Master, c.Nodes[0].Slots, c.Nodes[0].MasterID = false, nil, "id-rc-2"
			c.Nodes[1].MasterID = "id-rc-2"
			return views(c)
		}, want: []string{"failover rc-0 from rc-2 (16384 slots)"}, ref: "rc-2"},
		{name: "8 an empty master leads a new shard", cluster: func() Cluster {
			c := formed(2, 2)
			c.Shards, c.Replicas = 3, 6
			c.Nodes = append(c.Nodes, Node{Name: "rc-4", Ordinal: 4, Reachable: true, ID: "id-rc-4", Master: true},
				Node{Name: "rc-5", Ordinal: 5, Reachable: true, ID: "id-rc-5", Master: true})
			return views(c)
		}, want: []string{"attach to [rc-0 rc-2 rc-4]: replicate rc-5"}, ref: "rc-0"},
		{name: "8 a new shard whose pods replicate another is reset", cluster: func() Cluster {
			c := formed(2, 2)
			c.Shards, c.Replicas = 3, 6
			c.Nodes = append(c.Nodes, Node{Name: "rc-4", Ordinal: 4, Reachable: true, ID: "id-rc-4", MasterID: "id-rc-0"},
				Node{Name: "rc-5", Ordinal: 5, Reachable: true, ID: "id-rc-5", MasterID: "id-rc-0"})
			return views(c)
		}, want: []string{"reset rc-4 for shard 2"}, ref: "rc-0"},
		{name: "8 a replica still syncing", cluster: func() Cluster {
			c := formed(2, 2)
			c.Nodes[1].InSync = false
			return c
		}, want: []string{"attach to [rc-0 rc-2]: syncing rc-1"}, ref: "rc-0"},
		{name: "8 a master with keys and no slots is not made a replica", cluster: func() Cluster {
			c := formed(2, 2)
			c.Nodes[3].MasterID, c.Nodes[3].Master = "", true
			return views(c)
		}, want: []string{"attach to [rc-0 rc-2]: keeps keys rc-3"}, ref: "rc-0"},
		{name: "8 a replica of a master no pod answers to is left alone", cluster: func() Cluster {
			c := formed(2, 2)
			c.Nodes[3].MasterID = "gone"
			return c
		}, want: []string{"attach to [rc-0 rc-2]: of lost master rc-3"}, ref: "rc-0"},
		{name: "8 a replica of another shard is attached to its own", cluster: func() Cluster {
			c := formed(2, 2)
			c.Nodes[3].MasterID = "id-rc-0"
			return c
		}, want: []string{"attach to [rc-0 rc-2]: replicate rc-3"}, ref: "rc-0"},
		{name: "9 move slots to a new shard", cluster: func() Cluster {
			c := formed(2, 2)
			c.Shards, c.Replicas = 3, 6
			c.Nodes = append(c.Nodes, Node{Name: "rc-4", Ordinal: 4, Reachable: true, ID: "id-rc-4", Master: true},
				Node{Name: "rc-5", Ordinal: 5, Reachable: true, ID: "id-rc-5", MasterID: "id-rc-4", InSync: true})
			return views(c)
		}, want: []string{"attach to [rc-0 rc-2 rc-4]: ", "move 5461 slots (first true)"}, ref: "rc-0"},
		{name: "9 no move to a master with fewer in-sync replicas than the source", cluster: func() Cluster {
			// Shard 2: rc-4 took over from rc-5 (stalled mid-move), and
			// rc-5 came back still owning 2 slots. Neither has a replica:
			// rc-5's slots may go to rc-4, the other shards' may not yet.
			c := formed(2, 2)
			c.Shards, c.Replicas, c.ReplicaWait = 3, 6, 1
			c.Nodes = append(c.Nodes, Node{Name: "rc-4", Ordinal: 4, Reachable: true, ID: "id-rc-4", Master: true, Slots: span(0, 10)},
				Node{Name: "rc-5", Ordinal: 5, Reachable: true, ID: "id-rc-5", Master: true, Slots: span(10, 12)})
			c.Nodes[0].Slots = c.Nodes[0].Slots[12:]
			return views(c)
		}, want: []string{"attach to [rc-0 rc-2 rc-4]: ", "move 2 slots (first true)"}, ref: "rc-0"},
		{name: "9 ... and once rc-5 drained, it is attached first", cluster: func() Cluster {
			c := formed(2, 2)
			c.Shards, c.Replicas, c.ReplicaWait = 3, 6, 1
			c.Nodes = append(c.Nodes, Node{Name: "rc-4", Ordinal: 4, Reachable: true, ID: "id-rc-4", Master: true, Slots: span(0, 12)},
				Node{Name: "rc-5", Ordinal: 5, Reachable: true, ID: "id-rc-5", Master: true})
			c.Nodes[0].Slots = c.Nodes[0].Slots[12:]
			return views(c)
		}, want: []string{"attach to [rc-0 rc-2 rc-4]: replicate rc-5"}, ref: "rc-0"},
		{name: "9 moves wait while only a master without replicas would receive", cluster: func() Cluster {
			c := formed(2, 2)
			c.Shards, c.Replicas, c.ReplicaWait = 3, 6, 1
			c.Nodes = append(c.Nodes, Node{Name: "rc-4", Ordinal: 4, Reachable: true, ID: "id-rc-4", Master: true, Slots: span(0, 12)},
				Node{Name: "rc-5", Ordinal: 5, Reachable: true, ID: "id-rc-5", MasterID: "id-rc-4"})
			c.Nodes[0].Slots = c.Nodes[0].Slots[12:]
			return views(c)
		}, want: []string{"attach to [rc-0 rc-2 rc-4]: syncing rc-5"}, ref: "rc-0"},
		{name: "9 moves of a resharding under way", cluster: func() Cluster {
			c := formed(2, 2)
			c.Resharding = true
			c.Nodes[0].Slots = c.Nodes[0].Slots[:8000]
			c.Nodes[2].Slots = append(span(8000, 8192), c.Nodes[2].Slots...)
			return views(c)
		}, want: []string{"attach to [rc-0 rc-2]: ", "move 192 slots (first false)"}, ref: "rc-0"},
		{name: "9 the last move made: resharded", cluster: func() Cluster {
			c := formed(2, 2)
			c.Resharding = true
			return c
		}, want: []string{"attach to [rc-0 rc-2]: ", "resharded"}, ref: "rc-0"},
		{name: "9 slots nobody owns are no plan", cluster: func() Cluster {
			c := formed(2, 2)
			c.Nodes[2].Slots = c.Nodes[2].Slots[:100]
			return views(c)
		}, want: []string{"attach to [rc-0 rc-2]: ", "plan failed: 8292 of 16384 slots are assigned"}, ref: "rc-0"},
		{name: "10 shrink once the removed shard owns nothing", cluster: func() Cluster {
			c := formed(2, 2)
			c.Shards = 1
			c.Nodes[0].Slots = span(0, slots.Count)
			c.Nodes[2].Slots = nil
			c.Nodes[3].Reachable, c.Nodes[3].Err = false, "not running"
			return views(c)
		}, want: []string{"attach to [rc-0]: ", "shrink: forget [rc-2], 2 pods"}, ref: "rc-0"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := Decide(tc.cluster())
			var got []string
			for _, s := range p.Steps {
				got = append(got, describe(s))
			}
			assert.Equal(t, tc.want, got)
			assert.Equal(t, tc.ref, p.Ref)
		})
	}
}

func TestEnds(t *testing.T) {
	for _, tc := range []struct {
		step Step
		ends bool
	}{
		{Step{Kind: Grow}, true},
		{Step{Kind: Meet}, false},
		{Step{Kind: Forget}, false},
		{Step{Kind: Resharded}, false},
		{Step{Kind: Attach}, false},
		{Step{Kind: Attach, Actions: []Action{{Kind: Syncing}}}, true},
		{Step{Kind: MoveSlots}, true},
		{Step{Kind: Shrink}, true},
	} {
		assert.Equal(t, tc.ends, tc.step.Ends(), describe(tc.step))
	}
}

func TestLiveMasters(t *testing.T) {
	assert.Equal(t, []string{"a"}, LiveMasters([]Peer{{ID: "a", Master: true}, {ID: "b"}, {ID: "c", Master: true, Failed: true},
		{ID: "d", Master: true, Suspected: true}, {ID: "e", Master: true, Handshake: true}}))
}
