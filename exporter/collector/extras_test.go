package collector

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/redis-autoscaler/redis-autoscaler/exporter/engine"
	"github.com/redis-autoscaler/redis-autoscaler/exporter/redisinfo"
	"github.com/redis-autoscaler/redis-autoscaler/exporter/scraper"
	"github.com/redis-autoscaler/redis-autoscaler/exporter/target"
	"github.com/redis-autoscaler/redis-autoscaler/test/redistest"
)

func extrasCollector(t *testing.T, x scraper.Extras, s *redistest.Server) *Collector {
	t.Helper()
	pool := engine.NewPool(nil, 2*time.Second).WithExtras(x)
	t.Cleanup(pool.Close)
	tg := mustTarget(t, s.URL())
	tg.Password = s.Password
	return New(func() []target.Target { return []target.Target{tg} }, pool, Options{})
}

// commandsProcessed reads the server's own count over rc (already
// connected: its own INFO counts one).
func commandsProcessed(t *testing.T, rc *redis.Client) float64 {
	t.Helper()
	raw, err := rc.Info(context.Background(), "stats").Result()
	require.NoError(t, err)
	info, err := redisinfo.Parse(raw)
	require.NoError(t, err)
	v, _ := info.Float("total_commands_processed")
	return v
}

// The slow log and latency histograms, when asked for, come in one extra
// round trip; without them a scrape is one command.
func TestExtras(t *testing.T) {
	s := redistest.Start(t, "--slowlog-log-slower-than", "0")
	rc := s.Client(t)
	ctx := context.Background()
	for range 5 {
		require.NoError(t, rc.Set(ctx, "k", "v", 0).Err())
	}

	plain := extrasCollector(t, scraper.Extras{}, s)
	gather(t, plain) // connects, learns the version
	before := commandsProcessed(t, rc)
	mfs := gather(t, plain)
	after := commandsProcessed(t, rc)
	// INFO by the exporter, INFO by commandsProcessed itself.
	assert.Equal(t, 2.0, after-before, "without extras a scrape is one command")
	assert.NotContains(t, mfs, "redis_slowlog_length")
	assert.NotContains(t, mfs, "redis_commands_latencies_usec")

	all := extrasCollector(t, scraper.Extras{Slowlog: true, LatencyHistogram: true}, s)
	gather(t, all)
	mfs = gather(t, all)
	n, ok := value(t, mfs, "redis_slowlog_length", nil)
	require.True(t, ok)
	assert.Positive(t, n)
	id, _ := value(t, mfs, "redis_slowlog_last_id", nil)
	assert.Positive(t, id)
	_, ok = value(t, mfs, "redis_last_slow_execution_duration_seconds", nil)
	assert.True(t, ok)
	calls, ok := value(t, mfs, "redis_commands_latencies_usec", map[string]string{"cmd": "set"})
	require.True(t, ok, "LATENCY HISTOGRAM of set")
	assert.Equal(t, 5.0, calls)
	_, ok = value(t, mfs, "redis_probe_rtt_seconds", nil)
	assert.True(t, ok)
	conns, _ := value(t, mfs, "redis_connections_received_total", nil)
	mfs = gather(t, all)
	conns2, _ := value(t, mfs, "redis_connections_received_total", nil)
	assert.Equal(t, conns, conns2, "the extras use the kept connection")
}

// A server that refuses an extra command (renamed here, as managed Redis
// services do) loses only that command's metrics, and sees it once, not
// once per scrape.
func TestRefusedExtraIsNotRetried(t *testing.T) {
	s := redistest.Start(t, "--rename-command", "SLOWLOG", "")
	c := extrasCollector(t, scraper.Extras{Slowlog: true}, s)
	gather(t, c)
	errs := func() float64 {
		raw, err := s.Client(t).Info(context.Background(), "stats").Result()
		require.NoError(t, err)
		info, err := redisinfo.Parse(raw)
		require.NoError(t, err)
		v, _ := info.Float("total_error_replies")
		return v
	}
	first := errs()
	assert.Positive(t, first, "the first scrape asked once")
	for range 3 {
		mfs := gather(t, c)
		up, _ := value(t, mfs, "redis_up", nil)
		assert.Equal(t, 1.0, up)
		_, ok := value(t, mfs, "redis_connected_clients", nil)
		assert.True(t, ok, "INFO metrics are whole")
		assert.NotContains(t, mfs, "redis_slowlog_length")
	}
	assert.Equal(t, first, errs(), "no error reply per scrape after the first refusal")
}
