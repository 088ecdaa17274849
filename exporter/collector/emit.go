package collector

import (
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/redis-autoscaler/redis-autoscaler/exporter/engine"
	"github.com/redis-autoscaler/redis-autoscaler/exporter/keycheck"
	"github.com/redis-autoscaler/redis-autoscaler/exporter/redisinfo"
)

// descs are built once per collector: namespace and target labels are fixed.
type descs struct {
	fields map[string]*family // metric name -> family, for the field tables

	up, scrapeDuration, lastError, instanceInfo, slaveInfo, startTime *family
	connectTime, latencyPercentiles                                   *family
	slowlogLength, slowlogLastID, lastSlowDuration, latencyHistogram  *family
	totalSystemMemory                                                 *family
	configKeyValue, configValue, outputBufferLimit                    *family
	outputBufferOvercome                                              *family
	keySize, keyValue, keyValueString, keyMemory, keysCount           *family
	checkKeysExhausted                                                *family
	keyGroupCount, keyGroupMemory, keyGroupsDistinct, keyGroupsTime   *family
	streamLength, streamRadixKeys, streamRadixNodes, streamLastGenID  *family
	streamGroups, streamMaxDeletedID, streamFirstID, streamLastID     *family
	streamEntriesAdded, groupConsumers, groupPending, groupLastDeliv  *family
	groupEntriesRead, groupLag, consumerPending, consumerIdle         *family
	scriptResult, scriptValues, clientInfo                            *family
	sentinelStatus, sentinelSlaves, sentinelSentinels                 *family
	sentinelCKQuorum, sentinelPeer                                    *family
	sentinel, sentinelMaster                                          *dynamicDescs
	clientGauges                                                      map[string]*family
	// cluster and configGauge are named after fields a server reports.
	cluster, configGauge                                               *dynamicDescs
	opsPerSecond, memoryFraction, commandLatency, probeRTT             *family
	lagBytes, lagSeconds, masterLinkUp, masterSyncInProgress           *family
	masterLastIO, slaveReplOffset, slaveOffset, slaveLag               *family
	commands, commandsDuration, commandsRejected, commandsFailed, errs *family
	dbKeys, dbKeysExpiring, dbAvgTTL, dropped                          *family
}

func newDescs(ns string, kube, roleLabel bool) *descs {
	base := []string{"addr"}
	if kube {
		base = append(base, "namespace", "pod")
	}
	if roleLabel {
		base = append(base, "instance_role")
	}
	d := func(name, help string, extra ...string) *family {
		return newFamily(prometheus.BuildFQName(ns, "", name), help, append(append([]string{}, base...), extra...))
	}
	ds := &descs{fields: map[string]*family{},
		cluster: &dynamicDescs{ns: ns, base: base}, configGauge: &dynamicDescs{ns: ns, base: base},
		sentinel: &dynamicDescs{ns: ns, base: base}, sentinelMaster: &dynamicDescs{ns: ns, base: append(slices.Clone(base), "master_name", "master_address")}}
	for field, name := range gaugeFields {
		ds.fields[name] = d(name, "Redis INFO field "+field+".")
	}
	for field, name := range counterFields {
		ds.fields[name] = d(name, "Redis INFO counter "+field+".")
	}
	for field, name := range statusFields {
		ds.fields[name] = d(name, "Redis INFO "+field+": 1 when ok, 0 otherwise.")
	}
	for field, name := range aliasFields {
		ds.fields[name] = d(name, "Redis INFO field "+field+".")
	}
	for field, f := range scaledFields {
		ds.fields[f.name] = d(f.name, "Redis INFO field "+field+", in base units.")
	}
	ds.up = d("up", "1 when the last scrape of the target succeeded, 0 otherwise.")
	// redis_exporter's exporter_scrape_duration_seconds is a summary of the
	// exporter's whole scrapes (see Collector); this is per target.
	ds.scrapeDuration = d("exporter_target_scrape_duration_seconds", "Time the last scrape of the target took.")
	ds.connectTime = d("exporter_last_scrape_connect_time_seconds", "Time the last scrape of the target spent connecting (dial, TLS, HELLO/AUTH); 0 when it reused the kept connection.")
	ds.lastError = d("exporter_last_scrape_error", "1 with the error text when the last scrape of the target failed, 0 with an empty err otherwise. Never contains credentials.", "err")
	ds.instanceInfo = d("instance_info", "Information about the Redis instance; always 1.", instanceInfoLabels...)
	ds.slaveInfo = d("slave_info", "Information about the replica's master; always 1.", "master_host", "master_port", "read_only")
	ds.startTime = d("start_time_seconds", "Start time of the Redis instance since unix epoch in seconds.")
	ds.opsPerSecond = d("ops_per_second", "Commands processed per second, from the commands-processed counter between this exporter's scrapes (the exporter's own INFO excluded); Redis' instantaneous_ops_per_sec on the first scrape or after a restart.")
	ds.memoryFraction = d("memory_fraction", "used_memory / maxmemory; absent when maxmemory is 0 (no limit).")
	ds.configKeyValue = d("config_key_value", "Each setting from CONFIG GET * as labels, 1 (with --include-config-metrics; secrets left out).", "key", "value")
	ds.configValue = d("config_value", "Each numeric setting from CONFIG GET * (with --include-config-metrics).", "key")
	ds.outputBufferLimit = d("config_client_output_buffer_limit_bytes", "client-output-buffer-limit per class, hard and soft (with --include-config-metrics).", "class", "limit")
	ds.outputBufferOvercome = d("config_client_output_buffer_limit_overcome_seconds", "Seconds a class may exceed its soft output buffer limit (with --include-config-metrics).", "class", "limit")
	ds.keySize = d("key_size", "Length of a checked key: STRLEN, LLEN, SCARD, ZCARD, HLEN or XLEN (--check-keys, --check-single-keys).", "db", "key")
	ds.keyValue = d("key_value", "Value of a checked string key that is a number.", "db", "key")
	ds.keyValueString = d("key_value_as_string", "Value of a checked string key that is not a number, as a label; 1.", "db", "key", "val")
	ds.keyMemory = d("key_memory_usage_bytes", "MEMORY USAGE of a checked key.", "db", "key")
	ds.keysCount = d("keys_count", "Keys matching a --count-keys pattern (SCAN).", "db", "key")
	ds.checkKeysExhausted = d("exporter_check_keys_budget_exhausted", "1 when the last scrape's key checks stopped at --check-keys-budget keys.")
	ds.keyGroupCount = d("key_group_count", "Keys in the key group at the last complete walk of the database (--check-key-groups).", "db", "key_group")
	ds.keyGroupMemory = d("key_group_memory_usage_bytes", "MEMORY USAGE of the key group's keys at the last complete walk of the database (--check-key-groups).", "db", "key_group")
	ds.keyGroupsDistinct = d("number_of_distinct_key_groups", "Key groups found in the database, including those summed in \"overflow\" (--check-key-groups).", "db")
	ds.keyGroupsTime = d("last_key_groups_scrape_duration_milliseconds", "Milliseconds the last scrape spent walking key groups (--check-key-groups).")
	stream := func(name, help string, extra ...string) *family {
		return d(name, help+" (--check-streams, --check-single-streams).", append([]string{"db", "stream"}, extra...)...)
	}
	ds.streamLength = stream("stream_length", "Entries in the stream")
	ds.streamRadixKeys = stream("stream_radix_tree_keys", "Radix tree keys of the stream")
	ds.streamRadixNodes = stream("stream_radix_tree_nodes", "Radix tree nodes of the stream")
	ds.streamLastGenID = stream("stream_last_generated_id", "Milliseconds part of the last generated ID")
	ds.streamGroups = stream("stream_groups", "Consumer groups of the stream")
	ds.streamMaxDeletedID = stream("stream_max_deleted_entry_id", "Milliseconds part of the largest deleted ID")
	ds.streamFirstID = stream("stream_first_entry_id", "Milliseconds part of the first entry's ID")
	ds.streamLastID = stream("stream_last_entry_id", "Milliseconds part of the last entry's ID")
	ds.streamEntriesAdded = stream("stream_entries_added_total", "Entries ever added to the stream")
	ds.groupConsumers = stream("stream_group_consumers", "Consumers of the group", "group")
	ds.groupPending = stream("stream_group_messages_pending", "Messages delivered to the group and not acknowledged", "group")
	ds.groupLastDeliv = stream("stream_group_last_delivered_id", "Milliseconds part of the group's last delivered ID", "group")
	ds.groupEntriesRead = stream("stream_group_entries_read", "Entries the group has read", "group")
	ds.groupLag = stream("stream_group_lag", "Entries not yet delivered to the group (-1 unknown)", "group")
	ds.consumerPending = stream("stream_group_consumer_messages_pending", "Messages pending for the consumer", "group", "consumer")
	ds.consumerIdle = stream("stream_group_consumer_idle_seconds", "Seconds since the consumer last interacted", "group", "consumer")
	ds.sentinelStatus = d("sentinel_master_status", "1 when a master a Sentinel monitors is ok (INFO sentinel).", "master_name", "master_address", "master_status")
	ds.sentinelSlaves = d("sentinel_master_slaves", "Replicas of a master a Sentinel monitors.", "master_name", "master_address")
	ds.sentinelSentinels = d("sentinel_master_sentinels", "Sentinels monitoring a master.", "master_name", "master_address")
	ds.sentinelCKQuorum = d("sentinel_master_ckquorum_status", "1 when SENTINEL CKQUORUM says the master's quorum can be reached; message is its answer.", "master_name", "message")
	ds.sentinelPeer = d("sentinel_peer_info", "The other Sentinels of each master, from SENTINEL SENTINELS (with --include-sentinel-peer-info); 1.", "master_name", "master_address", "name", "ip", "port", "runid", "flags")
	ds.scriptResult = d("script_result", "Result of each --script: 1 values exported, 2 nothing returned, 0 failed.", "filename")
	ds.scriptValues = d("script_values", "Values a --script returned, by key.", "key", "filename")
	ds.clientInfo = d("connected_client_info", "Each connected client (--export-client-list); 1.", "id", "name", "flags", "db", "host", "port", "user", "resp")
	ds.clientGauges = map[string]*family{}
	for field, name := range clientFields {
		ds.clientGauges[field] = d(name, "CLIENT LIST "+field+" of each connected client (--export-client-list).", "id", "name")
	}
	ds.totalSystemMemory = d("total_system_memory_bytes", "Memory of the host Redis runs on, from INFO memory (with --include-system-metrics).")
	ds.slowlogLength = d("slowlog_length", "Entries in the slow log (SLOWLOG LEN; with --include-slowlog-metrics).")
	ds.slowlogLastID = d("slowlog_last_id", "ID of the newest slow log entry (with --include-slowlog-metrics).")
	ds.lastSlowDuration = d("last_slow_execution_duration_seconds", "Execution time of the newest slow log entry (with --include-slowlog-metrics).")
	ds.latencyHistogram = d("commands_latencies_usec", "Per-command latency histogram from LATENCY HISTOGRAM, in microseconds (Redis >= 7; with --include-latency-histogram-metrics).", "cmd")
	ds.latencyPercentiles = d("latency_percentiles_usec", "Per-command latency percentiles from INFO latencystats in microseconds, as redis_exporter exports them (command_latency_seconds is the same in seconds).", "cmd")
	ds.commandLatency = d("command_latency_seconds", "Per-command latency from INFO latencystats (Redis >= 7): quantiles as Redis tracks them, sum and count from INFO commandstats.", "cmd")
	ds.probeRTT = d("probe_rtt_seconds", "Round trip of the exporter's INFO probe as a client sees it, network and queueing included; timeouts are recorded at the timeout.")
	ds.lagBytes = d("replication_lag_bytes", "On replicas: master's replication offset minus this replica's.")
	ds.lagSeconds = d("replication_lag_seconds", "On replicas: seconds since the replica last acknowledged the master's stream while the link is up; seconds the link has been down otherwise.")
	ds.masterLinkUp = d("master_link_up", "On replicas: 1 when the link to the master is up.", "master_host", "master_port")
	ds.masterSyncInProgress = d("master_sync_in_progress", "On replicas: 1 while a sync from the master is in progress.", "master_host", "master_port")
	ds.masterLastIO = d("master_last_io_seconds_ago", "On replicas: seconds since the last interaction with the master.", "master_host", "master_port")
	ds.slaveReplOffset = d("slave_repl_offset", "On replicas: the replication offset processed.", "master_host", "master_port")
	ds.slaveOffset = d("connected_slave_offset_bytes", "On masters: offset of a connected replica.", "slave_ip", "slave_port", "slave_state")
	ds.slaveLag = d("connected_slave_lag_seconds", "On masters: seconds since a connected replica's last acknowledgement.", "slave_ip", "slave_port", "slave_state")
	ds.commands = d("commands_total", "Total number of calls per command.", "cmd")
	ds.commandsDuration = d("commands_duration_seconds_total", "Total time spent per command in seconds.", "cmd")
	ds.commandsRejected = d("commands_rejected_calls_total", "Total number of rejected calls per command.", "cmd")
	ds.commandsFailed = d("commands_failed_calls_total", "Total number of failed calls per command.", "cmd")
	ds.errs = d("errors_total", "Total number of error replies per error prefix.", "err")
	ds.dbKeys = d("db_keys", "Total number of keys by DB.", "db")
	ds.dbKeysExpiring = d("db_keys_expiring", "Total number of expiring keys by DB.", "db")
	ds.dbAvgTTL = d("db_avg_ttl_seconds", "Average TTL of expiring keys by DB in seconds.", "db")
	ds.dropped = d("exporter_dropped_metrics", "Metrics of the target left out of the last scrape because they could not be built (a duplicate series, a limit); 0 normally.")
	return ds
}

// Describe sends nothing: see Collector.Describe.
func (rs *Results) Describe(chan<- *prometheus.Desc) {}

// Collect emits every target's metrics as client_golang metrics (the
// exporter's HTTP handler writes text with WriteText instead). A metric
// that cannot be built is left out and counted in
// redis_exporter_dropped_metrics; it never costs the rest of the scrape.
func (rs *Results) Collect(ch chan<- prometheus.Metric) {
	rs.emitAll(&channelSink{seriesSet: seriesSet{base: rs.baseLabels()}, ch: ch})
}

// emitAll emits every target's samples into out.
func (rs *Results) emitAll(out sink) {
	for _, r := range rs.Results {
		out.startTarget()
		rs.emitTarget(out, r, rs.targetLabels(r))
	}
}

// emitTarget emits r's samples with the target's labels, then how many
// could not be built.
func (rs *Results) emitTarget(out sink, r *engine.Result, labels []string) {
	dropped := 0
	e := emitter{out: out, labels: labels, dropped: &dropped}
	rs.emit(e, r)
	e.gauge(rs.descs.dropped, float64(dropped))
}

// baseLabels is how many label values every per-target series starts with.
func (rs *Results) baseLabels() int {
	n := 1
	if rs.kube {
		n += 2
	}
	if rs.opts.InstanceRoleLabel {
		n++
	}
	return n
}

func (rs *Results) targetLabels(r *engine.Result) []string {
	l := []string{r.Target.String()}
	if rs.kube {
		l = append(l, r.Target.Namespace, r.Target.Pod)
	}
	if rs.opts.InstanceRoleLabel {
		role := ""
		if r.Sample != nil {
			role = r.Sample.Info.Role()
		}
		l = append(l, role)
	}
	for i, v := range l {
		l[i] = labelValue(v)
	}
	return l
}

// emitter sends samples with the target's labels first.
type emitter struct {
	out    sink
	labels []string
	// dropped counts metrics that could not be built; they are left out,
	// never allowed to abort the collection (client_golang would lose
	// every metric after a panic, other targets' included).
	dropped *int
}

func (e emitter) with(extra []string) []string {
	out := make([]string, 0, len(e.labels)+len(extra))
	out = append(out, e.labels...)
	for _, v := range extra {
		out = append(out, labelValue(v))
	}
	return out
}

// labelValue makes text from Redis (error prefixes from Lua scripts,
// master_host, client and command names) a valid label value: invalid
// UTF-8 bytes become U+FFFD.
func labelValue(v string) string {
	if utf8.ValidString(v) {
		return v
	}
	return strings.ToValidUTF8(v, "\uFFFD")
}

func (e emitter) send(s sample) {
	if !e.out.add(s) {
		*e.dropped++
	}
}

func (e emitter) gauge(f *family, v float64, extra ...string) {
	e.send(sample{fam: f, kind: kindGauge, labels: e.with(extra), value: v})
}

func (e emitter) counter(f *family, v float64, extra ...string) {
	e.send(sample{fam: f, kind: kindCounter, labels: e.with(extra), value: v})
}

func (e emitter) histogram(f *family, count uint64, sum float64, buckets map[float64]uint64, extra ...string) {
	e.send(sample{fam: f, kind: kindHistogram, labels: e.with(extra), dist: &distribution{count: count, sum: sum, buckets: buckets}})
}

func (e emitter) summary(f *family, count uint64, sum float64, quantiles map[float64]float64, extra ...string) {
	e.send(sample{fam: f, kind: kindSummary, labels: e.with(extra), dist: &distribution{count: count, sum: sum, quantiles: quantiles}})
}

func (rs *Results) emit(e emitter, r *engine.Result) {
	d := rs.descs
	e.gauge(d.scrapeDuration, r.Duration.Seconds())
	e.gauge(d.connectTime, r.ConnectTime.Seconds())
	if r.RTT.Count > 0 {
		e.histogram(d.probeRTT, r.RTT.Count, r.RTT.Sum, r.RTT.Cumulative())
	}
	if r.Err != nil {
		e.gauge(d.up, 0)
		e.gauge(d.lastError, 1, r.Err.Error())
		return
	}
	e.gauge(d.up, 1)
	e.gauge(d.lastError, 0, "")
	info := r.Sample.Info
	rs.emitFields(e, info)
	rs.emitServer(e, r, info)
	rs.emitReplication(e, r, info)
	rs.emitLag(e, r)
	rs.emitCommands(e, info)
	rs.emitKeyspace(e, info, r.Sample.Databases)
	if info.Fields["redis_mode"] == "sentinel" {
		rs.emitSentinel(e, info.Fields)
		rs.emitSentinelMasters(e, r.Sample.SentinelMasters)
	}
	rs.emitExtras(e, r)
}

// clientFields are CLIENT LIST fields exported per client, as
// redis_exporter names them (age and idle become timestamps).
var clientFields = map[string]string{
	"omem":      "connected_client_output_buffer_memory_usage_bytes",
	"tot-mem":   "connected_client_total_memory_consumed_bytes",
	"age":       "connected_client_created_at_timestamp",
	"idle":      "connected_client_idle_since_timestamp",
	"sub":       "connected_client_channel_subscriptions_count",
	"psub":      "connected_client_pattern_matching_subscriptions_count",
	"qbuf":      "connected_client_query_buffer_length_bytes",
	"qbuf-free": "connected_client_query_buffer_free_space_bytes",
	"obl":       "connected_client_output_buffer_length_bytes",
	"oll":       "connected_client_output_list_length",
}

// emitClients exports CLIENT LIST, at most MaxLabelValues clients.
func (rs *Results) emitClients(e emitter, r *engine.Result) {
	d := rs.descs
	now := float64(r.Sample.At.Unix())
	for i, c := range r.Sample.Clients {
		if i >= rs.opts.MaxLabelValues {
			break
		}
		f := c.Fields
		port := ""
		if rs.opts.ClientPortLabel {
			port = c.Port
		}
		e.gauge(d.clientInfo, 1, f["id"], f["name"], f["flags"], f["db"], c.Host, port, f["user"], f["resp"])
		for field, fam := range d.clientGauges {
			v, err := strconv.ParseFloat(f[field], 64)
			if err != nil {
				continue
			}
			if field == "age" || field == "idle" {
				v = now - v
			}
			e.gauge(fam, v, f["id"], f["name"])
		}
	}
}

// emitStream exports one stream as redis_exporter's stream_* families.
func (rs *Results) emitStream(e emitter, st keycheck.Stream) {
	d := rs.descs
	db, name, info := "db"+strconv.Itoa(st.DB), st.Name, st.Info
	e.gauge(d.streamLength, float64(info.Length), db, name)
	e.gauge(d.streamRadixKeys, float64(info.RadixTreeKeys), db, name)
	e.gauge(d.streamRadixNodes, float64(info.RadixTreeNodes), db, name)
	e.gauge(d.streamLastGenID, keycheck.StreamID(info.LastGeneratedID), db, name)
	e.gauge(d.streamGroups, float64(info.Groups), db, name)
	e.gauge(d.streamMaxDeletedID, keycheck.StreamID(info.MaxDeletedEntryID), db, name)
	e.gauge(d.streamFirstID, keycheck.StreamID(info.FirstEntry.ID), db, name)
	e.gauge(d.streamLastID, keycheck.StreamID(info.LastEntry.ID), db, name)
	e.counter(d.streamEntriesAdded, float64(info.EntriesAdded), db, name)
	for _, g := range st.Groups {
		e.gauge(d.groupConsumers, float64(g.XInfoGroup.Consumers), db, name, g.Name)
		e.gauge(d.groupPending, float64(g.Pending), db, name, g.Name)
		e.gauge(d.groupLastDeliv, keycheck.StreamID(g.LastDeliveredID), db, name, g.Name)
		e.gauge(d.groupEntriesRead, float64(g.EntriesRead), db, name, g.Name)
		e.gauge(d.groupLag, float64(g.Lag), db, name, g.Name)
		for _, c := range g.Consumers {
			e.gauge(d.consumerPending, float64(c.Pending), db, name, g.Name, c.Name)
			e.gauge(d.consumerIdle, c.Idle.Seconds(), db, name, g.Name, c.Name)
		}
	}
}

// emitExtras exports what the extra commands returned, when asked for and
// not refused.
func (rs *Results) emitExtras(e emitter, r *engine.Result) {
	d := rs.descs
	if r.Sample.ClusterInfo != nil {
		rs.emitCluster(e, r.Sample.Info, r.Sample.ClusterInfo)
	}
	if r.Sample.Config != nil {
		rs.emitConfig(e, r.Sample.Config)
	}
	if k := r.Sample.Keys; k != nil {
		for _, key := range k.Keys {
			db := "db" + strconv.Itoa(key.DB)
			e.gauge(d.keySize, key.Size, db, key.Name)
			if key.HasMemory {
				e.gauge(d.keyMemory, key.Memory, db, key.Name)
			}
			switch {
			case key.HasValue:
				e.gauge(d.keyValue, key.Value, db, key.Name)
			case key.String != "":
				e.gauge(d.keyValueString, 1, db, key.Name, key.String)
			}
		}
		for _, c := range k.Counts {
			e.gauge(d.keysCount, c.Count, "db"+strconv.Itoa(c.DB), c.Pattern)
		}
		for _, st := range k.Streams {
			rs.emitStream(e, st)
		}
		e.gauge(d.checkKeysExhausted, boolFloat(k.Exhausted))
	}
	for _, db := range r.Sample.KeyGroups {
		name := "db" + strconv.Itoa(db.DB)
		for _, g := range db.Groups {
			e.gauge(d.keyGroupCount, g.Keys, name, g.Name)
			e.gauge(d.keyGroupMemory, g.Memory, name, g.Name)
		}
		e.gauge(d.keyGroupsDistinct, float64(db.Distinct), name)
	}
	if r.Sample.KeyGroupsDuration > 0 {
		e.gauge(d.keyGroupsTime, float64(r.Sample.KeyGroupsDuration.Milliseconds()))
	}
	for _, sc := range r.Sample.Scripts {
		switch {
		case sc.Err != nil:
			e.gauge(d.scriptResult, 0, sc.Name)
		case sc.Empty:
			e.gauge(d.scriptResult, 2, sc.Name)
		default:
			keys := make([]string, 0, len(sc.Values))
			for k := range sc.Values {
				keys = append(keys, k)
			}
			slices.Sort(keys)
			for i, k := range keys {
				if i < rs.opts.MaxLabelValues {
					e.gauge(d.scriptValues, sc.Values[k], k, sc.Name)
				}
			}
			e.gauge(d.scriptResult, 1, sc.Name)
		}
	}
	rs.emitClients(e, r)
	if sl := r.Sample.Slowlog; sl != nil {
		e.gauge(d.slowlogLength, sl.Length)
		e.gauge(d.slowlogLastID, sl.LastID)
		e.gauge(d.lastSlowDuration, sl.LastDurationSeconds)
	}
	if len(r.Sample.LatencyHistograms) == 0 {
		return
	}
	usec := make(map[string]float64, len(r.Sample.Info.Commands))
	for _, c := range r.Sample.Info.Commands {
		usec[c.Name] = c.Usec
	}
	names := make([]string, 0, len(r.Sample.LatencyHistograms))
	for name := range r.Sample.LatencyHistograms {
		names = append(names, name)
	}
	slices.Sort(names)
	for i, name := range names {
		if rs.opts.MaxLabelValues > 0 && i >= rs.opts.MaxLabelValues {
			break // histograms of the rest do not add up into "other"
		}
		h := r.Sample.LatencyHistograms[name]
		e.histogram(d.latencyHistogram, h.Calls, usec[name], h.Buckets, name)
	}
}

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

// overflowLabel is where values beyond MaxLabelValues are summed.
const overflowLabel = "other"

// emitCommands exports per-command and per-error series. Both are keyed by
// names a server reports (module commands, error prefixes a Lua script
// chooses), so at most maxLabels distinct names are exported per family
// and target, the first in name order; the rest are summed into "other"
// (latency quantiles of the rest are left out: they do not add up).
func (rs *Results) emitCommands(e emitter, info *redisinfo.Info) {
	d := rs.descs
	limit := rs.opts.MaxLabelValues
	commands := sortedBy(info.Commands, func(c redisinfo.CommandStat) string { return c.Name })
	stats := make(map[string]redisinfo.CommandStat, len(commands))
	var other redisinfo.CommandStat
	for i, c := range commands {
		if limit > 0 && i >= limit {
			other.Calls += c.Calls
			other.Usec += c.Usec
			other.RejectedCalls += c.RejectedCalls
			other.FailedCalls += c.FailedCalls
			continue
		}
		stats[c.Name] = c
		rs.emitCommand(e, c.Name, c)
	}
	if limit > 0 && len(commands) > limit {
		rs.emitCommand(e, overflowLabel, other)
	}
	for _, l := range info.Latencies {
		c, ok := stats[l.Name]
		if !ok {
			continue // beyond the limit, or no commandstats line
		}
		q := make(map[float64]float64, len(l.Percentiles))
		for _, p := range l.Percentiles {
			q[p.Quantile] = p.Usec / 1e6
		}
		e.summary(d.commandLatency, uint64(c.Calls), c.Usec/1e6, q, l.Name)
		qUsec := make(map[float64]float64, len(l.Percentiles))
		for _, p := range l.Percentiles {
			qUsec[p.Quantile] = p.Usec
		}
		e.summary(d.latencyPercentiles, uint64(c.Calls), c.Usec, qUsec, l.Name)
	}
	errs := sortedBy(info.Errors, func(er redisinfo.ErrorStat) string { return er.Prefix })
	var otherErrs float64
	for i, er := range errs {
		if limit > 0 && i >= limit {
			otherErrs += er.Count
			continue
		}
		e.counter(d.errs, er.Count, er.Prefix)
	}
	if limit > 0 && len(errs) > limit {
		e.counter(d.errs, otherErrs, overflowLabel)
	}
}

func (rs *Results) emitCommand(e emitter, name string, c redisinfo.CommandStat) {
	d := rs.descs
	e.counter(d.commands, c.Calls, name)
	e.counter(d.commandsDuration, c.Usec/1e6, name)
	e.counter(d.commandsRejected, c.RejectedCalls, name)
	e.counter(d.commandsFailed, c.FailedCalls, name)
}

// sortedBy returns a copy of items sorted by key.
func sortedBy[T any](items []T, key func(T) string) []T {
	out := slices.Clone(items)
	slices.SortFunc(out, func(a, b T) int { return strings.Compare(key(a), key(b)) })
	return out
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

func boolFloat(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
