package scraper

import (
	"context"

	"github.com/redis/go-redis/v9"

	"github.com/redis-autoscaler/redis-autoscaler/exporter/redisreply"
)

// queueSentinel sends SENTINEL MASTERS to a Sentinel, asked or not, as
// redis_exporter does.
func (c *Client) queueSentinel(ctx context.Context, pipe redis.Pipeliner, s *Sample) func(*Sample) {
	if s.Info.Fields["redis_mode"] != "sentinel" || c.refused[extraSentinel] {
		return nil
	}
	masters := pipe.Do(ctx, "SENTINEL", "MASTERS")
	return func(s *Sample) {
		if c.accepted(extraSentinel, masters.Err()) {
			s.SentinelMasters = c.sentinelMasters(ctx, masters.Val())
		}
	}
}

// sentinelMasters reads SENTINEL MASTERS' reply, then CKQUORUM, SENTINELS
// and REPLICAS of every master in one more pipeline, as redis_exporter
// reports a Sentinel (it sends them one by one).
func (c *Client) sentinelMasters(ctx context.Context, reply any) []redisreply.SentinelMaster {
	out := redisreply.ParseSentinelMasters(reply)
	if len(out) == 0 {
		return nil
	}
	pipe := c.rdb.Pipeline()
	type cmds struct{ ck, sentinels, replicas *redis.Cmd }
	per := make([]cmds, len(out))
	for i, m := range out {
		name := m.Fields["name"]
		per[i] = cmds{pipe.Do(ctx, "SENTINEL", "CKQUORUM", name), pipe.Do(ctx, "SENTINEL", "SENTINELS", name), pipe.Do(ctx, "SENTINEL", "REPLICAS", name)}
	}
	_, _ = pipe.Exec(ctx)
	for i := range out {
		out[i].ReadCKQuorum(per[i].ck.Text())
		out[i].ReadPeers(per[i].sentinels.Val(), per[i].replicas.Val())
	}
	return out
}
