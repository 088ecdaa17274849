package exporter

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/redis-autoscaler/redis-autoscaler/test/redistest"
)

// redisExporterOtherFamilies are the families redis_exporter exports by
// default for a Redis 7 master besides its INFO field maps (from its
// source: exporter/info.go, exporter/exporter.go, exporter/latency.go,
// exporter/slowlog.go). The INFO field families are checked in
// collector/testdata/redis_exporter_info.tsv.
var redisExporterOtherFamilies = []string{
	"redis_up", "redis_instance_info", "redis_start_time_seconds",
	"redis_commands_total", "redis_commands_duration_seconds_total",
	"redis_commands_rejected_calls_total", "redis_commands_failed_calls_total",
	"redis_errors_total", "redis_db_keys", "redis_db_keys_expiring", "redis_db_avg_ttl_seconds",
	"redis_latency_percentiles_usec",
	"redis_exporter_last_scrape_error", "redis_exporter_scrapes_total",
	"redis_exporter_scrape_duration_seconds", "redis_exporter_last_scrape_connect_time_seconds",
	"redis_exporter_build_info", "redis_exporter_last_scrape_duration_seconds",
	"redis_target_scrape_request_errors_total", "redis_cluster_enabled", "redis_cluster_connections",
}

// optIn are redis_exporter default families that need commands besides
// INFO: this exporter sends one command per scrape unless told otherwise,
// so they come with the flag named.
var optIn = map[string]string{
	"redis_slowlog_length":                       "--include-slowlog-metrics",
	"redis_slowlog_last_id":                      "--include-slowlog-metrics",
	"redis_last_slow_execution_duration_seconds": "--include-slowlog-metrics",
	"redis_commands_latencies_usec":              "--include-latency-histogram-metrics",
}

func TestRedisExporterOtherFamilies(t *testing.T) {
	s := redistest.Start(t)
	rc := s.Client(t)
	require.NoError(t, rc.Set(context.Background(), "k", "v", 0).Err())
	require.NoError(t, rc.Expire(context.Background(), "k", 3600e9).Err())
	require.Error(t, rc.Do(context.Background(), "NOSUCHCOMMAND").Err()) // an errorstat
	base, _ := startExporter(t, "--redis.addr", s.URL())
	first, _ := fetch(t, base+"/metrics") // also learns the server version
	connect, ok := find(first, "redis_exporter_last_scrape_connect_time_seconds", map[string]string{"addr": s.URL()})
	require.True(t, ok)
	assert.Positive(t, connect, "the first scrape connects")
	samples, body := fetch(t, base+"/metrics")
	names := map[string]bool{}
	for _, smp := range samples {
		names[string(smp.Metric["__name__"])] = true
	}
	has := func(family string) bool {
		return names[family] || names[family+"_count"] || names[family+"_sum"]
	}
	for _, f := range redisExporterOtherFamilies {
		assert.True(t, has(f), "missing %s", f)
	}
	for f, flag := range optIn {
		assert.False(t, has(f), "%s without %s", f, flag)
	}
	assert.Contains(t, body, "# TYPE redis_exporter_scrape_duration_seconds summary")
	connect, ok = find(samples, "redis_exporter_last_scrape_connect_time_seconds", map[string]string{"addr": s.URL()})
	require.True(t, ok)
	assert.Zero(t, connect, "the second scrape reuses the connection")
}

// With the opt-in flags, the families that need extra commands are there.
func TestRedisExporterOptInFamilies(t *testing.T) {
	s := redistest.Start(t, "--slowlog-log-slower-than", "0")
	require.NoError(t, s.Client(t).Set(context.Background(), "k", "v", 0).Err())
	base, _ := startExporter(t, "--redis.addr", s.URL(), "--include-slowlog-metrics", "--include-latency-histogram-metrics",
		"--exclude-latency-histogram-metrics=false")
	fetch(t, base+"/metrics")
	samples, _ := fetch(t, base+"/metrics")
	names := map[string]bool{}
	for _, smp := range samples {
		names[string(smp.Metric["__name__"])] = true
	}
	for f, flag := range optIn {
		assert.True(t, names[f] || names[f+"_count"], "%s with %s", f, flag)
	}
}
