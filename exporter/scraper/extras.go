package scraper

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/redis-autoscaler/redis-autoscaler/exporter/keycheck"
	"github.com/redis-autoscaler/redis-autoscaler/exporter/redisinfo"
)

// Extras are commands sent besides INFO, each only when asked for. They go
// in one pipelined round trip after INFO's reply, so redis_probe_rtt_seconds
// stays the round trip of INFO alone; with none asked for, a scrape is one
// command.
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

// configCommand is CONFIG's name on the servers (it may be renamed).
func (x Extras) configCommand() string {
	if x.ConfigCommand == "" {
		return "CONFIG"
	}
	return x.ConfigCommand
}

// Any reports whether any extra command is asked for. CLUSTER INFO is sent
// to cluster-enabled servers without being asked, as redis_exporter does.
func (x Extras) Any() bool {
	return x.Slowlog || x.LatencyHistogram || x.Config || !x.Keys.Empty() || len(x.KeyGroups) > 0 || len(x.Scripts) > 0 || x.ClientList || x.EmptyDatabases
}

// Script is a Lua script file's name (as given) and body.
type Script struct {
	Name, Body string
}

// ScriptResult is what a script returned: key/value pairs (Values), or
// Err, or nothing (Empty), as redis_exporter's script_result tells them
// apart (1, 0, 2).
type ScriptResult struct {
	Name   string
	Values map[string]float64
	Err    error
	Empty  bool
}

// SlowlogStat is what SLOWLOG LEN and SLOWLOG GET 1 tell.
type SlowlogStat struct {
	Length float64
	// LastID and LastDurationSeconds are of the newest entry (0 when the
	// log is empty).
	LastID              float64
	LastDurationSeconds float64
}

// LatencyHistogram is one command's LATENCY HISTOGRAM: cumulative counts
// by upper bound in microseconds, as Redis reports them.
type LatencyHistogram struct {
	Calls   uint64
	Buckets map[float64]uint64
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

// SentinelMaster is a master a Sentinel monitors, from SENTINEL MASTERS
// (Fields: name, ip, port, quorum, ...), SENTINEL CKQUORUM and the ok
// (not s_down or o_down) peers of SENTINEL SENTINELS and REPLICAS.
type SentinelMaster struct {
	Fields          map[string]string
	CKQuorumOK      bool
	CKQuorumMessage string
	// OKSentinels counts this Sentinel and its peers that are not down,
	// as redis_exporter does; OKReplicas the replicas that are not down.
	OKSentinels, OKReplicas int
	// Peers are the other Sentinels (SENTINEL SENTINELS entries).
	Peers []map[string]string
}

// runExtras sends the asked-for extras in one pipeline and fills s. A
// command the server refuses (renamed, ACL without the permission, a
// managed Redis, too old) is remembered as refused for this connection and
// not sent again, so the server's error stats count one refusal, not one
// per scrape; its metrics are simply absent. Other errors leave this
// scrape's extras out.
func (c *Client) runExtras(ctx context.Context, s *Sample) {
	x := c.extras
	pipe := c.rdb.Pipeline()
	var slowLen *redis.IntCmd
	var slowGet *redis.SlowLogCmd
	var hist *redis.Cmd
	if x.Slowlog && !c.refused[extraSlowlog] {
		slowLen = pipe.SlowLogLen(ctx)
		slowGet = pipe.SlowLogGet(ctx, 1)
	}
	if x.LatencyHistogram && !c.refused[extraLatencyHistogram] && c.version >= 7 {
		hist = pipe.Do(ctx, "LATENCY", "HISTOGRAM")
	}
	var clusterInfo *redis.StringCmd
	if s.Info.Fields["cluster_enabled"] == "1" && !c.refused[extraClusterInfo] {
		clusterInfo = pipe.ClusterInfo(ctx)
	}
	var config *redis.Cmd
	if x.Config && !c.refused[extraConfig] {
		config = pipe.Do(ctx, x.configCommand(), "GET", "*")
	}
	scripts := make([]*redis.Cmd, len(x.Scripts))
	eval := "EVAL"
	if x.ScriptReadOnly {
		eval = "EVAL_RO"
	}
	for i, sc := range x.Scripts {
		scripts[i] = pipe.Do(ctx, eval, sc.Body, 0)
	}
	var databases *redis.MapStringStringCmd
	if x.EmptyDatabases && !x.Config && !c.refused[extraConfig] {
		databases = redis.NewMapStringStringCmd(ctx, x.configCommand(), "GET", "databases")
		_ = pipe.Process(ctx, databases)
	}
	var clients *redis.StringCmd
	if x.ClientList && !c.refused[extraClientList] {
		clients = pipe.ClientList(ctx)
	}
	var masters *redis.Cmd
	if s.Info.Fields["redis_mode"] == "sentinel" && !c.refused[extraSentinel] {
		masters = pipe.Do(ctx, "SENTINEL", "MASTERS")
	}
	defer c.runKeyChecks(ctx, s)
	if pipe.Len() == 0 {
		return
	}
	_, _ = pipe.Exec(ctx)
	if slowLen != nil && c.accepted(extraSlowlog, slowLen.Err()) && c.accepted(extraSlowlog, slowGet.Err()) {
		st := &SlowlogStat{Length: float64(slowLen.Val())}
		if logs := slowGet.Val(); len(logs) > 0 {
			st.LastID = float64(logs[0].ID)
			st.LastDurationSeconds = logs[0].Duration.Seconds()
		}
		s.Slowlog = st
	}
	if hist != nil && c.accepted(extraLatencyHistogram, hist.Err()) {
		s.LatencyHistograms = parseLatencyHistogram(hist.Val())
	}
	if clusterInfo != nil && c.accepted(extraClusterInfo, clusterInfo.Err()) {
		s.ClusterInfo = parseClusterInfo(clusterInfo.Val())
	}
	if config != nil && c.accepted(extraConfig, config.Err()) {
		s.Config = parseConfig(config.Val())
	}
	dbs := s.Config["databases"]
	if databases != nil && c.accepted(extraConfig, databases.Err()) {
		dbs = databases.Val()["databases"]
	}
	if n, err := strconv.Atoi(dbs); err == nil && x.EmptyDatabases {
		s.Databases = n
	}
	for i, cmd := range scripts {
		s.Scripts = append(s.Scripts, scriptResult(x.Scripts[i].Name, cmd))
	}
	if clients != nil && c.accepted(extraClientList, clients.Err()) {
		s.Clients = redisinfo.ParseClientList(clients.Val())
	}
	if masters != nil && c.accepted(extraSentinel, masters.Err()) {
		s.SentinelMasters = c.sentinelMasters(ctx, masters.Val())
	}
}

// sentinelMasters reads SENTINEL MASTERS' reply, then CKQUORUM, SENTINELS
// and REPLICAS of every master in one more pipeline, as redis_exporter
// reports a Sentinel (it sends them one by one).
func (c *Client) sentinelMasters(ctx context.Context, reply any) []SentinelMaster {
	list, _ := reply.([]any)
	var out []SentinelMaster
	for _, m := range list {
		if f := flatMap(m); f["name"] != "" {
			out = append(out, SentinelMaster{Fields: f})
		}
	}
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
		if msg, err := per[i].ck.Text(); err == nil {
			out[i].CKQuorumOK, out[i].CKQuorumMessage = true, msg
		} else {
			out[i].CKQuorumMessage = err.Error()
		}
		out[i].OKSentinels = 1 + okPeers(per[i].sentinels.Val())
		out[i].OKReplicas = okPeers(per[i].replicas.Val())
		peers, _ := per[i].sentinels.Val().([]any)
		for _, p := range peers {
			out[i].Peers = append(out[i].Peers, flatMap(p))
		}
	}
	return out
}

// okPeers counts the entries of a SENTINEL SENTINELS or REPLICAS reply
// whose flags are neither s_down nor o_down.
func okPeers(reply any) int {
	list, _ := reply.([]any)
	n := 0
	for _, p := range list {
		flags, ok := flatMap(p)["flags"]
		if ok && !strings.Contains(flags, "s_down") && !strings.Contains(flags, "o_down") {
			n++
		}
	}
	return n
}

// flatMap reads a RESP2 flat [key, value, ...] array (or a RESP3 map).
func flatMap(v any) map[string]string {
	out := map[string]string{}
	switch r := v.(type) {
	case []any:
		for i := 0; i+1 < len(r); i += 2 {
			out[fmt.Sprint(r[i])] = fmt.Sprint(r[i+1])
		}
	case map[any]any:
		for k, val := range r {
			out[fmt.Sprint(k)] = fmt.Sprint(val)
		}
	}
	return out
}

// scriptResult reads a script's reply: a flat array of key, value pairs
// whose values are numbers. Script errors are the script's to fix and
// are reported in script_result, not remembered as refusals.
func scriptResult(name string, cmd *redis.Cmd) ScriptResult {
	r := ScriptResult{Name: name}
	v, err := cmd.Result()
	if err != nil {
		r.Err = err
		return r
	}
	pairs, ok := v.([]any)
	if !ok {
		r.Err = errors.New("the script did not return an array of key, value pairs")
		return r
	}
	if len(pairs) == 0 {
		r.Empty = true
		return r
	}
	r.Values = map[string]float64{}
	for i := 0; i+1 < len(pairs); i += 2 {
		k := fmt.Sprint(pairs[i])
		f, err := strconv.ParseFloat(fmt.Sprint(pairs[i+1]), 64)
		if err != nil {
			r.Err, r.Values = fmt.Errorf("value of %q is not a number", k), nil
			return r
		}
		r.Values[k] = f
	}
	return r
}

// parseClusterInfo reads CLUSTER INFO's "key:value" lines.
func parseClusterInfo(text string) map[string]string {
	out := map[string]string{}
	for _, line := range strings.Split(text, "\n") {
		k, v, ok := strings.Cut(strings.TrimSpace(line), ":")
		if ok && k != "" {
			out[k] = v
		}
	}
	return out
}

// parseConfig reads CONFIG GET's flat [key, value, ...] reply (RESP2) or
// its map (RESP3).
func parseConfig(v any) map[string]string { return flatMap(v) }

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

// parseLatencyHistogram reads LATENCY HISTOGRAM's RESP2 reply:
// [cmd, [calls, N, histogram_usec, [bound, count, ...]], ...]. Anything
// not of that shape is skipped.
func parseLatencyHistogram(v any) map[string]LatencyHistogram {
	top, ok := v.([]any)
	if !ok {
		return nil
	}
	out := map[string]LatencyHistogram{}
	for i := 0; i+1 < len(top); i += 2 {
		name, ok1 := top[i].(string)
		details, ok2 := top[i+1].([]any)
		if !ok1 || !ok2 {
			continue
		}
		h := LatencyHistogram{Buckets: map[float64]uint64{}}
		for j := 0; j+1 < len(details); j += 2 {
			key, _ := details[j].(string)
			switch key {
			case "calls":
				if n, ok := details[j+1].(int64); ok && n >= 0 {
					h.Calls = uint64(n)
				}
			case "histogram_usec":
				pairs, _ := details[j+1].([]any)
				for k := 0; k+1 < len(pairs); k += 2 {
					bound, ok1 := pairs[k].(int64)
					count, ok2 := pairs[k+1].(int64)
					if ok1 && ok2 && bound > 0 && count >= 0 {
						h.Buckets[float64(bound)] = uint64(count)
					}
				}
			}
		}
		out[name] = h
	}
	return out
}

// logger is the package logger (SetLogger).
func logger() *slog.Logger { return log }

// runKeyChecks reads the keys asked for, and walks the key groups, on the
// kept connection, after INFO and the other extras.
func (c *Client) runKeyChecks(ctx context.Context, s *Sample) {
	checks := !c.extras.Keys.Empty() && !(c.extras.SkipKeysOnMaster && s.Info.Role() == "master")
	groups := c.groups != nil && !c.refused[extraKeyGroups]
	if !checks && !groups {
		return
	}
	conn := c.rdb.Conn()
	defer conn.Close()
	if checks {
		res, err := keycheck.Run(ctx, conn, c.keyReader(s), c.target.DB, c.extras.Keys)
		if err != nil {
			logger().Warn("key checks failed", "target", c.target.String(), "err", c.scrubError(err))
		}
		s.Keys = res
	}
	if groups {
		// As redis_exporter: key groups are walked on masters too, whatever
		// --skip-checkkeys-for-role-master says.
		start := time.Now()
		res, err := c.groups.Step(ctx, conn, c.target.DB, keyspaceDBs(s.Info))
		s.KeyGroupsDuration = time.Since(start)
		if err != nil && !c.accepted(extraKeyGroups, err) && !c.refused[extraKeyGroups] {
			logger().Warn("key groups failed", "target", c.target.String(), "err", c.scrubError(err))
		}
		s.KeyGroups = res
	}
}

// keyspaceDBs are the databases INFO keyspace lists (those with keys).
func keyspaceDBs(info *redisinfo.Info) []int {
	out := make([]int, 0, len(info.Keyspace))
	for _, db := range info.Keyspace {
		if n, err := strconv.Atoi(strings.TrimPrefix(db.DB, "db")); err == nil {
			out = append(out, n)
		}
	}
	return out
}
