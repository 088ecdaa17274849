package scraper

import (
	"context"
	"net"
	"net/url"
	"strconv"
	"strings"

	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"

	"github.com/redis-autoscaler/redis-autoscaler/exporter/keycheck"
)

// keyReader is where named keys are read: with Extras.IsCluster on a
// cluster-enabled server, a cluster client that sends each key's commands
// to the node owning its slot (following MOVED), as redis_exporter's
// --is-cluster does; otherwise the kept connection (nil). The cluster
// client is made once, with the target's credentials and TLS, and keeps at
// most one connection per node.
func (c *Client) keyReader(s *Sample) keycheck.Reader {
	if !c.extras.IsCluster || s.Info.Fields["cluster_enabled"] != "1" {
		return nil
	}
	c.clusterMu.Lock()
	defer c.clusterMu.Unlock()
	if c.closed {
		return nil
	}
	if c.cluster == nil {
		o := c.rdb.Options()
		c.cluster = redis.NewClusterClient(&redis.ClusterOptions{
			Addrs:    []string{o.Addr},
			Username: o.Username, Password: o.Password,
			TLSConfig: o.TLSConfig, ClientName: o.ClientName,
			Protocol: 2, DisableIdentity: true,
			MaintNotificationsConfig: &maintnotifications.Config{Mode: maintnotifications.ModeDisabled},
			DialTimeout:              o.DialTimeout, ReadTimeout: o.ReadTimeout, WriteTimeout: o.WriteTimeout,
			ContextTimeoutEnabled: true,
			PoolSize:              1, MaxIdleConns: 1,
			ReadBufferSize: o.ReadBufferSize, WriteBufferSize: o.WriteBufferSize,
		})
	}
	return c.cluster
}

// ClusterNodes lists the nodes of the target's Redis Cluster (CLUSTER
// NODES on the kept connection) as host:port; with hostnames, a node's
// announced hostname replaces its IP where it has one
// (/discover-cluster-nodes, --cluster-discover-hostnames).
func (c *Client) ClusterNodes(ctx context.Context, hostnames bool) ([]string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	text, err := c.rdb.ClusterNodes(ctx).Result()
	if err != nil {
		return nil, c.scrubError(err)
	}
	return ParseClusterNodes(text, hostnames), nil
}

// ParseClusterNodes reads CLUSTER NODES lines, "<id> <ip:port@cport[,hostname]>
// <flags> ...", into host:port; nodes without an address (noaddr, a port
// of 0) and lines that are not node lines are left out.
func ParseClusterNodes(text string, hostnames bool) []string {
	var out []string
	for _, line := range strings.Split(text, "\n") {
		fields := strings.Fields(line)
		if len(fields) < 3 || strings.Contains(fields[2], "noaddr") {
			continue
		}
		addr, hostname, _ := strings.Cut(fields[1], ",")
		addr, _, _ = strings.Cut(addr, "@")
		host, port, err := net.SplitHostPort(addr)
		if err != nil || host == "" {
			continue
		}
		if p, err := strconv.Atoi(port); err != nil || p <= 0 || p > 65535 {
			continue
		}
		if hostnames && hostname != "" {
			host = hostname
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
