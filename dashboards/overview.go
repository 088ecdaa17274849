// Package dashboards builds the project's Grafana dashboards as typed Go
// (github.com/grafana/grafana-foundation-sdk); `make dashboards` writes
// them as JSON beside this file. Nothing of the programs imports it.
package dashboards

//lint:file-ignore SA1019 The classic dashboard model (v1 JSON) is what every Grafana version and the grafana_dashboard ConfigMap sidecar import; the SDK's dashboardv2 is the Grafana 12+ schema.

import (
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
)

// sel selects the exporter's series of the chosen cluster, job, namespace
// and pods.
const sel = `cluster=~"$cluster", job=~"$job", namespace=~"$namespace", pod=~"$pod"`

// Overview is redis-overview.json: every Redis the exporter scrapes, per
// pod.
func Overview(o Options) (dashboard.Dashboard, error) {
	b := dashboard.NewDashboardBuilder("Redis / Overview").
		Uid("redis-autoscaler-redis-overview").
		Description("Every Redis the redis-autoscaler exporter scrapes: health, load, memory, clients, replication, latency, keys, persistence.").
		Tags([]string{"redis", "redis-autoscaler"}).
		Refresh("30s").Time("now-1h", "now").Timezone(common.TimeZoneBrowser).
		Tooltip(dashboard.DashboardCursorSyncCrosshair).Readonly()
	variables(b, o, "redis_up", []chained{
		{name: "job", label: "job"},
		{name: "namespace", label: "namespace", matchers: `job=~"$job"`},
		{name: "pod", label: "pod", matchers: `job=~"$job", namespace=~"$namespace"`},
	})

	b.WithRow(dashboard.NewRowBuilder("Health"))
	b.WithPanel(single("Up", "1 when the exporter's last scrape of the pod succeeded.", "none",
		query(`redis_up{`+sel+`}`, "{{pod}}")))
	b.WithPanel(single("Uptime", "Time since each Redis started; a reset is a restart.", "s",
		query(`redis_uptime_in_seconds{`+sel+`}`, "{{pod}}")))
	b.WithPanel(single("Role", "Replication role of each pod (master or slave), from INFO.", "none",
		query(`max by (pod, role) (redis_instance_info{`+sel+`})`, "{{pod}}: {{role}}")))

	b.WithRow(dashboard.NewRowBuilder("Load"))
	b.WithPanel(series("Commands per second", "Commands processed per second by each pod.", "ops",
		query(`sum by (pod) (rate(redis_commands_processed_total{`+sel+`}[$__rate_interval]))`, "{{pod}}")))
	b.WithPanel(series("Top commands", "The 10 busiest commands over the selected pods.", "ops",
		query(`topk(10, sum by (cmd) (rate(redis_commands_total{`+sel+`}[$__rate_interval])))`, "{{cmd}}")))
	b.WithPanel(series("Hit ratio", "Keyspace hits / (hits + misses): how often a read finds its key.", "percentunit",
		query(`sum by (pod) (rate(redis_keyspace_hits_total{`+sel+`}[$__rate_interval])) / (sum by (pod) (rate(redis_keyspace_hits_total{`+sel+`}[$__rate_interval])) + sum by (pod) (rate(redis_keyspace_misses_total{`+sel+`}[$__rate_interval])))`, "{{pod}}")))
	b.WithPanel(series("Evictions and expirations", "Keys evicted for memory and keys expired, per second.", "ops",
		query(`sum by (pod) (rate(redis_evicted_keys_total{`+sel+`}[$__rate_interval]))`, "evicted {{pod}}"),
		query(`sum by (pod) (rate(redis_expired_keys_total{`+sel+`}[$__rate_interval]))`, "expired {{pod}}")))

	b.WithRow(dashboard.NewRowBuilder("Memory"))
	b.WithPanel(series("Memory used vs maxmemory", "used_memory and the maxmemory limit of each pod.", "bytes",
		query(`redis_memory_used_bytes{`+sel+`}`, "used {{pod}}"),
		query(`redis_memory_max_bytes{`+sel+`} > 0`, "max {{pod}}")))
	b.WithPanel(series("Memory fraction", "used_memory / maxmemory, the adapter's redis_memory_fraction signal. Replicas hold the whole dataset: adding them does not lower it.", "percentunit",
		query(`redis_memory_fraction{`+sel+`}`, "{{pod}}")))
	b.WithPanel(series("Fragmentation", "RSS / used memory; above 1.5 memory is wasted, below 1 Redis is swapping.", "none",
		query(`redis_mem_fragmentation_ratio{`+sel+`}`, "{{pod}}")))

	b.WithRow(dashboard.NewRowBuilder("Clients and network"))
	b.WithPanel(series("Clients", "Connected and blocked clients against maxclients.", "short",
		query(`redis_connected_clients{`+sel+`}`, "connected {{pod}}"),
		query(`redis_blocked_clients{`+sel+`}`, "blocked {{pod}}"),
		query(`redis_config_maxclients{`+sel+`}`, "maxclients {{pod}}")))
	b.WithPanel(series("Network", "Bytes per second received (+) and sent (-).", "Bps",
		query(`sum by (pod) (rate(redis_net_input_bytes_total{`+sel+`}[$__rate_interval]))`, "in {{pod}}"),
		query(`-sum by (pod) (rate(redis_net_output_bytes_total{`+sel+`}[$__rate_interval]))`, "out {{pod}}")))
	b.WithPanel(series("CPU", "CPU seconds per second used by Redis (user + system).", "percentunit",
		query(`sum by (pod) (rate(redis_cpu_user_seconds_total{`+sel+`}[$__rate_interval]) + rate(redis_cpu_sys_seconds_total{`+sel+`}[$__rate_interval]))`, "{{pod}}")))

	b.WithRow(dashboard.NewRowBuilder("Replication"))
	b.WithPanel(series("Connected replicas", "Replicas attached to each master.", "short",
		query(`redis_connected_slaves{`+sel+`} and on (pod) redis_instance_info{`+sel+`, role="master"}`, "{{pod}}")))
	b.WithPanel(series("Master link", "On replicas: 1 while the link to the master is up.", "none",
		query(`redis_master_link_up{`+sel+`}`, "{{pod}} -> {{master_host}}")))
	b.WithPanel(series("Replication lag", "On replicas: bytes behind the master.", "bytes",
		query(`redis_replication_lag_bytes{`+sel+`}`, "{{pod}}")))
	b.WithPanel(series("Replication lag (seconds)", "On replicas: seconds since the master was last heard from.", "s",
		query(`redis_replication_lag_seconds{`+sel+`}`, "{{pod}}")))
	b.WithPanel(series("Sync in progress", "On replicas: 1 during a full sync from the master.", "none",
		query(`redis_master_sync_in_progress{`+sel+`}`, "{{pod}}")))

	b.WithRow(dashboard.NewRowBuilder("Latency"))
	b.WithPanel(series("Command latency p99", "Per-command p99 latency inside Redis (INFO latencystats).", "s",
		query(`max by (cmd) (redis_command_latency_seconds{`+sel+`, quantile="0.99"})`, "{{cmd}}")))
	b.WithPanel(series("Probe round trip", "Round trip of the exporter's probe as a client sees it, p50 and p99 over the interval.", "s",
		query(`histogram_quantile(0.5, sum by (pod, le) (rate(redis_probe_rtt_seconds_bucket{`+sel+`}[$__rate_interval])))`, "p50 {{pod}}"),
		query(`histogram_quantile(0.99, sum by (pod, le) (rate(redis_probe_rtt_seconds_bucket{`+sel+`}[$__rate_interval])))`, "p99 {{pod}}")))

	b.WithRow(dashboard.NewRowBuilder("Keys and persistence"))
	b.WithPanel(series("Keys per database", "Keys and keys with an expiry, per database.", "short",
		query(`sum by (db) (redis_db_keys{`+sel+`})`, "keys {{db}}"),
		query(`sum by (db) (redis_db_keys_expiring{`+sel+`})`, "expiring {{db}}")))
	b.WithPanel(series("Last RDB save", "Seconds since the last successful RDB save.", "s",
		query(`time() - redis_rdb_last_save_timestamp_seconds{`+sel+`}`, "{{pod}}")))
	b.WithPanel(series("Persistence status", "1 when the last RDB save and the last AOF write succeeded; AOF enabled and rewrite in progress.", "none",
		query(`redis_rdb_last_bgsave_status{`+sel+`}`, "rdb ok {{pod}}"),
		query(`redis_aof_last_write_status{`+sel+`}`, "aof ok {{pod}}"),
		query(`redis_aof_enabled{`+sel+`}`, "aof on {{pod}}"),
		query(`redis_aof_rewrite_in_progress{`+sel+`}`, "aof rewrite {{pod}}")))

	b.WithRow(dashboard.NewRowBuilder("Exporter"))
	b.WithPanel(series("Scrape duration", "How long the exporter took to scrape each pod.", "s",
		query(`redis_exporter_target_scrape_duration_seconds{`+sel+`}`, "{{pod}}")))
	b.WithPanel(series("Scrape errors", "1 while the exporter's last scrape of the pod failed (the err label says why).", "none",
		query(`max by (pod) (redis_exporter_last_scrape_error{`+sel+`})`, "{{pod}}")))
	return b.Build()
}
