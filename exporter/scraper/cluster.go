package scraper

import (
	"context"

	"github.com/redis/go-redis/v9"

	"github.com/redis-autoscaler/redis-autoscaler/exporter/redisreply"
)

// queueClusterInfo sends CLUSTER INFO to a cluster-enabled server, asked
// or not, as redis_exporter does.
func (c *Client) queueClusterInfo(ctx context.Context, pipe redis.Pipeliner, s *Sample) func(*Sample) {
	if s.Info.Fields["cluster_enabled"] != "1" || c.refused[extraClusterInfo] {
		return nil
	}
	info := pipe.ClusterInfo(ctx)
	return func(s *Sample) {
		if c.accepted(extraClusterInfo, info.Err()) {
			s.ClusterInfo = redisreply.ParseClusterInfo(info.Val())
		}
	}
}

// ClusterNodes lists the nodes of the target's Redis Cluster (CLUSTER
// NODES on the kept connection) as host:port; with hostnames, a node's
// announced hostname replaces its IP where it has one
// (/discover-cluster-nodes, --cluster-discover-hostnames). Lines that are
// not whole still give their node's address: discovery needs no more.
func (c *Client) ClusterNodes(ctx context.Context, hostnames bool) ([]string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	text, err := c.rdb.ClusterNodes(ctx).Result()
	if err != nil {
		return nil, c.scrubError(err)
	}
	nodes, _ := redisreply.ParseClusterNodes(text)
	return redisreply.ClusterNodeAddresses(nodes, hostnames), nil
}
