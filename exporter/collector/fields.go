package collector

// Plain INFO fields exported as one metric each. Names and meanings follow
// redis_exporter (exporter/exporter.go's metric maps) so that dashboards and
// alerts written for it keep working.

// gaugeFields maps an INFO field to a gauge name (without namespace).
var gaugeFields = map[string]string{
	// Server
	"uptime_in_seconds": "uptime_in_seconds",
	"process_id":        "process_id",
	// Clients
	"connected_clients": "connected_clients",
	"blocked_clients":   "blocked_clients",
	// In INFO since Redis 7.0; redis_exporter reads it with CONFIG GET.
	"maxclients":                      "config_maxclients",
	"tracking_clients":                "tracking_clients",
	"client_recent_max_output_buffer": "client_recent_max_output_buffer_bytes",
	"client_recent_max_input_buffer":  "client_recent_max_input_buffer_bytes",
	// Memory
	"used_memory":               "memory_used_bytes",
	"used_memory_rss":           "memory_used_rss_bytes",
	"used_memory_peak":          "memory_used_peak_bytes",
	"used_memory_lua":           "memory_used_lua_bytes",
	"used_memory_overhead":      "memory_used_overhead_bytes",
	"used_memory_startup":       "memory_used_startup_bytes",
	"used_memory_dataset":       "memory_used_dataset_bytes",
	"used_memory_scripts":       "memory_used_scripts_bytes",
	"maxmemory":                 "memory_max_bytes",
	"mem_fragmentation_ratio":   "mem_fragmentation_ratio",
	"mem_fragmentation_bytes":   "mem_fragmentation_bytes",
	"mem_clients_slaves":        "mem_clients_slaves",
	"mem_clients_normal":        "mem_clients_normal",
	"mem_not_counted_for_evict": "mem_not_counted_for_eviction_bytes",
	"allocator_active":          "allocator_active_bytes",
	"allocator_allocated":       "allocator_allocated_bytes",
	"allocator_resident":        "allocator_resident_bytes",
	"allocator_frag_ratio":      "allocator_frag_ratio",
	"allocator_rss_ratio":       "allocator_rss_ratio",
	"lazyfree_pending_objects":  "lazyfree_pending_objects",
	"active_defrag_running":     "active_defrag_running",
	// Persistence
	"loading":                      "loading_dump_file",
	"rdb_changes_since_last_save":  "rdb_changes_since_last_save",
	"rdb_bgsave_in_progress":       "rdb_bgsave_in_progress",
	"rdb_last_save_time":           "rdb_last_save_timestamp_seconds",
	"rdb_last_bgsave_time_sec":     "rdb_last_bgsave_duration_sec",
	"rdb_current_bgsave_time_sec":  "rdb_current_bgsave_duration_sec",
	"rdb_last_cow_size":            "rdb_last_cow_size_bytes",
	"aof_enabled":                  "aof_enabled",
	"aof_rewrite_in_progress":      "aof_rewrite_in_progress",
	"aof_rewrite_scheduled":        "aof_rewrite_scheduled",
	"aof_last_rewrite_time_sec":    "aof_last_rewrite_duration_sec",
	"aof_current_rewrite_time_sec": "aof_current_rewrite_duration_sec",
	"aof_last_cow_size":            "aof_last_cow_size_bytes",
	"aof_current_size":             "aof_current_size_bytes",
	"aof_base_size":                "aof_base_size_bytes",
	// Stats
	"pubsub_channels":    "pubsub_channels",
	"pubsub_patterns":    "pubsub_patterns",
	"latest_fork_usec":   "latest_fork_usec",
	"expired_stale_perc": "expired_stale_percentage",
	// Replication
	"connected_slaves":               "connected_slaves",
	"repl_backlog_size":              "replication_backlog_bytes",
	"repl_backlog_active":            "repl_backlog_is_active",
	"repl_backlog_first_byte_offset": "repl_backlog_first_byte_offset",
	"repl_backlog_histlen":           "repl_backlog_history_bytes",
	"master_repl_offset":             "master_repl_offset",
	"second_repl_offset":             "second_repl_offset",
	"slave_expires_tracked_keys":     "slave_expires_tracked_keys",
	"slave_priority":                 "slave_priority",
	"sync_full":                      "replica_resyncs_full",
	"sync_partial_ok":                "replica_partial_resync_accepted",
	"sync_partial_err":               "replica_partial_resync_denied",
}

// counterFields maps an INFO field to a counter name (without namespace).
var counterFields = map[string]string{
	"total_connections_received": "connections_received_total",
	"total_commands_processed":   "commands_processed_total",
	"rejected_connections":       "rejected_connections_total",
	"total_net_input_bytes":      "net_input_bytes_total",
	"total_net_output_bytes":     "net_output_bytes_total",
	"expired_keys":               "expired_keys_total",
	"evicted_keys":               "evicted_keys_total",
	"keyspace_hits":              "keyspace_hits_total",
	"keyspace_misses":            "keyspace_misses_total",
	"used_cpu_sys":               "cpu_sys_seconds_total",
	"used_cpu_user":              "cpu_user_seconds_total",
	"used_cpu_sys_children":      "cpu_sys_children_seconds_total",
	"used_cpu_user_children":     "cpu_user_children_seconds_total",
}

// statusFields are "ok"/"err" fields exported as 1/0, as redis_exporter does.
var statusFields = map[string]string{
	"rdb_last_bgsave_status":    "rdb_last_bgsave_status",
	"aof_last_bgrewrite_status": "aof_last_bgrewrite_status",
	"aof_last_write_status":     "aof_last_write_status",
}

// instanceInfoLabels are the labels of <ns>_instance_info, as in redis_exporter.
var instanceInfoLabels = []string{"role", "redis_version", "redis_build_id", "redis_mode", "os", "maxmemory_policy", "tcp_port", "run_id", "process_id", "master_replid"}
