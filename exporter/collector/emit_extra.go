package collector

import (
	"net"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/redis-autoscaler/redis-autoscaler/exporter/redisinfo"
	"github.com/redis-autoscaler/redis-autoscaler/exporter/scraper"
)

// clusterRenamed are CLUSTER INFO fields redis_exporter renames (still
// gauges there, so here); every other cluster_* field is a gauge of its
// own name.
var clusterRenamed = map[string]string{
	"cluster_stats_messages_sent":     "cluster_messages_sent_total",
	"cluster_stats_messages_received": "cluster_messages_received_total",
}

// maxClusterFields bounds the gauges built from CLUSTER INFO field names
// (a server chooses them; Redis 7 reports about 30).
const maxClusterFields = 100

var metricNameRE = regexp.MustCompile(`^[a-z_][a-z0-9_]*$`)

// dynamicDescs are descriptors named after fields a server reports,
// built once per name.
type dynamicDescs struct {
	mu    sync.Mutex
	ns    string
	base  []string
	descs map[string]*family
}

func (dd *dynamicDescs) get(name, help string) *family {
	dd.mu.Lock()
	defer dd.mu.Unlock()
	if d, ok := dd.descs[name]; ok {
		return d
	}
	if dd.descs == nil {
		dd.descs = map[string]*family{}
	}
	d := newFamily(prometheus.BuildFQName(dd.ns, "", name), help, dd.base)
	dd.descs[name] = d
	return d
}

// emitCluster exports CLUSTER INFO of a cluster-enabled server as
// redis_exporter does: cluster_state and the other cluster_* fields as
// gauges ("ok" is 1, "fail" 0), the message totals renamed.
func (rs *Results) emitCluster(e emitter, info *redisinfo.Info, fields map[string]string) {
	keys := make([]string, 0, len(fields))
	for k := range fields {
		if strings.HasPrefix(k, "cluster_") && metricNameRE.MatchString(k) {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for i, k := range keys {
		if i >= maxClusterFields {
			break
		}
		v, ok := statusOrFloat(fields[k])
		if !ok {
			continue
		}
		name := k
		if renamed, ok := clusterRenamed[k]; ok {
			name = renamed
		}
		if _, inInfo := info.Fields[k]; inInfo {
			continue // exported from INFO already
		}
		fam, ok := rs.descs.fields[name] // the INFO field family of that name, if any
		if !ok {
			fam = rs.descs.cluster.get(name, "CLUSTER INFO "+k+" (ok is 1).")
		}
		e.gauge(fam, v)
	}
}

// statusOrFloat reads a value as redis_exporter does: ok/true 1,
// err/fail/false 0, else a number.
func statusOrFloat(s string) (float64, bool) {
	switch s {
	case "ok", "true":
		return 1, true
	case "err", "fail", "false":
		return 0, true
	}
	v, err := strconv.ParseFloat(s, 64)
	return v, err == nil
}

// redactedConfig are settings never exported: they hold secrets.
// redis_exporter exports them with --redact-config-metrics=false; this
// exporter never does (passwords never appear in metrics).
func redactedConfig(key string) bool {
	return strings.Contains(key, "pass") || strings.Contains(key, "auth") || key == "masteruser"
}

// configGauges are the settings redis_exporter always exports as
// config_<name> (maxclients comes from INFO here).
var configGauges = map[string]string{
	"io-threads":        "config_io_threads",
	"maxmemory":         "config_maxmemory",
	"repl-backlog-size": "config_repl_backlog_size",
}

// emitConfig exports CONFIG GET *: every setting as config_key_value
// (value as label) and config_value (numeric ones), bounded like other
// server-chosen labels, plus redis_exporter's config_* gauges.
func (rs *Results) emitConfig(e emitter, config map[string]string) {
	d := rs.descs
	keys := make([]string, 0, len(config))
	for k := range config {
		if !redactedConfig(k) {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for i, k := range keys {
		v := config[k]
		if i < rs.opts.MaxLabelValues {
			e.gauge(d.configKeyValue, 1, k, v)
			if f, err := strconv.ParseFloat(v, 64); err == nil {
				e.gauge(d.configValue, f, k)
			}
		}
		if name, ok := configGauges[k]; ok {
			if f, err := strconv.ParseFloat(v, 64); err == nil {
				e.gauge(d.configGauge.get(name, "CONFIG GET "+k+"."), f)
			}
		}
	}
	// "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60"
	parts := strings.Fields(config["client-output-buffer-limit"])
	for i := 0; i+3 < len(parts); i += 4 {
		class := parts[i]
		if f, err := strconv.ParseFloat(parts[i+1], 64); err == nil {
			e.gauge(d.outputBufferLimit, f, class, "hard")
		}
		if f, err := strconv.ParseFloat(parts[i+2], 64); err == nil {
			e.gauge(d.outputBufferLimit, f, class, "soft")
		}
		if f, err := strconv.ParseFloat(parts[i+3], 64); err == nil {
			e.gauge(d.outputBufferOvercome, f, class, "soft")
		}
	}
}

// sentinelGauges are INFO sentinel fields exported under their own names.
var sentinelGauges = []string{"sentinel_masters", "sentinel_tilt", "sentinel_running_scripts",
	"sentinel_scripts_queue_length", "sentinel_simulate_failure_flags"}

// sentinelSettings are SENTINEL MASTERS fields redis_exporter exports per
// master, with the scale to its units.
var sentinelSettings = []struct {
	field, name string
	scale       float64
}{
	{"quorum", "sentinel_master_setting_ckquorum", 1},
	{"failover-timeout", "sentinel_master_setting_failover_timeout", 1},
	{"parallel-syncs", "sentinel_master_setting_parallel_syncs", 1},
	{"down-after-milliseconds", "sentinel_master_setting_down_after_milliseconds", 1},
	{"config-epoch", "sentinel_master_config_epoch", 1},
	{"last-ok-ping-reply", "sentinel_master_last_ok_ping_reply_seconds", 1e-3},
}

// emitSentinelMasters exports SENTINEL MASTERS, CKQUORUM, SENTINELS and
// REPLICAS as redis_exporter does.
func (rs *Results) emitSentinelMasters(e emitter, masters []scraper.SentinelMaster) {
	d := rs.descs
	for i, m := range masters {
		if i >= rs.opts.MaxLabelValues {
			break
		}
		name, addr := m.Fields["name"], net.JoinHostPort(m.Fields["ip"], m.Fields["port"])
		e.gauge(d.sentinelCKQuorum, boolFloat(m.CKQuorumOK), name, m.CKQuorumMessage)
		for _, st := range sentinelSettings {
			if v, err := strconv.ParseFloat(m.Fields[st.field], 64); err == nil {
				e.gauge(d.sentinelMaster.get(st.name, "SENTINEL MASTERS "+st.field+" of each master."), v*st.scale, name, addr)
			}
		}
		e.gauge(d.sentinelMaster.get("sentinel_master_ok_sentinels", "Sentinels of each master that are not down: this one and its peers (SENTINEL SENTINELS)."), float64(m.OKSentinels), name, addr)
		if rs.opts.SentinelPeerInfo {
			for j, p := range m.Peers {
				if j < rs.opts.MaxLabelValues {
					e.gauge(d.sentinelPeer, 1, name, addr, p["name"], p["ip"], p["port"], p["runid"], p["flags"])
				}
			}
		}
		e.gauge(d.sentinelMaster.get("sentinel_master_ok_slaves", "Replicas of each master that are not down (SENTINEL REPLICAS)."), float64(m.OKReplicas), name, addr)
	}
}

// emitSentinel exports a Sentinel's INFO sentinel section as redis_exporter
// does: its counters, and per monitored master (masterN:name=...,status=ok,
// address=host:port,slaves=N,sentinels=N) its status, replicas and
// sentinels.
func (rs *Results) emitSentinel(e emitter, fields map[string]string) {
	d := rs.descs
	for _, k := range sentinelGauges {
		if v, ok := statusOrFloat(fields[k]); ok {
			e.gauge(d.sentinel.get(k, "INFO sentinel "+k+"."), v)
		}
	}
	for i := 0; i < rs.opts.MaxLabelValues; i++ {
		line, ok := fields["master"+strconv.Itoa(i)]
		if !ok {
			break
		}
		m := map[string]string{}
		for _, kv := range strings.Split(line, ",") {
			if k, v, ok := strings.Cut(kv, "="); ok {
				m[k] = v
			}
		}
		name, addr, status := m["name"], m["address"], m["status"]
		e.gauge(d.sentinelStatus, boolFloat(status == "ok"), name, addr, status)
		if v, err := strconv.ParseFloat(m["slaves"], 64); err == nil {
			e.gauge(d.sentinelSlaves, v, name, addr)
		}
		if v, err := strconv.ParseFloat(m["sentinels"], 64); err == nil {
			e.gauge(d.sentinelSentinels, v, name, addr)
		}
	}
}
