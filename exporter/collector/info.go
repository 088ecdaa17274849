package collector

import (
	"strconv"

	"github.com/redis-autoscaler/redis-autoscaler/exporter/engine"
	"github.com/redis-autoscaler/redis-autoscaler/exporter/redisinfo"
)

func (rs *Results) emitFields(e emitter, info *redisinfo.Info) {
	d := rs.descs
	for field, name := range gaugeFields {
		if v, ok := info.Float(field); ok {
			e.gauge(d.fields[name], v)
		}
	}
	for field, name := range counterFields {
		if v, ok := info.Float(field); ok {
			e.counter(d.fields[name], v)
		}
	}
	for field, name := range statusFields {
		if v, ok := info.Fields[field]; ok {
			e.gauge(d.fields[name], boolFloat(v == "ok"))
		}
	}
	for field, name := range aliasFields {
		if v, ok := info.Float(field); ok {
			e.gauge(d.fields[name], v)
		}
	}
	for field, f := range scaledFields {
		if v, ok := info.Float(field); ok {
			e.gauge(d.fields[f.name], v*f.scale)
		}
	}
}

func (rs *Results) emitServer(e emitter, r *engine.Result, info *redisinfo.Info) {
	d := rs.descs
	values := make([]string, len(instanceInfoLabels))
	for i, l := range instanceInfoLabels {
		values[i] = info.Fields[l]
	}
	e.gauge(d.instanceInfo, 1, values...)
	if uptime, ok := info.Float("uptime_in_seconds"); ok {
		e.gauge(d.startTime, float64(r.Sample.At.Unix())-uptime)
	}
	if r.HasOpsPerSecond {
		e.gauge(d.opsPerSecond, r.OpsPerSecond)
	}
	if v, ok := info.Float("total_system_memory"); ok && rs.opts.SystemMetrics {
		e.gauge(d.totalSystemMemory, v)
	}
	used, ok1 := info.Float("used_memory")
	limit, ok2 := info.Float("maxmemory")
	if ok1 && ok2 && limit > 0 {
		e.gauge(d.memoryFraction, used/limit)
	}
}

func (rs *Results) emitReplication(e emitter, r *engine.Result, info *redisinfo.Info) {
	d := rs.descs
	seen := make(map[[3]string]bool, len(info.Replicas))
	for _, s := range info.Replicas {
		// Two replicas can announce the same address (NAT, a shared
		// replica-announce-ip, or all from 127.0.0.1 on one host): a second
		// series with the same labels would make the whole scrape invalid,
		// so only the first is exported.
		k := [3]string{s.IP, s.Port, s.State}
		if seen[k] {
			continue
		}
		seen[k] = true
		e.gauge(d.slaveOffset, s.Offset, s.IP, s.Port, s.State)
		e.gauge(d.slaveLag, s.Lag, s.IP, s.Port, s.State)
	}
	if info.Role() != "slave" {
		return
	}
	host, port := info.Fields["master_host"], info.Fields["master_port"]
	e.gauge(d.slaveInfo, 1, host, port, info.Fields["slave_read_only"])
	e.gauge(d.masterLinkUp, boolFloat(info.Fields["master_link_status"] == "up"), host, port)
	if v, ok := info.Float("master_sync_in_progress"); ok {
		e.gauge(d.masterSyncInProgress, v, host, port)
	}
	if v, ok := info.Float("master_last_io_seconds_ago"); ok {
		e.gauge(d.masterLastIO, v, host, port)
	}
	if v, ok := info.Float("slave_repl_offset"); ok {
		e.gauge(d.slaveReplOffset, v, host, port)
	}
}

// emitLag exports a replica's lag (nil until every target is scraped:
// engine.ScrapeEach attaches it afterwards).
func (rs *Results) emitLag(e emitter, r *engine.Result) {
	if r.Lag == nil {
		return
	}
	if r.Lag.HasBytes {
		e.gauge(rs.descs.lagBytes, r.Lag.Bytes)
	}
	e.gauge(rs.descs.lagSeconds, r.Lag.Seconds)
}

func (rs *Results) emitKeyspace(e emitter, info *redisinfo.Info, databases int) {
	d := rs.descs
	seen := map[string]bool{}
	for _, db := range info.Keyspace {
		seen[db.DB] = true
		e.gauge(d.dbKeys, db.Keys, db.DB)
		e.gauge(d.dbKeysExpiring, db.Expires, db.DB)
		if db.HasAvgTTL {
			e.gauge(d.dbAvgTTL, db.AvgTTLMs/1000, db.DB)
		}
	}
	// --include-metrics-for-empty-databases: zeros for the databases
	// INFO keyspace leaves out, as redis_exporter shows them.
	for i := 0; i < databases && i < rs.opts.MaxLabelValues; i++ {
		if db := "db" + strconv.Itoa(i); !seen[db] {
			e.gauge(d.dbKeys, 0, db)
			e.gauge(d.dbKeysExpiring, 0, db)
		}
	}
}
