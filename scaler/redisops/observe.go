package redisops

import (
	"context"
	"fmt"
	"strconv"

	"github.com/redis/go-redis/v9"

	"github.com/redis-autoscaler/redis-autoscaler/exporter/redisinfo"
	"github.com/redis-autoscaler/redis-autoscaler/scaler/topology"
)

// Observe reads one INFO (server, replication, keyspace) and fills the
// Redis side of p; p.Reachable is set when it answered.
func Observe(ctx context.Context, c *redis.Client, p *topology.Pod) error {
	text, err := c.Info(ctx, "server", "replication", "keyspace").Result()
	if err != nil {
		return fmt.Errorf("INFO: %w", err)
	}
	info, err := redisinfo.Parse(text)
	if err != nil {
		return fmt.Errorf("INFO: %w", err)
	}
	FromInfo(info, p)
	p.Reachable = true
	return nil
}

// FromInfo copies the fields the decisions need from a parsed INFO.
func FromInfo(info *redisinfo.Info, p *topology.Pod) {
	f := info.Fields
	p.Role = info.Role()
	p.RunID = f["run_id"]
	p.ReplID = f["master_replid"]
	// Without a previous history Redis reports 40 zeros and -1.
	p.ReplID2, p.SecondOffset = "", 0
	if v := intField(f, "second_repl_offset"); v > 0 {
		p.ReplID2, p.SecondOffset = f["master_replid2"], v
	}
	p.Offset = intField(f, "master_repl_offset")
	p.ConnectedReplicas = int(intField(f, "connected_slaves"))
	p.Keys = 0
	for _, db := range info.Keyspace {
		p.Keys += int64(db.Keys)
	}
	p.MasterHost, p.MasterPort, p.LinkUp, p.SyncInProgress = "", 0, false, false
	if p.Role == topology.RoleReplica {
		p.MasterHost = f["master_host"]
		p.MasterPort = int(intField(f, "master_port"))
		p.LinkUp = f["master_link_status"] == "up"
		p.SyncInProgress = f["master_sync_in_progress"] == "1"
		// A replica's master_repl_offset is what it processed; before its
		// first sync Redis may report slave_repl_offset only. A replica
		// that never synced (started with replicaof of a placeholder)
		// reports slave_repl_offset 1 with no data: that is not data.
		if off := intField(f, "slave_repl_offset"); p.Offset == 0 && off > 1 {
			p.Offset = off
		}
	}
}

// Offset returns master_repl_offset (on a replica: how far it processed).
func Offset(ctx context.Context, c *redis.Client) (int64, error) {
	text, err := c.Info(ctx, "replication").Result()
	if err != nil {
		return 0, fmt.Errorf("INFO replication: %w", err)
	}
	info, err := redisinfo.Parse(text)
	if err != nil {
		return 0, err
	}
	return intField(info.Fields, "master_repl_offset"), nil
}

func intField(f map[string]string, key string) int64 {
	v, _ := strconv.ParseInt(f[key], 10, 64)
	return v
}
