package scraper

import (
	"context"

	"github.com/redis/go-redis/v9"

	"github.com/redis-autoscaler/redis-autoscaler/exporter/redisreply"
)

// Script is a Lua script file's name (as given) and body.
type Script struct {
	Name, Body string
}

// queueScripts runs the Lua scripts (Extras.Scripts) with EVAL, or EVAL_RO
// with Extras.ScriptReadOnly. A failing script is the script's to fix: it
// is reported in script_result each scrape, never remembered as refused.
func (c *Client) queueScripts(ctx context.Context, pipe redis.Pipeliner, _ *Sample) func(*Sample) {
	if len(c.extras.Scripts) == 0 {
		return nil
	}
	eval := "EVAL"
	if c.extras.ScriptReadOnly {
		eval = "EVAL_RO"
	}
	cmds := make([]*redis.Cmd, len(c.extras.Scripts))
	for i, sc := range c.extras.Scripts {
		cmds[i] = pipe.Do(ctx, eval, sc.Body, 0)
	}
	return func(s *Sample) {
		for i, cmd := range cmds {
			v, err := cmd.Result()
			s.Scripts = append(s.Scripts, redisreply.ParseScriptResult(c.extras.Scripts[i].Name, v, err))
		}
	}
}
