package clusterops

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/redis-autoscaler/redis-autoscaler/scaler/slots"
)

// Member is a node to place: its client address and cluster bus port.
type Member struct {
	Host          string
	Port, BusPort int
}

// Addr is host:port.
func (m Member) Addr() string { return net.JoinHostPort(m.Host, strconv.Itoa(m.Port)) }

// Bootstrap forms a cluster of empty cluster-enabled nodes: Form, then
// it waits for the nodes to meet, attaches replicas[i] (any number) to
// masters[i] and waits until every node reports cluster_state:ok and every
// replica is in sync, or ctx ends. A run that stopped part way is
// finished by running it again: slots already owned and replicas already
// attached are left as they are. The scaler does not call it (a reconcile
// never waits that long): it runs Form, and its meet and attach steps do
// the rest.
func Bootstrap(ctx context.Context, client func(addr string) *redis.Client, masters []Member, replicas [][]Member) error {
	var all []Member
	for _, r := range replicas {
		all = append(all, r...)
	}
	if err := Form(ctx, client, masters, all); err != nil {
		return err
	}
	all = append(append([]Member{}, masters...), all...)
	if err := waitAll(ctx, client, all, func(nodes []Node, _ string) bool {
		if len(nodes) != len(all) {
			return false
		}
		for _, n := range nodes {
			if n.Has("handshake") || n.Has("noaddr") {
				return false
			}
		}
		return true
	}); err != nil {
		return fmt.Errorf("nodes meeting: %w", err)
	}
	follows := map[string]string{} // replica address -> master ID
	for i, rs := range replicas {
		id, err := client(masters[i].Addr()).Do(ctx, "CLUSTER", "MYID").Text()
		if err != nil {
			return fmt.Errorf("CLUSTER MYID on %s: %w", masters[i].Addr(), err)
		}
		for _, r := range rs {
			follows[r.Addr()] = id
			nodes, err := Nodes(ctx, client(r.Addr()))
			if err != nil {
				return err
			}
			if me, _ := Myself(nodes); me.MasterID == id {
				continue
			}
			if err := client(r.Addr()).Do(ctx, "CLUSTER", "REPLICATE", id).Err(); err != nil {
				return fmt.Errorf("CLUSTER REPLICATE on %s: %w", r.Addr(), err)
			}
		}
	}
	// Every node must see every replica under its master (a master
	// ignores a manual failover request from a node it does not know as
	// its replica yet), and the cluster must be ok.
	if err := waitAll(ctx, client, all, func(nodes []Node, info string) bool {
		seen := 0
		for _, n := range nodes {
			if want, ok := follows[n.Addr]; ok {
				if n.MasterID != want {
					return false
				}
				seen++
			}
		}
		return seen == len(follows) && strings.Contains(info, "cluster_state:ok")
	}); err != nil {
		return err
	}
	// Attached means in sync: a replica still in its first sync could not
	// take over its shard.
	var rs []Member
	for _, r := range replicas {
		rs = append(rs, r...)
	}
	for _, r := range rs {
		for {
			info, err := client(r.Addr()).Info(ctx, "replication").Result()
			if err == nil && strings.Contains(info, "master_link_status:up") && strings.Contains(info, "master_sync_in_progress:0") {
				break
			}
			select {
			case <-ctx.Done():
				return fmt.Errorf("replica %s not in sync: %w", r.Addr(), ctx.Err())
			case <-time.After(50 * time.Millisecond):
			}
		}
	}
	return nil
}

// Form starts a cluster of empty cluster-enabled nodes without waiting:
// masters[i] gets the i-th even share of the slots (unless it owns slots
// already), and every other master and every node of others is sent
// CLUSTER MEET to the first master. The nodes then meet over the cluster
// bus, within moments when their bus ports can reach each other.
func Form(ctx context.Context, client func(addr string) *redis.Client, masters, others []Member) error {
	if len(masters) == 0 {
		return fmt.Errorf("no masters")
	}
	lo := 0
	for i, share := range slots.Shares(len(masters)) {
		m := masters[i]
		nodes, err := Nodes(ctx, client(m.Addr()))
		if err != nil {
			return fmt.Errorf("%s: %w", m.Addr(), err)
		}
		if me, _ := Myself(nodes); len(me.Slots) == 0 {
			if err := client(m.Addr()).Do(ctx, "CLUSTER", "ADDSLOTSRANGE", lo, lo+share-1).Err(); err != nil {
				return fmt.Errorf("ADDSLOTSRANGE on %s: %w", m.Addr(), err)
			}
		}
		lo += share
	}
	first := masters[0]
	for _, m := range append(append([]Member{}, masters[1:]...), others...) {
		if err := client(m.Addr()).Do(ctx, "CLUSTER", "MEET", first.Host, first.Port, first.BusPort).Err(); err != nil {
			return fmt.Errorf("CLUSTER MEET from %s: %w", m.Addr(), err)
		}
	}
	return nil
}

// waitAll polls every member's CLUSTER NODES and CLUSTER INFO until ok
// holds for all of them, or ctx ends.
func waitAll(ctx context.Context, client func(string) *redis.Client, all []Member, ok func([]Node, string) bool) error {
	var last string
	for {
		done := true
		for _, m := range all {
			c := client(m.Addr())
			nodes, err := Nodes(ctx, c)
			if err != nil {
				done, last = false, err.Error()
				break
			}
			info, err := c.ClusterInfo(ctx).Result()
			if err != nil || !ok(nodes, info) {
				done, last = false, m.Addr()+" not there yet"
				break
			}
		}
		if done {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w (%s)", ctx.Err(), last)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// Forget removes the node id from the cluster: every node in others
// forgets it (within the minute CLUSTER FORGET bans it, so gossip cannot
// bring it back). The node must own no slots; replicas of it must have
// moved first.
func Forget(ctx context.Context, client func(string) *redis.Client, others []Member, id string) error {
	for _, m := range others {
		err := client(m.Addr()).Do(ctx, "CLUSTER", "FORGET", id).Err()
		if err != nil && !strings.Contains(err.Error(), "Unknown node") {
			return fmt.Errorf("CLUSTER FORGET on %s: %w", m.Addr(), err)
		}
	}
	return nil
}

// OpenSlots lists the slots a node left mid-move, from the node's own
// line of CLUSTER NODES (only the node itself shows them).
func OpenSlots(ctx context.Context, c *redis.Client) (me Node, err error) {
	nodes, err := Nodes(ctx, c)
	if err != nil {
		return Node{}, err
	}
	me, ok := Myself(nodes)
	if !ok {
		return Node{}, fmt.Errorf("CLUSTER NODES has no myself line")
	}
	return me, nil
}

// Failover makes the replica c is connected to the master of its shard
// with CLUSTER FAILOVER: the old master pauses its clients, the replica
// catches up to its offset, then takes over, so no acknowledged write is
// lost. It waits until the replica reports itself a master.
func Failover(ctx context.Context, c *redis.Client) error {
	if err := c.Do(ctx, "CLUSTER", "FAILOVER").Err(); err != nil {
		return fmt.Errorf("CLUSTER FAILOVER on %s: %w", c.Options().Addr, err)
	}
	for {
		role, err := c.Do(ctx, "ROLE").Slice()
		if err == nil && len(role) > 0 && role[0] == "master" {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s not master after CLUSTER FAILOVER: %w", c.Options().Addr, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}
