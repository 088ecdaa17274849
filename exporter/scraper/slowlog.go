package scraper

import (
	"context"

	"github.com/redis/go-redis/v9"

	"github.com/redis-autoscaler/redis-autoscaler/exporter/redisreply"
)

// queueSlowlog sends SLOWLOG LEN and SLOWLOG GET 1 (Extras.Slowlog).
func (c *Client) queueSlowlog(ctx context.Context, pipe redis.Pipeliner, _ *Sample) func(*Sample) {
	if !c.extras.Slowlog || c.refused[extraSlowlog] {
		return nil
	}
	length := pipe.Do(ctx, "SLOWLOG", "LEN")
	newest := pipe.Do(ctx, "SLOWLOG", "GET", 1)
	return func(s *Sample) {
		if !c.accepted(extraSlowlog, length.Err()) || !c.accepted(extraSlowlog, newest.Err()) {
			return
		}
		if st, err := redisreply.ParseSlowlog(length.Val(), newest.Val()); err == nil {
			s.Slowlog = &st
		}
	}
}
