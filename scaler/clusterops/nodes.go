// Package clusterops sends the commands that reshape a Redis Cluster:
// read its nodes (CLUSTER NODES), and move a hash slot from one master to
// another with its keys (SETSLOT IMPORTING/MIGRATING, MIGRATE in batches,
// SETSLOT NODE on every master), resumable after an interruption as
// redis-cli --cluster fix resumes one.
package clusterops

import (
	"context"
	"fmt"

	"github.com/redis/go-redis/v9"

	"github.com/redis-autoscaler/redis-autoscaler/exporter/redisreply"
)

// Node is one line of CLUSTER NODES. It is the module's one CLUSTER NODES
// parser's type (exporter/redisreply, pure and fuzzed, which the
// exporter's cluster discovery reads too), so that both read a reply alike.
type Node = redisreply.ClusterNode

// ParseNodes parses a CLUSTER NODES reply. Unlike discovery, which takes
// whatever addresses a reply names, it refuses a reply with any line that
// is not whole: the scaler acts on slots.
func ParseNodes(text string) ([]Node, error) {
	nodes, err := redisreply.ParseClusterNodes(text)
	if err != nil {
		return nil, err
	}
	return nodes, nil
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
