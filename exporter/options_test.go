package exporter

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/redis-autoscaler/redis-autoscaler/test/redistest"
)

// redis_exporter's smaller options, each as a user would check it.
func TestRedisExporterOptions(t *testing.T) {
	s := redistest.Start(t)
	base, _ := startExporter(t, "--redis.addr", s.URL(),
		"--include-system-metrics", "--append-instance-role-label", "--set-client-name", "--ping-on-connect",
		"--include-go-runtime-metrics", "--disable-scrape-endpoint", "--log-level", "warn")
	samples, body := fetch(t, base+"/metrics")

	v, ok := find(samples, "redis_total_system_memory_bytes", map[string]string{"addr": s.URL()})
	assert.True(t, ok, "--include-system-metrics")
	assert.Positive(t, v)
	up, ok := find(samples, "redis_up", map[string]string{"addr": s.URL(), "instance_role": "master"})
	assert.True(t, ok, "--append-instance-role-label on every per-target metric")
	assert.Equal(t, 1.0, up)
	for _, smp := range samples {
		name := string(smp.Metric["__name__"])
		if smp.Metric["addr"] != "" {
			assert.Equal(t, "master", string(smp.Metric["instance_role"]), name)
		}
	}
	assert.Contains(t, body, "go_sched_gomaxprocs_threads", "--include-go-runtime-metrics")

	clients, err := s.Client(t).ClientList(context.Background()).Result()
	require.NoError(t, err)
	assert.Contains(t, clients, "name=redis_exporter", "--set-client-name")
	info, err := s.Client(t).Info(context.Background(), "commandstats").Result()
	require.NoError(t, err)
	assert.Contains(t, info, "cmdstat_ping:calls=1,", "--ping-on-connect: one PING on the one connection")

	resp, err := http.Get(base + "/scrape?target=" + s.URL())
	require.NoError(t, err)
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.False(t, resp.StatusCode == http.StatusOK && strings.Contains(string(b), "redis_up"), "--disable-scrape-endpoint")

	_, err = ParseFlags([]string{"--log-level", "loud"}, func(string) string { return "" }, io.Discard)
	assert.ErrorContains(t, err, "--log-level")
}

// Without the options nothing changes: one connection, no name, no PING.
func TestRedisExporterOptionsOff(t *testing.T) {
	s := redistest.Start(t)
	base, _ := startExporter(t, "--redis.addr", s.URL())
	samples, _ := fetch(t, base+"/metrics")
	_, ok := find(samples, "redis_total_system_memory_bytes", nil)
	assert.False(t, ok)
	_, ok = find(samples, "redis_up", map[string]string{"instance_role": "master"})
	assert.False(t, ok)
	info, err := s.Client(t).Info(context.Background(), "commandstats").Result()
	require.NoError(t, err)
	assert.NotContains(t, info, "cmdstat_ping")
	clients, err := s.Client(t).ClientList(context.Background()).Result()
	require.NoError(t, err)
	assert.NotContains(t, clients, "name=redis_exporter")
}

// --check-keys, --check-single-keys and --count-keys as redis_exporter's.
func TestKeyChecks(t *testing.T) {
	s := redistest.Start(t)
	rc := s.Client(t)
	ctx := context.Background()
	require.NoError(t, rc.RPush(ctx, "queue:jobs", 1, 2, 3).Err())
	require.NoError(t, rc.Set(ctx, "counter", "7", 0).Err())
	require.NoError(t, rc.Set(ctx, "mode", "blue", 0).Err())
	base, _ := startExporter(t, "--redis.addr", s.URL(),
		"--check-keys", "queue:*", "--check-single-keys", "db0=counter,mode", "--count-keys", "db0=queue:*")
	samples, _ := fetch(t, base+"/metrics")
	v, ok := find(samples, "redis_key_size", map[string]string{"db": "db0", "key": "queue:jobs"})
	assert.True(t, ok)
	assert.Equal(t, 3.0, v)
	v, _ = find(samples, "redis_key_value", map[string]string{"db": "db0", "key": "counter"})
	assert.Equal(t, 7.0, v)
	_, ok = find(samples, "redis_key_value_as_string", map[string]string{"db": "db0", "key": "mode", "val": "blue"})
	assert.True(t, ok)
	v, _ = find(samples, "redis_keys_count", map[string]string{"db": "db0", "key": "queue:*"})
	assert.Equal(t, 1.0, v)
	_, ok = find(samples, "redis_key_memory_usage_bytes", map[string]string{"db": "db0", "key": "queue:jobs"})
	assert.True(t, ok)
	v, _ = find(samples, "redis_exporter_check_keys_budget_exhausted", nil)
	assert.Zero(t, v)

	_, err := ParseFlags([]string{"--check-keys", "dbx=a"}, func(string) string { return "" }, io.Discard)
	assert.ErrorContains(t, err, "--check-keys")
}

// --check-key-groups through /metrics, with redis_exporter's CSV syntax
// (a quoted pattern holding a comma) and --max-distinct-key-groups; a bad
// pattern is refused once and the rest of the scrape stays.
func TestKeyGroups(t *testing.T) {
	s := redistest.Start(t)
	rc := s.Client(t)
	ctx := context.Background()
	for i := range 12 {
		require.NoError(t, rc.Set(ctx, fmt.Sprintf("session:%d", i), "x", 0).Err())
		require.NoError(t, rc.RPush(ctx, fmt.Sprintf("queue:%d", i%3), "job").Err())
	}
	require.NoError(t, rc.Set(ctx, "a,b", "x", 0).Err())
	base, _ := startExporter(t, "--redis.addr", s.URL(),
		"--check-key-groups", `^(session):,^(queue):(%d+),"^(a,)"`, "--max-distinct-key-groups", "3", "--check-keys-batch-size", "5")
	samples, _ := fetch(t, base+"/metrics")
	v, ok := find(samples, "redis_key_group_count", map[string]string{"db": "db0", "key_group": "session"})
	assert.True(t, ok)
	assert.Equal(t, 12.0, v)
	total := 0.0
	groups := 0
	for _, sm := range samples {
		if sm.Metric[model.MetricNameLabel] == "redis_key_group_count" {
			total += float64(sm.Value)
			groups++
		}
	}
	assert.Equal(t, 16.0, total, "12 sessions, 3 queues, a,b")
	assert.Equal(t, 4, groups, "3 groups and overflow")
	_, ok = find(samples, "redis_key_group_count", map[string]string{"db": "db0", "key_group": "overflow"})
	assert.True(t, ok)
	v, _ = find(samples, "redis_number_of_distinct_key_groups", map[string]string{"db": "db0"})
	assert.Equal(t, 5.0, v, "session, queue0-2, a,")
	_, ok = find(samples, "redis_last_key_groups_scrape_duration_milliseconds", nil)
	assert.True(t, ok)

	bad, _ := startExporter(t, "--redis.addr", s.URL(), "--check-key-groups", `^(session`)
	for range 3 {
		samples, _ = fetch(t, bad+"/metrics")
		v, _ = find(samples, "redis_up", nil)
		assert.Equal(t, 1.0, v)
	}
	_, ok = find(samples, "redis_key_group_count", nil)
	assert.False(t, ok)
	info, err := rc.Info(ctx, "errorstats").Result()
	require.NoError(t, err)
	assert.Contains(t, info, "errorstat_ERR:count=1", "refused once, not once per scrape")
}

// --check-streams: a queue with a consumer group, one consumer and one
// pending message, as a queue-driven user checks it.
func TestStreamChecks(t *testing.T) {
	s := redistest.Start(t)
	rc := s.Client(t)
	ctx := context.Background()
	for range 3 {
		require.NoError(t, rc.XAdd(ctx, &redis.XAddArgs{Stream: "events:orders", Values: map[string]any{"k": "v"}}).Err())
	}
	require.NoError(t, rc.XGroupCreate(ctx, "events:orders", "billing", "0").Err())
	_, err := rc.XReadGroup(ctx, &redis.XReadGroupArgs{Group: "billing", Consumer: "worker-1", Streams: []string{"events:orders", ">"}, Count: 1}).Result()
	require.NoError(t, err)
	require.NoError(t, rc.Set(ctx, "events:not-a-stream", "x", 0).Err())

	base, _ := startExporter(t, "--redis.addr", s.URL(), "--check-streams", "db0=events:*")
	samples, _ := fetch(t, base+"/metrics")
	stream := map[string]string{"db": "db0", "stream": "events:orders"}
	v, ok := find(samples, "redis_stream_length", stream)
	require.True(t, ok)
	assert.Equal(t, 3.0, v)
	_, ok = find(samples, "redis_stream_length", map[string]string{"stream": "events:not-a-stream"})
	assert.False(t, ok, "only streams")
	group := map[string]string{"db": "db0", "stream": "events:orders", "group": "billing"}
	v, _ = find(samples, "redis_stream_group_messages_pending", group)
	assert.Equal(t, 1.0, v)
	v, _ = find(samples, "redis_stream_group_lag", group)
	assert.Equal(t, 2.0, v)
	v, _ = find(samples, "redis_stream_group_consumer_messages_pending", map[string]string{"group": "billing", "consumer": "worker-1"})
	assert.Equal(t, 1.0, v)
	v, _ = find(samples, "redis_stream_entries_added_total", stream)
	assert.Equal(t, 3.0, v)
	first, _ := find(samples, "redis_stream_first_entry_id", stream)
	assert.Greater(t, first, 1.7e12, "milliseconds of the first ID")

	base2, _ := startExporter(t, "--redis.addr", s.URL(), "--check-single-streams", "events:orders", "--streams-exclude-consumer-metrics")
	samples, _ = fetch(t, base2+"/metrics")
	_, ok = find(samples, "redis_stream_groups", stream)
	assert.True(t, ok)
	_, ok = find(samples, "redis_stream_group_consumer_messages_pending", nil)
	assert.False(t, ok, "--streams-exclude-consumer-metrics")
}

// --script and --export-client-list, as redis_exporter's.
func TestScriptsAndClientList(t *testing.T) {
	s := redistest.Start(t)
	rc := s.Client(t)
	require.NoError(t, rc.RPush(context.Background(), "jobs", 1, 2).Err())
	dir := t.TempDir()
	good := filepath.Join(dir, "queues.lua")
	require.NoError(t, os.WriteFile(good, []byte(`return {"jobs", tostring(redis.call("LLEN", "jobs")), "answer", "42"}`), 0o600))
	bad := filepath.Join(dir, "bad.lua")
	require.NoError(t, os.WriteFile(bad, []byte(`return redis.call("NOSUCH")`), 0o600))
	base, _ := startExporter(t, "--redis.addr", s.URL(), "--script", good+","+bad, "--export-client-list", "--set-client-name")
	samples, _ := fetch(t, base+"/metrics")
	v, _ := find(samples, "redis_script_values", map[string]string{"key": "jobs", "filename": good})
	assert.Equal(t, 2.0, v)
	v, _ = find(samples, "redis_script_result", map[string]string{"filename": good})
	assert.Equal(t, 1.0, v)
	v, ok := find(samples, "redis_script_result", map[string]string{"filename": bad})
	assert.True(t, ok)
	assert.Equal(t, 0.0, v, "a failing script is reported, the rest of the scrape is whole")
	up, _ := find(samples, "redis_up", nil)
	assert.Equal(t, 1.0, up)
	_, ok = find(samples, "redis_connected_client_info", map[string]string{"name": "redis_exporter", "host": "127.0.0.1"})
	assert.True(t, ok, "the exporter's own connection is listed")
	mem, ok := find(samples, "redis_connected_client_total_memory_consumed_bytes", map[string]string{"name": "redis_exporter"})
	assert.True(t, ok)
	assert.Positive(t, mem)

	_, err := ParseFlags([]string{"--script", filepath.Join(dir, "missing.lua")}, func(string) string { return "" }, io.Discard)
	assert.ErrorContains(t, err, "--script")
}

// A Sentinel target: redis_exporter's redis_sentinel_* families from its
// INFO, still one command per scrape.
func TestSentinelTarget(t *testing.T) {
	master := redistest.Start(t)
	addr, _ := redistest.StartSentinel(t, master.Host, master.Port, "")
	base, _ := startExporter(t, "--redis.addr", "redis://"+addr)
	fetch(t, base+"/metrics")
	samples, _ := fetch(t, base+"/metrics")
	up, _ := find(samples, "redis_up", nil)
	require.Equal(t, 1.0, up)
	v, ok := find(samples, "redis_sentinel_masters", nil)
	assert.True(t, ok)
	assert.Equal(t, 1.0, v)
	_, ok = find(samples, "redis_sentinel_tilt", nil)
	assert.True(t, ok)
	masterAddr := master.Host + ":" + strconv.Itoa(master.Port)
	v, ok = find(samples, "redis_sentinel_master_status", map[string]string{"master_name": "mymaster", "master_address": masterAddr, "master_status": "ok"})
	assert.True(t, ok)
	assert.Equal(t, 1.0, v)
	v, _ = find(samples, "redis_sentinel_master_sentinels", map[string]string{"master_name": "mymaster"})
	assert.Equal(t, 1.0, v)
	_, ok = find(samples, "redis_instance_info", map[string]string{"redis_mode": "sentinel"})
	assert.True(t, ok)
	// SENTINEL MASTERS, CKQUORUM, SENTINELS and REPLICAS, as redis_exporter.
	master1 := map[string]string{"master_name": "mymaster", "master_address": masterAddr}
	v, _ = find(samples, "redis_sentinel_master_setting_ckquorum", master1)
	assert.Equal(t, 1.0, v, "quorum 1")
	v, _ = find(samples, "redis_sentinel_master_setting_down_after_milliseconds", master1)
	assert.Equal(t, 2000.0, v)
	v, _ = find(samples, "redis_sentinel_master_setting_parallel_syncs", master1)
	assert.Equal(t, 2.0, v)
	v, ok = find(samples, "redis_sentinel_master_ckquorum_status", map[string]string{"master_name": "mymaster"})
	assert.True(t, ok)
	assert.Equal(t, 1.0, v, "one Sentinel, quorum 1: reachable")
	v, ok = find(samples, "redis_sentinel_master_ok_sentinels", master1)
	assert.True(t, ok)
	assert.Equal(t, 1.0, v, "itself, as redis_exporter counts")
	_, ok = find(samples, "redis_sentinel_master_ok_slaves", master1)
	assert.True(t, ok)
	_, ok = find(samples, "redis_sentinel_master_last_ok_ping_reply_seconds", master1)
	assert.True(t, ok)
}

// --include-metrics-for-empty-databases and --skip-checkkeys-for-role-master.
func TestEmptyDatabasesAndSkipKeysOnMaster(t *testing.T) {
	s := redistest.Start(t, "--databases", "4")
	require.NoError(t, s.Client(t).Set(context.Background(), "k", "v", 0).Err())
	base, _ := startExporter(t, "--redis.addr", s.URL(), "--include-metrics-for-empty-databases",
		"--check-single-keys", "k", "--skip-checkkeys-for-role-master")
	samples, _ := fetch(t, base+"/metrics")
	for _, db := range []string{"db1", "db2", "db3"} {
		v, ok := find(samples, "redis_db_keys", map[string]string{"db": db})
		assert.True(t, ok, db)
		assert.Zero(t, v)
	}
	v, _ := find(samples, "redis_db_keys", map[string]string{"db": "db0"})
	assert.Equal(t, 1.0, v)
	_, ok := find(samples, "redis_key_size", nil)
	assert.False(t, ok, "no key checks on a master")
	_, ok = find(samples, "redis_config_key_value", nil)
	assert.False(t, ok, "CONFIG GET databases is not --include-config-metrics")
}

// --include-sentinel-peer-info: two Sentinels find each other through the
// master, and each reports the other.
func TestSentinelPeers(t *testing.T) {
	master := redistest.Start(t)
	addr, _ := redistest.StartSentinel(t, master.Host, master.Port, "")
	redistest.StartSentinel(t, master.Host, master.Port, "")
	base, _ := startExporter(t, "--redis.addr", "redis://"+addr, "--include-sentinel-peer-info")
	require.EventuallyWithT(t, func(ct *assert.CollectT) {
		samples, _ := fetch(t, base+"/metrics")
		_, ok := find(samples, "redis_sentinel_peer_info", map[string]string{"master_name": "mymaster", "ip": "127.0.0.1"})
		assert.True(ct, ok, "the other Sentinel")
		v, _ := find(samples, "redis_sentinel_master_ok_sentinels", map[string]string{"master_name": "mymaster"})
		assert.Equal(ct, 2.0, v)
	}, 20*time.Second, 500*time.Millisecond)
}
