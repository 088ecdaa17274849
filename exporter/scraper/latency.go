package scraper

import (
	"context"

	"github.com/redis/go-redis/v9"

	"github.com/redis-autoscaler/redis-autoscaler/exporter/redisreply"
)

// queueLatencyHistogram sends LATENCY HISTOGRAM (Extras.LatencyHistogram;
// Redis >= 7, older servers do not know it).
func (c *Client) queueLatencyHistogram(ctx context.Context, pipe redis.Pipeliner, _ *Sample) func(*Sample) {
	if !c.extras.LatencyHistogram || c.refused[extraLatencyHistogram] || c.version < 7 {
		return nil
	}
	hist := pipe.Do(ctx, "LATENCY", "HISTOGRAM")
	return func(s *Sample) {
		if c.accepted(extraLatencyHistogram, hist.Err()) {
			s.LatencyHistograms = redisreply.ParseLatencyHistogram(hist.Val())
		}
	}
}
