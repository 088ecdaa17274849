// Package clusterops sends the commands that reshape a Redis Cluster:
// read its nodes (CLUSTER NODES), and move a hash slot from one master to
// another with its keys (SETSLOT IMPORTING/MIGRATING, MIGRATE in batches,
// SETSLOT NODE on every master), resumable after an interruption as
// redis-cli --cluster fix resumes one.
package clusterops

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/redis/go-redis/v9"
)

// Node is one line of CLUSTER NODES.
type Node struct {
	ID string
	// Addr is host:port for clients (the bus port and hostname dropped).
	Addr string
	// BusPort is the cluster bus port (0 when the line has none).
	BusPort  int
	Flags    []string
	MasterID string // "" for a master
	Slots    []int
	// Migrating: slot -> the node ID it is being migrated to; Importing:
	// slot -> the node ID it is being imported from (on this node).
	Migrating, Importing map[int]string
}

// Has reports whether the node carries a flag (myself, master, slave,
// fail, fail?, handshake, noaddr, nofailover).
func (n Node) Has(flag string) bool {
	for _, f := range n.Flags {
		if f == flag {
			return true
		}
	}
	return false
}

// Master reports whether the node is a master.
func (n Node) Master() bool { return n.Has("master") }

// ParseNodes parses a CLUSTER NODES reply.
func ParseNodes(text string) ([]Node, error) {
	var out []Node
	for i, line := range strings.Split(strings.TrimSpace(text), "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		f := strings.Fields(line)
		if len(f) < 8 {
			return nil, fmt.Errorf("CLUSTER NODES line %d: %d fields, want at least 8", i+1, len(f))
		}
		n := Node{ID: f[0], Flags: strings.Split(f[2], ",")}
		addr, bus, _ := strings.Cut(f[1], "@") // host:port@cport[,hostname]
		n.Addr = addr
		bus, _, _ = strings.Cut(bus, ",")
		n.BusPort, _ = strconv.Atoi(bus)
		if f[3] != "-" {
			n.MasterID = f[3]
		}
		for _, s := range f[8:] {
			if err := n.addSlots(s); err != nil {
				return nil, fmt.Errorf("CLUSTER NODES line %d: %w", i+1, err)
			}
		}
		out = append(out, n)
	}
	return out, nil
}

func (n *Node) addSlots(s string) error {
	if strings.HasPrefix(s, "[") { // [slot->-id] migrating, [slot-<-id] importing
		body := strings.TrimSuffix(strings.TrimPrefix(s, "["), "]")
		if a, id, ok := strings.Cut(body, "->-"); ok {
			slot, err := slotNumber(a)
			if err != nil {
				return err
			}
			if n.Migrating == nil {
				n.Migrating = map[int]string{}
			}
			n.Migrating[slot] = id
			return nil
		}
		if a, id, ok := strings.Cut(body, "-<-"); ok {
			slot, err := slotNumber(a)
			if err != nil {
				return err
			}
			if n.Importing == nil {
				n.Importing = map[int]string{}
			}
			n.Importing[slot] = id
			return nil
		}
		return fmt.Errorf("bad slot state %q", s)
	}
	lo, hi, isRange := strings.Cut(s, "-")
	a, err := slotNumber(lo)
	if err != nil {
		return err
	}
	b := a
	if isRange {
		if b, err = slotNumber(hi); err != nil {
			return err
		}
	}
	if b < a {
		return fmt.Errorf("bad slot range %q", s)
	}
	for slot := a; slot <= b; slot++ {
		n.Slots = append(n.Slots, slot)
	}
	return nil
}

func slotNumber(s string) (int, error) {
	v, err := strconv.Atoi(s)
	if err != nil || v < 0 || v >= 16384 {
		return 0, fmt.Errorf("bad slot %q", s)
	}
	return v, nil
}

// Nodes reads CLUSTER NODES from c.
func Nodes(ctx context.Context, c *redis.Client) ([]Node, error) {
	text, err := c.ClusterNodes(ctx).Result()
	if err != nil {
		return nil, fmt.Errorf("CLUSTER NODES: %w", err)
	}
	return ParseNodes(text)
}

// Myself is the node that answered.
func Myself(nodes []Node) (Node, bool) {
	for _, n := range nodes {
		if n.Has("myself") {
			return n, true
		}
	}
	return Node{}, false
}
