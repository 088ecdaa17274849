package redisreply

import (
	"fmt"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// SlotCount is the number of hash slots of a Redis Cluster.
const SlotCount = 16384

// ClusterNode is one line of CLUSTER NODES:
//
//	<id> <ip:port@cport[,hostname[,aux=value...]]> <flags> <master> <ping-sent> <pong-recv> <config-epoch> <link-state> <slot> ...
type ClusterNode struct {
	ID string
	// Addr is host:port for clients (the bus port and hostname dropped).
	Addr string
	// BusPort is the cluster bus port (0 when the line has none).
	BusPort int
	// Hostname is the announced hostname (Redis >= 7; "" when none). The
	// auxiliary fields Redis 7.2 appends after it are left out.
	Hostname string
	Flags    []string
	MasterID string // "" for a master
	Slots    []int
	// Migrating: slot -> the node ID it is being migrated to; Importing:
	// slot -> the node ID it is being imported from (on this node).
	Migrating, Importing map[int]string
}

// Has reports whether the node carries a flag (myself, master, slave,
// fail, fail?, handshake, noaddr, nofailover).
func (n ClusterNode) Has(flag string) bool { return slices.Contains(n.Flags, flag) }

// Master reports whether the node is a master.
func (n ClusterNode) Master() bool { return n.Has("master") }

// nodeFields is how many fields a whole node line has before its slots.
const nodeFields = 8

// ParseClusterNodes parses a CLUSTER NODES reply. A line that names a node
// (an ID, an address and flags) gives a node; one that is not whole
// (fewer than eight fields, a bad slot) gives what it held and makes err
// name the first such line, as does a line naming no node, which is left
// out. So the scaler, which acts on slots, refuses a reply with an error,
// and discovery, which needs only addresses, takes the nodes it names.
func ParseClusterNodes(text string) ([]ClusterNode, error) {
	var out []ClusterNode
	var first error
	for i, line := range strings.Split(strings.TrimSpace(text), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		n, err := parseNodeLine(f)
		if err != nil && first == nil {
			first = fmt.Errorf("CLUSTER NODES line %d: %w", i+1, err)
		}
		if len(f) >= 3 {
			out = append(out, n)
		}
	}
	return out, first
}

// parseNodeLine reads one line's fields as far as they go.
func parseNodeLine(f []string) (ClusterNode, error) {
	if len(f) < 3 {
		return ClusterNode{}, fmt.Errorf("%d fields, want at least %d", len(f), nodeFields)
	}
	n := ClusterNode{ID: f[0], Flags: strings.Split(f[2], ",")}
	addr, names, _ := strings.Cut(f[1], ",") // ip:port@cport[,hostname[,aux=value...]]
	addr, bus, _ := strings.Cut(addr, "@")
	n.Addr = addr
	n.BusPort, _ = strconv.Atoi(bus)
	if hostname, _, _ := strings.Cut(names, ","); !strings.Contains(hostname, "=") {
		n.Hostname = hostname
	}
	if len(f) > 3 && f[3] != "-" {
		n.MasterID = f[3]
	}
	if len(f) < nodeFields {
		return n, fmt.Errorf("%d fields, want at least %d", len(f), nodeFields)
	}
	for _, s := range f[nodeFields:] {
		if err := n.addSlots(s); err != nil {
			return n, err
		}
	}
	return n, nil
}

// addSlots reads one slot token: a slot, a range lo-hi, or an open slot
// [slot->-id] (migrating) or [slot-<-id] (importing).
func (n *ClusterNode) addSlots(s string) error {
	if strings.HasPrefix(s, "[") {
		body := strings.TrimSuffix(strings.TrimPrefix(s, "["), "]")
		for _, open := range []struct {
			arrow string
			slots *map[int]string
		}{{"->-", &n.Migrating}, {"-<-", &n.Importing}} {
			a, id, ok := strings.Cut(body, open.arrow)
			if !ok {
				continue
			}
			slot, err := slotNumber(a)
			if err != nil {
				return err
			}
			if *open.slots == nil {
				*open.slots = map[int]string{}
			}
			(*open.slots)[slot] = id
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
	if err != nil || v < 0 || v >= SlotCount {
		return 0, fmt.Errorf("bad slot %q", s)
	}
	return v, nil
}

// ClusterNodeAddresses are the nodes' addresses as host:port a redis://
// URL can name; with hostnames, a node's announced hostname replaces its
// IP where it has one (the exporter's --cluster-discover-hostnames).
// Nodes without an address (noaddr, a port of 0) are left out.
func ClusterNodeAddresses(nodes []ClusterNode, hostnames bool) []string {
	var out []string
	for _, n := range nodes {
		if n.Has("noaddr") {
			continue
		}
		host, port, err := net.SplitHostPort(n.Addr)
		if err != nil || host == "" {
			continue
		}
		if p, err := strconv.Atoi(port); err != nil || p <= 0 || p > 65535 {
			continue
		}
		if hostnames && n.Hostname != "" {
			host = n.Hostname
		}
		hp := net.JoinHostPort(host, port)
		if !urlHost(hp, host, port) {
			continue // not a host a redis:// URL can name
		}
		out = append(out, hp)
	}
	return out
}

// urlHost reports whether hp (host, port joined) reads back as host and
// port both as an address and as a redis:// URL's host.
func urlHost(hp, host, port string) bool {
	if h, p, err := net.SplitHostPort(hp); err != nil || h != host || p != port {
		return false
	}
	u, err := url.Parse("redis://" + hp)
	return err == nil && u.Hostname() == host && u.Port() == port && u.User == nil && u.Path == ""
}
