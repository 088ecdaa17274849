package dashboards

//lint:file-ignore SA1019 The classic dashboard model (v1 JSON) is what every Grafana version and the grafana_dashboard ConfigMap sidecar import; the SDK's dashboardv2 is the Grafana 12+ schema.

import (
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/statetimeline"
	"github.com/grafana/grafana-foundation-sdk/go/timeseries"
)

// Selectors of the autoscaling dashboard, by program.
const (
	// groupSel: the scaler's per-group series.
	groupSel = `cluster=~"$cluster", job=~"$job", namespace=~"$namespace", group=~"$group"`
	// hpaSel: the adapter's per-HPA series of HPAs scaling the groups.
	hpaSel = `cluster=~"$cluster", job=~"$job", namespace=~"$namespace", target_kind="RedisReplicationGroup", target_name=~"$group"`
	// clusterSel: the scaler's per-RedisCluster series.
	clusterSel = `cluster=~"$cluster", job=~"$job", namespace=~"$namespace", rediscluster=~"$rediscluster"`
	// adapterSel: the adapter's own series (not per group).
	adapterSel = `cluster=~"$cluster", job=~"$job"`
	// inGroup joins the exporter's per-pod series to the group of the pod
	// (and keeps only the chosen groups' pods).
	inGroup = ` * on (namespace, pod) group_left (group) max by (namespace, pod, group) (redis_autoscaler_scaler_group_pod_info{` + groupSel + `, pod=~"$pod"})`
)

// Autoscaling is redis-autoscaling.json: each RedisReplicationGroup's size,
// the signals the HPA scales it on against their targets, what the scaler
// did (scale events, switchovers, attach times, write pauses), each
// RedisCluster's shards, slots and migrations, and the adapter's health. Built on the scaler's, the adapter's and the
// exporter's own series: no kube-state-metrics needed.
func Autoscaling(o Options) (dashboard.Dashboard, error) {
	b := dashboard.NewDashboardBuilder("Redis / Autoscaling").
		Uid("redis-autoscaler-autoscaling").
		Description("Per RedisReplicationGroup: replicas against the HPA's bounds, each signal against its target, scale events and switchovers, attach latency and write pauses, and the adapter's health.").
		Tags([]string{"redis", "redis-autoscaler"}).
		Refresh("30s").Time("now-3h", "now").Timezone(common.TimeZoneBrowser).
		Tooltip(dashboard.DashboardCursorSyncCrosshair).Readonly()
	variables(b, o, "redis_autoscaler_scaler_group_replicas", []chained{
		{name: "job", label: "job"},
		{name: "namespace", label: "namespace", matchers: `job=~"$job"`},
		{name: "group", label: "group", matchers: `job=~"$job", namespace=~"$namespace"`},
		{name: "pod", label: "pod", matchers: `job=~"$job", namespace=~"$namespace", group=~"$group"`, metric: "redis_autoscaler_scaler_group_pod_info"},
		{name: "rediscluster", label: "rediscluster", matchers: `job=~"$job", namespace=~"$namespace"`, metric: "redis_autoscaler_cluster_desired_shards"},
	})
	for _, a := range []struct{ name, color, expr, title string }{
		{"Scale events", "blue", `sum by (namespace, group, direction) (increase(redis_autoscaler_scaler_scale_events_total{` + groupSel + `}[$__rate_interval])) > 0`, "{{group}}: scaled {{direction}}"},
		{"Switchovers", "orange", `sum by (namespace, group, result) (increase(redis_autoscaler_scaler_switchovers_total{` + groupSel + `}[$__rate_interval])) > 0`, "{{group}}: switchover {{result}}"},
	} {
		b.Annotation(dashboard.NewAnnotationQueryBuilder().Name(a.name).Datasource(datasource).Enable(true).
			IconColor(a.color).Expr(a.expr).TitleFormat(a.title).Step("$__rate_interval"))
	}

	b.WithRow(dashboard.NewRowBuilder("Replicas: does the group have the size the HPA asked for?"))
	b.WithPanel(series("Replicas", "desired is spec.replicas (the HPA's decision), current and ready the StatefulSet's pods, synced the master plus the replicas attached and in sync; the HPA's min, max and desired come from the adapter.", "short",
		query(`max by (namespace, group, state) (redis_autoscaler_scaler_group_replicas{`+groupSel+`})`, "{{group}} {{state}}"),
		query(`max by (namespace, target_name, state) (redis_autoscaler_adapter_hpa_replicas{`+hpaSel+`, state=~"min|max|desired"})`, "{{target_name}} HPA {{state}}")))
	b.WithPanel(statetimeline.NewPanelBuilder().Title("Master").
		Description("Which pod the scaler made master, over time: a change is a switchover (before a scale-down, or after a failure).").
		Unit("none").Datasource(datasource).Height(8).Span(12).MergeValues(true).ShowValue(common.VisibilityModeNever).
		WithTarget(query(`max by (namespace, group, pod) (redis_autoscaler_scaler_group_master{`+groupSel+`})`, "{{group}}: {{pod}}")))
	b.WithPanel(single("Pods by role", "Pods of each group by the role the scaler gave them; an empty role is a pod that is down or not yet known.", "short",
		query(`count by (namespace, group, role) (max by (namespace, group, pod, role) (redis_autoscaler_scaler_group_pod_info{`+groupSel+`}))`, "{{group}} {{role}}")))
	b.WithPanel(single("In sync", "Synced (master plus replicas in sync) over desired replicas; below 100 % for long fires RedisAutoscalerStuck.", "percentunit",
		query(`max by (namespace, group) (redis_autoscaler_scaler_group_replicas{`+groupSel+`, state="synced"}) / max by (namespace, group) (redis_autoscaler_scaler_group_replicas{`+groupSel+`, state="desired"})`, "{{group}}")))
	b.WithPanel(single("Since the last switchover", "Time since the scaler last moved each group's master (status.lastSwitchoverTime); empty until the first.", "s",
		query(`time() - max by (namespace, group) (redis_autoscaler_scaler_group_last_switchover_timestamp_seconds{`+groupSel+`})`, "{{group}}")))

	b.WithRow(dashboard.NewRowBuilder("Signals: what does the HPA see against its targets?"))
	signal := func(title, description, unit, perPod, metric string) *timeseries.PanelBuilder {
		return series(title, description, unit,
			query(perPod, "{{group}} {{pod}}"),
			query(`max by (namespace, hpa, target_name) (redis_autoscaler_adapter_hpa_metric_target{`+hpaSel+`, metric="`+metric+`"})`, "target ({{hpa}})"),
			query(`max by (namespace, hpa, target_name) (redis_autoscaler_adapter_hpa_metric_current{`+hpaSel+`, metric="`+metric+`"})`, "HPA average ({{hpa}})"))
	}
	b.WithPanel(signal("Ops/s per pod", "Commands per second of each pod (the exporter's view; on replicas this includes the replicated writes), the HPA's per-pod average of redis_ops_per_second and its target.", "ops",
		`sum by (namespace, group, pod) (rate(redis_commands_processed_total{cluster=~"$cluster", job=~"$job", namespace=~"$namespace"}[$__rate_interval])`+inGroup+`)`, "redis_ops_per_second"))
	b.WithPanel(signal("Memory fraction per pod", "used_memory / maxmemory of each pod, the HPA's average of redis_memory_fraction and its target. Every replica holds the whole dataset: more replicas do not lower it.", "percentunit",
		`max by (namespace, group, pod) (redis_memory_fraction{cluster=~"$cluster", job=~"$job", namespace=~"$namespace"}`+inGroup+`)`, "redis_memory_fraction"))
	b.WithPanel(signal("Response time per pod", "p99 of the exporter's PING round trip to each pod, the HPA's average of redis_response_time_seconds (the adapter's own probe) and its target.", "s",
		`histogram_quantile(0.99, sum by (namespace, group, pod, le) (rate(redis_probe_rtt_seconds_bucket{cluster=~"$cluster", job=~"$job", namespace=~"$namespace"}[$__rate_interval])`+inGroup+`))`, "redis_response_time_seconds"))
	b.WithPanel(series("Signal / target", "Each of our metrics as the HPA last read it, over its target: above 100 % the HPA adds replicas (up to max), below it removes them after the scale-down window.", "percentunit",
		query(`max by (namespace, hpa, metric) (redis_autoscaler_adapter_hpa_metric_current{`+hpaSel+`}) / max by (namespace, hpa, metric) (redis_autoscaler_adapter_hpa_metric_target{`+hpaSel+`})`, "{{hpa}} {{metric}}")))

	b.WithRow(dashboard.NewRowBuilder("Scaler: what did it do, and what did it cost?"))
	b.WithPanel(series("Scale events", "Replica counts the scaler applied to each group's StatefulSet, by direction (also shown as annotations).", "short",
		query(`sum by (namespace, group, direction) (increase(redis_autoscaler_scaler_scale_events_total{`+groupSel+`}[$__rate_interval]))`, "{{group}} {{direction}}")).
		DrawStyle(common.GraphDrawStyleBars))
	b.WithPanel(series("Switchovers", "Master switchovers by result: ok, aborted (the replica did not catch up within the write pause; nothing changed) or error.", "short",
		query(`sum by (namespace, group, result) (increase(redis_autoscaler_scaler_switchovers_total{`+groupSel+`}[$__rate_interval]))`, "{{group}} {{result}}")).
		DrawStyle(common.GraphDrawStyleBars))
	b.WithPanel(series("Switchover write pause", "How long switchovers paused writes on the master (CLIENT PAUSE WRITE until the replica caught up and was promoted): mean and p99.", "s",
		query(`sum by (namespace, group) (rate(redis_autoscaler_scaler_switchover_write_pause_seconds_sum{`+groupSel+`}[$__rate_interval])) / sum by (namespace, group) (rate(redis_autoscaler_scaler_switchover_write_pause_seconds_count{`+groupSel+`}[$__rate_interval]))`, "{{group}} mean"),
		query(`histogram_quantile(0.99, sum by (namespace, group, le) (rate(redis_autoscaler_scaler_switchover_write_pause_seconds_bucket{`+groupSel+`}[$__rate_interval])))`, "{{group}} p99")))
	b.WithPanel(series("Attach latency", "From a new pod's Redis start to the replica attached and in sync (full sync included): p50 and p99.", "s",
		query(`histogram_quantile(0.5, sum by (namespace, group, le) (rate(redis_autoscaler_scaler_attach_duration_seconds_bucket{`+groupSel+`}[$__rate_interval])))`, "{{group}} p50"),
		query(`histogram_quantile(0.99, sum by (namespace, group, le) (rate(redis_autoscaler_scaler_attach_duration_seconds_bucket{`+groupSel+`}[$__rate_interval])))`, "{{group}} p99")))

	b.WithRow(dashboard.NewRowBuilder("Clusters: are the shards even, and how is the resharding going?"))
	b.WithPanel(series("Shards", "Per RedisCluster: desired is spec.shards (the HPA's decision, at least minShards), current the masters that own slots.", "short",
		query(`max by (namespace, rediscluster) (redis_autoscaler_cluster_desired_shards{`+clusterSel+`})`, "{{rediscluster}} desired"),
		query(`max by (namespace, rediscluster) (redis_autoscaler_cluster_shards{`+clusterSel+`})`, "{{rediscluster}} current")))
	b.WithPanel(series("Slots per shard", "Hash slots each shard's master owns: even is 16384 / shards; during a resharding they move from the fullest shards to the emptiest.", "short",
		query(`max by (namespace, rediscluster, shard) (redis_autoscaler_cluster_slots{`+clusterSel+`})`, "{{rediscluster}} shard {{shard}}")))
	b.WithPanel(series("Migrations", "Slots the resharding plan still has to move, and slots migrating right now (at most spec.migration.maxConcurrent).", "short",
		query(`max by (namespace, rediscluster) (redis_autoscaler_cluster_migrations_pending{`+clusterSel+`})`, "{{rediscluster}} pending"),
		query(`max by (namespace, rediscluster) (redis_autoscaler_cluster_migrations_in_progress{`+clusterSel+`})`, "{{rediscluster}} in progress")))
	b.WithPanel(series("Migration throughput", "Slots and keys moved per second, and bytes per second (the keys' memory usage on the source).", "short",
		query(`sum by (namespace, rediscluster) (rate(redis_autoscaler_cluster_slots_moved_total{`+clusterSel+`}[$__rate_interval]))`, "{{rediscluster}} slots/s"),
		query(`sum by (namespace, rediscluster) (rate(redis_autoscaler_cluster_keys_moved_total{`+clusterSel+`}[$__rate_interval]))`, "{{rediscluster}} keys/s"),
		query(`sum by (namespace, rediscluster) (rate(redis_autoscaler_cluster_bytes_moved_total{`+clusterSel+`}[$__rate_interval]))`, "{{rediscluster}} bytes/s")))
	b.WithPanel(series("Slot migration duration", "Time to move one slot: its keys in batches (each on a replica of the new owner before the next) and the ownership change on every master: p50 and p99.", "s",
		query(`histogram_quantile(0.5, sum by (namespace, rediscluster, le) (rate(redis_autoscaler_cluster_slot_migration_duration_seconds_bucket{`+clusterSel+`}[$__rate_interval])))`, "{{rediscluster}} p50"),
		query(`histogram_quantile(0.99, sum by (namespace, rediscluster, le) (rate(redis_autoscaler_cluster_slot_migration_duration_seconds_bucket{`+clusterSel+`}[$__rate_interval])))`, "{{rediscluster}} p99")))

	b.WithRow(dashboard.NewRowBuilder("Adapter: can the HPA trust the signal?"))
	b.WithPanel(series("Requests", "custom.metrics.k8s.io requests the adapter answered per second, by metric (other: names we do not serve).", "reqps",
		query(`sum by (metric) (rate(redis_autoscaler_adapter_request_duration_seconds_count{`+adapterSel+`}[$__rate_interval]))`, "{{metric}}")))
	b.WithPanel(series("Request latency", "Time the adapter took to answer (its own part; the aggregator adds its hop): p50 and p99.", "s",
		query(`histogram_quantile(0.5, sum by (le) (rate(redis_autoscaler_adapter_request_duration_seconds_bucket{`+adapterSel+`}[$__rate_interval])))`, "p50"),
		query(`histogram_quantile(0.99, sum by (le) (rate(redis_autoscaler_adapter_request_duration_seconds_bucket{`+adapterSel+`}[$__rate_interval])))`, "p99")))
	b.WithPanel(series("Request errors", "Requests answered with an error per second, by reason: NotFound is a pod or object without a fresh value (the HPA then holds the size).", "reqps",
		query(`sum by (metric, reason) (rate(redis_autoscaler_adapter_request_errors_total{`+adapterSel+`}[$__rate_interval]))`, "{{metric}} {{reason}}")))
	b.WithPanel(series("Age of values served", "Time since the sample behind each value the adapter served was taken: p50 and p90 (RedisAdapterStale fires above 30 s).", "s",
		query(`histogram_quantile(0.5, sum by (le) (rate(redis_autoscaler_adapter_value_age_seconds_bucket{`+adapterSel+`}[$__rate_interval])))`, "p50"),
		query(`histogram_quantile(0.9, sum by (le) (rate(redis_autoscaler_adapter_value_age_seconds_bucket{`+adapterSel+`}[$__rate_interval])))`, "p90")))
	b.WithPanel(series("Embedded source scrapes", "Scrape rounds per second of the adapter's embedded source, and failed pod scrapes per second by namespace (embedded source only).", "short",
		query(`sum(rate(redis_autoscaler_adapter_scrapes_total{`+adapterSel+`}[$__rate_interval]))`, "rounds"),
		query(`sum by (namespace) (rate(redis_autoscaler_adapter_scrape_errors_total{`+adapterSel+`}[$__rate_interval]))`, "errors {{namespace}}")))
	return b.Build()
}
