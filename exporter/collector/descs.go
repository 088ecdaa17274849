package collector

// descs are built once per collector: namespace and target labels are
// fixed. Each optional command family's are in its own file (slowlog.go,
// latency.go, config.go, ...), embedded here.
type descs struct {
	fields map[string]*family // metric name -> family, for the field tables

	up, scrapeDuration, lastError, instanceInfo, slaveInfo, startTime *family
	connectTime, totalSystemMemory, opsPerSecond, memoryFraction      *family
	probeRTT, lagBytes, lagSeconds, masterLinkUp                      *family
	masterSyncInProgress, masterLastIO, slaveReplOffset, slaveOffset  *family
	slaveLag, dbKeys, dbKeysExpiring, dbAvgTTL, dropped               *family

	commandDescs
	clusterDescs
	configDescs
	sentinelDescs
	keyDescs
	streamDescs
	scriptDescs
	clientDescs
	slowlogDescs
	latencyDescs
}

func newDescs(ns string, kube, roleLabel bool) *descs {
	base := []string{"addr"}
	if kube {
		base = append(base, "namespace", "pod")
	}
	if roleLabel {
		base = append(base, "instance_role")
	}
	m := familyMaker{ns: ns, base: base}
	d := m.family
	ds := &descs{fields: map[string]*family{},
		commandDescs: newCommandDescs(m), clusterDescs: newClusterDescs(m), configDescs: newConfigDescs(m),
		sentinelDescs: newSentinelDescs(m), keyDescs: newKeyDescs(m), streamDescs: newStreamDescs(m),
		scriptDescs: newScriptDescs(m), clientDescs: newClientDescs(m), slowlogDescs: newSlowlogDescs(m),
		latencyDescs: newLatencyDescs(m)}
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
	ds.totalSystemMemory = d("total_system_memory_bytes", "Memory of the host Redis runs on, from INFO memory (with --include-system-metrics).")
	ds.probeRTT = d("probe_rtt_seconds", "Round trip of the exporter's INFO probe as a client sees it, network and queueing included; timeouts are recorded at the timeout.")
	ds.lagBytes = d("replication_lag_bytes", "On replicas: master's replication offset minus this replica's.")
	ds.lagSeconds = d("replication_lag_seconds", "On replicas: seconds since the replica last acknowledged the master's stream while the link is up; seconds the link has been down otherwise.")
	ds.masterLinkUp = d("master_link_up", "On replicas: 1 when the link to the master is up.", "master_host", "master_port")
	ds.masterSyncInProgress = d("master_sync_in_progress", "On replicas: 1 while a sync from the master is in progress.", "master_host", "master_port")
	ds.masterLastIO = d("master_last_io_seconds_ago", "On replicas: seconds since the last interaction with the master.", "master_host", "master_port")
	ds.slaveReplOffset = d("slave_repl_offset", "On replicas: the replication offset processed.", "master_host", "master_port")
	ds.slaveOffset = d("connected_slave_offset_bytes", "On masters: offset of a connected replica.", "slave_ip", "slave_port", "slave_state")
	ds.slaveLag = d("connected_slave_lag_seconds", "On masters: seconds since a connected replica's last acknowledgement.", "slave_ip", "slave_port", "slave_state")
	ds.dbKeys = d("db_keys", "Total number of keys by DB.", "db")
	ds.dbKeysExpiring = d("db_keys_expiring", "Total number of expiring keys by DB.", "db")
	ds.dbAvgTTL = d("db_avg_ttl_seconds", "Average TTL of expiring keys by DB in seconds.", "db")
	ds.dropped = d("exporter_dropped_metrics", "Metrics of the target left out of the last scrape because they could not be built (a duplicate series, a limit); 0 normally.")
	return ds
}
