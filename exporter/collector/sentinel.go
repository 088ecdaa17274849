package collector

import (
	"net"
	"strconv"
	"strings"

	"github.com/redis-autoscaler/redis-autoscaler/exporter/redisreply"
)

// sentinelDescs are a Sentinel's families: INFO sentinel, and SENTINEL
// MASTERS, CKQUORUM, SENTINELS and REPLICAS.
type sentinelDescs struct {
	sentinelStatus, sentinelSlaves, sentinelSentinels *family
	sentinelCKQuorum, sentinelPeer                    *family
	// sentinel are INFO sentinel's counters; sentinelMaster the per-master
	// settings of SENTINEL MASTERS.
	sentinel, sentinelMaster *dynamicDescs
}

func newSentinelDescs(d familyMaker) (ds sentinelDescs) {
	ds.sentinel, ds.sentinelMaster = d.dynamic(), d.dynamic("master_name", "master_address")
	ds.sentinelStatus = d.family("sentinel_master_status", "1 when a master a Sentinel monitors is ok (INFO sentinel).", "master_name", "master_address", "master_status")
	ds.sentinelSlaves = d.family("sentinel_master_slaves", "Replicas of a master a Sentinel monitors.", "master_name", "master_address")
	ds.sentinelSentinels = d.family("sentinel_master_sentinels", "Sentinels monitoring a master.", "master_name", "master_address")
	ds.sentinelCKQuorum = d.family("sentinel_master_ckquorum_status", "1 when SENTINEL CKQUORUM says the master's quorum can be reached; message is its answer.", "master_name", "message")
	ds.sentinelPeer = d.family("sentinel_peer_info", "The other Sentinels of each master, from SENTINEL SENTINELS (with --include-sentinel-peer-info); 1.", "master_name", "master_address", "name", "ip", "port", "runid", "flags")
	return ds
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
func (rs *Results) emitSentinelMasters(e emitter, masters []redisreply.SentinelMaster) {
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
