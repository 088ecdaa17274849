package redistest

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// Cluster is a Redis Cluster of masters, each a redis-server on loopback,
// owning an even share of the 16384 slots.
type Cluster struct {
	Nodes []*Server
	// BusPorts are the nodes' cluster bus ports.
	BusPorts []int
}

// StartCluster starts masters cluster-enabled servers (extra arguments
// args on each), gives each an even range of slots, makes them meet and
// waits (bounded) until every node reports cluster_state:ok.
func StartCluster(t testing.TB, masters int, args ...string) *Cluster {
	t.Helper()
	c := &Cluster{}
	for range masters {
		bus, err := FreePort()
		if err != nil {
			t.Fatal(err)
		}
		// An explicit bus port: port+10000 may be above 65535 or taken.
		s := Start(t, append([]string{"--cluster-enabled", "yes", "--cluster-port", strconv.Itoa(bus),
			"--cluster-node-timeout", "2000"}, args...)...)
		c.Nodes = append(c.Nodes, s)
		c.BusPorts = append(c.BusPorts, bus)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for i, s := range c.Nodes {
		rc := s.Client(t)
		lo, hi := i*16384/masters, (i+1)*16384/masters-1
		if err := rc.Do(ctx, "CLUSTER", "ADDSLOTSRANGE", lo, hi).Err(); err != nil {
			t.Fatalf("CLUSTER ADDSLOTSRANGE on %s: %v", s.HostPort(), err)
		}
		if i > 0 {
			first := c.Nodes[0]
			if err := rc.Do(ctx, "CLUSTER", "MEET", first.Host, first.Port, c.BusPorts[0]).Err(); err != nil {
				t.Fatalf("CLUSTER MEET from %s: %v", s.HostPort(), err)
			}
		}
	}
	for _, s := range c.Nodes {
		rc := s.Client(t)
		for {
			info, err := rc.ClusterInfo(ctx).Result()
			if err == nil && strings.Contains(info, "cluster_state:ok") &&
				strings.Contains(info, fmt.Sprintf("cluster_known_nodes:%d\r", masters)) {
				break
			}
			if ctx.Err() != nil {
				t.Fatalf("cluster did not form on %s: %q %v", s.HostPort(), info, err)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	return c
}

// Client is a cluster-aware client of the cluster, closed when the test
// ends.
func (c *Cluster) Client(t testing.TB) *redis.ClusterClient {
	t.Helper()
	addrs := make([]string, len(c.Nodes))
	for i, s := range c.Nodes {
		addrs[i] = s.HostPort()
	}
	cc := redis.NewClusterClient(&redis.ClusterOptions{Addrs: addrs, Protocol: 2, DisableIdentity: true})
	t.Cleanup(func() { cc.Close() })
	return cc
}
