package clusterops

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/redis/go-redis/v9"

	"github.com/redis-autoscaler/redis-autoscaler/scaler/topology/clusterplan"
)

// Fix finishes every move a stopped resharding left open, whatever
// happened to its two ends (clusterplan.ResolveOpen decides how): a slot
// MIGRATING on its owner, IMPORTING on another master, or with keys on a
// master that does not own it is moved to where its keys were going, or
// closed when nothing is on its way. nodes are the cluster's reachable
// nodes; those whose own CLUSTER NODES line says master take part, each
// reporting its own open slots, slots and, for the open slots, its key
// counts. The others' views are not trusted for who is master: an old
// master back from a stall lists its promoted replica as a replica until
// the bus tells it.
func (m *Migrator) Fix(ctx context.Context, nodes []Node) (fixed int, err error) {
	byID := map[string]Node{}
	for _, n := range nodes {
		byID[n.ID] = n
	}
	mes, open, err := m.readOpen(ctx, nodes)
	if err != nil || len(open) == 0 {
		return 0, err
	}
	var masters []Node // as given: their addresses are the pods'
	for _, me := range mes {
		masters = append(masters, byID[me.ID])
	}
	resolved := map[int]clusterplan.Resolution{}
	for slot, o := range open {
		resolved[slot] = clusterplan.ResolveOpen(*o)
	}
	if err := m.tellOwners(ctx, mes, resolved, byID); err != nil {
		return 0, err
	}
	var errs []error
	for _, slot := range slices.Sorted(maps.Keys(open)) {
		res := resolved[slot]
		switch res.Kind {
		case clusterplan.Unresolvable:
			errs = append(errs, errors.New(res.Reason))
			continue
		case clusterplan.CloseOpen:
			err = m.close(ctx, slot, byID[res.From], res.Others, byID)
		case clusterplan.MoveOpen:
			err = m.MoveSlot(ctx, slot, byID[res.From], byID[res.To], masters)
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		fixed++
	}
	return fixed, errors.Join(errs...)
}

// readOpen reads each node's CLUSTER NODES, and for the masters among
// them (mes, by their own line) which slots are open, who claims them, who
// holds their keys (one round trip more per master) and which masters
// they list are not live.
func (m *Migrator) readOpen(ctx context.Context, nodes []Node) (mes []Node, open map[int]*clusterplan.OpenSlot, err error) {
	var addrs []string // of mes, as given
	open = map[int]*clusterplan.OpenSlot{}
	at := func(slot int) *clusterplan.OpenSlot {
		if open[slot] == nil {
			open[slot] = &clusterplan.OpenSlot{Slot: slot, Migrating: map[string]string{}}
		}
		return open[slot]
	}
	listed := map[string]bool{} // masters as the masters list them
	for _, n := range nodes {
		view, err := Nodes(ctx, m.Client(n.Addr))
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", n.Addr, err)
		}
		me, ok := Myself(view)
		if !ok {
			return nil, nil, fmt.Errorf("%s: CLUSTER NODES has no myself line", n.Addr)
		}
		if !me.Master() {
			continue
		}
		for _, p := range view {
			if p.Master() {
				listed[p.ID] = true
			}
		}
		mes = append(mes, me)
		addrs = append(addrs, n.Addr)
		for slot, dst := range me.Migrating {
			at(slot).Migrating[me.ID] = dst
		}
		for slot := range me.Importing {
			o := at(slot)
			o.Importing = append(o.Importing, me.ID)
		}
	}
	if len(open) == 0 {
		return mes, nil, nil
	}
	var live, down []string
	for _, me := range mes {
		live = append(live, me.ID)
	}
	for _, id := range slices.Sorted(maps.Keys(listed)) {
		if !slices.Contains(live, id) {
			down = append(down, id)
		}
	}
	// Who claims each open slot, and who holds its keys: one round trip
	// per master.
	for i, me := range mes {
		addr := addrs[i]
		pipe := m.Client(addr).Pipeline()
		counts := map[int]*redis.IntCmd{}
		for slot := range open {
			counts[slot] = pipe.ClusterCountKeysInSlot(ctx, slot)
		}
		if _, err := pipe.Exec(ctx); err != nil {
			return nil, nil, fmt.Errorf("CLUSTER COUNTKEYSINSLOT on %s: %w", addr, err)
		}
		for slot, o := range open {
			o.Live, o.Down = live, down
			if slices.Contains(me.Slots, slot) {
				o.Claims = append(o.Claims, me.ID)
			}
			if counts[slot].Val() > 0 {
				o.Holders = append(o.Holders, me.ID)
			}
		}
	}
	return mes, open, nil
}

// tellOwners tells each destination the owner of every slot it imports
// and the fix moves to it, where that is not the source it recorded. A
// destination importing from a source that failed over counts the slot
// as served by a failed node (it ignores the slot's gossip while
// importing), so its cluster_state is fail and it refuses every key with
// CLUSTERDOWN, whichever slot is moved first. SETSLOT NODE keeps the
// import open.
func (m *Migrator) tellOwners(ctx context.Context, mes []Node, resolved map[int]clusterplan.Resolution, byID map[string]Node) error {
	for _, me := range mes {
		for slot, src := range me.Importing {
			if res := resolved[slot]; res.Kind == clusterplan.MoveOpen && res.To == me.ID && res.From != src {
				if err := m.Client(byID[me.ID].Addr).Do(ctx, "CLUSTER", "SETSLOT", slot, "NODE", res.From).Err(); err != nil {
					return fmt.Errorf("slot %d: SETSLOT NODE %s (the owner) on %s: %w", slot, res.From, byID[me.ID].Addr, err)
				}
			}
		}
	}
	return nil
}

// close ends an open slot nothing is moving out of: its owner keeps it
// (SETSLOT STABLE), the other masters with it open are told the owner
// (SETSLOT NODE clears their IMPORTING, and the MIGRATING of one that
// holds no keys of it).
func (m *Migrator) close(ctx context.Context, slot int, owner Node, others []string, byID map[string]Node) error {
	if err := m.Client(owner.Addr).Do(ctx, "CLUSTER", "SETSLOT", slot, "STABLE").Err(); err != nil {
		return fmt.Errorf("slot %d: SETSLOT STABLE on %s: %w", slot, owner.Addr, err)
	}
	for _, id := range others {
		n := byID[id]
		if err := m.Client(n.Addr).Do(ctx, "CLUSTER", "SETSLOT", slot, "NODE", owner.ID).Err(); err != nil {
			return fmt.Errorf("slot %d: SETSLOT NODE %s on %s: %w", slot, owner.ID, n.Addr, err)
		}
	}
	return nil
}
