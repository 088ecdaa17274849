package scraper

import (
	"context"
	"errors"
	"net"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/redis-autoscaler/redis-autoscaler/exporter/keycheck"
)

// Extras are commands sent besides INFO, each only when asked for. They go
// in one pipelined round trip after INFO's reply, so redis_probe_rtt_seconds
// stays the round trip of INFO alone; with none asked for, a scrape is one
// command. Each family of commands is a file of its own (slowlog.go,
// latency.go, cluster.go, config.go, scripts.go, clients.go, sentinel.go,
// keys.go); their replies are parsed by exporter/redisreply.
type Extras struct {
	// Slowlog: SLOWLOG LEN and SLOWLOG GET 1 (redis_slowlog_length,
	// redis_slowlog_last_id, redis_last_slow_execution_duration_seconds).
	Slowlog bool
	// LatencyHistogram: LATENCY HISTOGRAM (Redis >= 7), per-command
	// latency histograms (redis_commands_latencies_usec).
	LatencyHistogram bool
	// Config: CONFIG GET * (ConfigCommand names CONFIG when it is renamed):
	// every setting as redis_config_key_value / redis_config_value (secrets
	// always redacted), and redis_exporter's config_* gauges.
	Config        bool
	ConfigCommand string
	// Scripts are Lua scripts run each scrape (--script); ReadOnly runs
	// them with EVAL_RO (--lua-script-read-only).
	Scripts        []Script
	ScriptReadOnly bool
	// ClientList: CLIENT LIST (--export-client-list).
	ClientList bool
	// EmptyDatabases: CONFIG GET databases, so that empty databases get
	// db_keys 0 (--include-metrics-for-empty-databases).
	EmptyDatabases bool
	// SkipKeysOnMaster skips the key checks on masters
	// (--skip-checkkeys-for-role-master).
	SkipKeysOnMaster bool
	// Keys are --check-keys, --check-single-keys and --count-keys.
	Keys keycheck.Spec
	// KeyGroups are Lua patterns grouping every key (--check-key-groups),
	// walked within Keys.Budget keys per scrape; MaxDistinctKeyGroups
	// bounds the groups exported per database (--max-distinct-key-groups).
	KeyGroups            []string
	MaxDistinctKeyGroups int
	// ClientName names the connection (CLIENT SETNAME on connect).
	ClientName string
	// PingOnConnect sends PING on each new connection.
	PingOnConnect bool
	// IsCluster reads checked keys from the node owning them on
	// cluster-enabled servers (--is-cluster).
	IsCluster bool
}

// Any reports whether any extra command is asked for. CLUSTER INFO is sent
// to cluster-enabled servers without being asked, as redis_exporter does.
func (x Extras) Any() bool {
	return x.Slowlog || x.LatencyHistogram || x.Config || !x.Keys.Empty() || len(x.KeyGroups) > 0 || len(x.Scripts) > 0 || x.ClientList || x.EmptyDatabases
}

// extraNames are the extras as named in logs and refusals.
const (
	extraSlowlog          = "slowlog"
	extraLatencyHistogram = "latency histogram"
	extraClusterInfo      = "cluster info"
	extraConfig           = "config"
	extraClientList       = "client list"
	extraSentinel         = "sentinel masters"
	extraKeyGroups        = "key groups"
)

// queueFunc adds one family's commands to the scrape's pipeline and
// returns what reads their replies into the sample once it has run (nil:
// nothing queued, not asked for or refused before).
type queueFunc func(ctx context.Context, pipe redis.Pipeliner, s *Sample) func(*Sample)

// runExtras sends the asked-for extras in one pipeline and fills s. A
// command the server refuses (renamed, ACL without the permission, a
// managed Redis, too old) is remembered as refused for this connection and
// not sent again, so the server's error stats count one refusal, not one
// per scrape; its metrics are simply absent. Other errors leave this
// scrape's extras out. The key checks follow, on the kept connection.
func (c *Client) runExtras(ctx context.Context, s *Sample) {
	defer c.runKeyChecks(ctx, s)
	pipe := c.rdb.Pipeline()
	// In the order they are sent; config before databases, which falls
	// back on CONFIG GET *'s reply.
	families := []queueFunc{c.queueSlowlog, c.queueLatencyHistogram, c.queueClusterInfo, c.queueConfig,
		c.queueScripts, c.queueDatabases, c.queueClientList, c.queueSentinel}
	reads := make([]func(*Sample), 0, len(families))
	for _, queue := range families {
		if read := queue(ctx, pipe, s); read != nil {
			reads = append(reads, read)
		}
	}
	if pipe.Len() == 0 {
		return
	}
	_, _ = pipe.Exec(ctx)
	for _, read := range reads {
		read(s)
	}
}

// accepted reports whether err is nil; a refusal by the server is
// remembered (and logged once), other errors are not.
func (c *Client) accepted(name string, err error) bool {
	if err == nil {
		return true
	}
	var redisErr redis.Error
	var netErr net.Error
	if errors.As(err, &redisErr) && !errors.As(err, &netErr) && !errors.Is(err, context.DeadlineExceeded) {
		if !c.refused[name] {
			if c.refused == nil {
				c.refused = map[string]bool{}
			}
			c.refused[name] = true
			logger().Warn("server refused an extra command; its metrics are left out for this connection",
				"target", c.target.String(), "extra", name, "err", strings.ReplaceAll(err.Error(), c.passwordOrNone(), "xxxxx"))
		}
	}
	return false
}

func (c *Client) passwordOrNone() string {
	if c.target.Password == "" {
		return "\x00never\x00"
	}
	return c.target.Password
}
