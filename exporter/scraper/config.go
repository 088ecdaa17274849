package scraper

import (
	"context"

	"github.com/redis/go-redis/v9"

	"github.com/redis-autoscaler/redis-autoscaler/exporter/redisreply"
)

// configCommand is CONFIG's name on the servers (it may be renamed).
func (x Extras) configCommand() string {
	if x.ConfigCommand == "" {
		return "CONFIG"
	}
	return x.ConfigCommand
}

// queueConfig sends CONFIG GET * (Extras.Config).
func (c *Client) queueConfig(ctx context.Context, pipe redis.Pipeliner, _ *Sample) func(*Sample) {
	if !c.extras.Config || c.refused[extraConfig] {
		return nil
	}
	config := pipe.Do(ctx, c.extras.configCommand(), "GET", "*")
	return func(s *Sample) {
		if c.accepted(extraConfig, config.Err()) {
			s.Config = redisreply.ParseConfig(config.Val())
		}
	}
}

// queueDatabases learns how many databases there are, so that empty ones
// get db_keys 0 (Extras.EmptyDatabases): from CONFIG GET *'s reply when
// it is asked for, else by CONFIG GET databases.
func (c *Client) queueDatabases(ctx context.Context, pipe redis.Pipeliner, _ *Sample) func(*Sample) {
	x := c.extras
	if !x.EmptyDatabases {
		return nil
	}
	var databases *redis.Cmd
	if !x.Config && !c.refused[extraConfig] {
		databases = pipe.Do(ctx, x.configCommand(), "GET", "databases")
	}
	return func(s *Sample) {
		config := s.Config
		if databases != nil && c.accepted(extraConfig, databases.Err()) {
			config = redisreply.ParseConfig(databases.Val())
		}
		if n, ok := redisreply.ConfigDatabases(config); ok {
			s.Databases = n
		}
	}
}
