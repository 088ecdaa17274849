package scraper

import (
	"context"

	"github.com/redis/go-redis/v9"

	"github.com/redis-autoscaler/redis-autoscaler/exporter/redisreply"
)

// queueClientList sends CLIENT LIST (Extras.ClientList).
func (c *Client) queueClientList(ctx context.Context, pipe redis.Pipeliner, _ *Sample) func(*Sample) {
	if !c.extras.ClientList || c.refused[extraClientList] {
		return nil
	}
	clients := pipe.ClientList(ctx)
	return func(s *Sample) {
		if c.accepted(extraClientList, clients.Err()) {
			s.Clients = redisreply.ParseClientList(clients.Val())
		}
	}
}
