package promsource

import (
	"context"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/redis-autoscaler/redis-autoscaler/adapter/source"
	"github.com/redis-autoscaler/redis-autoscaler/test/promtest"
	"github.com/redis-autoscaler/redis-autoscaler/test/redistest"
)

// TestAgainstPrometheus runs the whole path the HPA depends on: real Redis,
// the real exporter, Debian's Prometheus scraping it every second, and this
// source querying Prometheus.
func TestAgainstPrometheus(t *testing.T) {
	bin := promtest.Binary(t)
	master := redistest.Start(t, "--maxmemory", "64mb")
	replica := redistest.Start(t, "--replicaof", master.Host, strconv.Itoa(master.Port))
	mc := master.Client(t)
	ctx := context.Background()
	// ~10 MB of data, so the memory fraction is far above the noise of
	// client buffers that the load below moves.
	require.NoError(t, mc.Do(ctx, "DEBUG", "POPULATE", 100000, "key", 100).Err())

	// The exporter labels namespace/pod only for pods it discovers itself;
	// here Prometheus adds them per target, as static labels.
	exporterFlags := []string{"--redis-only-metrics", "--redis.addr"}
	targets := []promtest.Target{
		{Addr: promtest.StartExporter(t, append(exporterFlags, master.URL())...), Labels: map[string]string{"namespace": "cache", "pod": "redis-0"}},
		{Addr: promtest.StartExporter(t, append(exporterFlags, replica.URL())...), Labels: map[string]string{"namespace": "cache", "pod": "redis-1"}},
	}
	promURL := promtest.Start(t, bin, "redis", targets)

	const window = 10 * time.Second
	src, err := New(Options{URL: promURL, Window: window, MaxStaleness: 30 * time.Second})
	require.NoError(t, err)

	// Prometheus applies a new scrape config some seconds after it reports
	// ready; a load started before its first scrape would make rate() see
	// part of a window only.
	waitScraped(t, src, len(targets))
	rates := startLoad(t, mc)
	loadStart := time.Now()
	podList := pods("cache", "redis-0", "redis-1")

	// Steady state: the load ran a whole window and Prometheus has scraped it.
	deadline := time.Now().Add(60 * time.Second)
	var ops map[string]source.Value
	for {
		if time.Since(loadStart) > window+3*time.Second {
			ops, err = src.PodValues(ctx, source.OpsPerSecond, podList)
			require.NoError(t, err)
			if _, ok := ops["redis-0"]; ok {
				break
			}
		}
		require.True(t, time.Now().Before(deadline), "no ops/s value from Prometheus within 60s")
		time.Sleep(500 * time.Millisecond)
	}
	measured := rates.rateOver(window)
	t.Logf("ops/s: prometheus %.1f, measured %.1f", ops["redis-0"].Value, measured)
	assert.InEpsilon(t, measured, ops["redis-0"].Value, 0.15)
	assert.Equal(t, window, ops["redis-0"].Window)
	assertFresh(t, ops["redis-0"])

	t.Run("memory fraction", func(t *testing.T) {
		values, err := src.PodValues(ctx, source.MemoryFraction, podList)
		require.NoError(t, err)
		used := redistest.InfoFloat(t, mc, "memory", "used_memory")
		max := redistest.InfoFloat(t, mc, "memory", "maxmemory")
		require.Contains(t, values, "redis-0")
		assert.InEpsilon(t, used/max, values["redis-0"].Value, 0.02)
		assertFresh(t, values["redis-0"])
		assert.NotContains(t, values, "redis-1", "no maxmemory: no fraction")
	})
	t.Run("response time", func(t *testing.T) {
		values, err := src.PodValues(ctx, source.ResponseTime, podList)
		require.NoError(t, err)
		for _, pod := range []string{"redis-0", "redis-1"} {
			require.Contains(t, values, pod)
			assert.Greater(t, values[pod].Value, 0.0)
			assert.Less(t, values[pod].Value, 5.0)
		}
	})
	t.Run("connected clients", func(t *testing.T) {
		values, err := src.PodValues(ctx, source.ConnectedClients, podList)
		require.NoError(t, err)
		require.Contains(t, values, "redis-0")
		assert.GreaterOrEqual(t, values["redis-0"].Value, 2.0, "load client and exporter at least")
	})
	t.Run("replication lag", func(t *testing.T) {
		values, err := src.PodValues(ctx, source.ReplicationLag, podList)
		require.NoError(t, err)
		assert.NotContains(t, values, "redis-0", "a master has no lag")
		if assert.Contains(t, values, "redis-1") {
			assert.Less(t, values["redis-1"].Value, 5.0)
		}
	})
	t.Run("only pods asked for", func(t *testing.T) {
		values, err := src.PodValues(ctx, source.ConnectedClients, pods("cache", "redis-1"))
		require.NoError(t, err)
		assert.Equal(t, []string{"redis-1"}, keys(values))
		values, err = src.PodValues(ctx, source.ConnectedClients, pods("other", "redis-0"))
		require.NoError(t, err)
		assert.Empty(t, values, "namespace is part of the selector")
	})
	t.Run("bad query names the metric", func(t *testing.T) {
		bad, err := New(Options{URL: promURL, Queries: map[string]string{source.ConnectedClients: "max by (pod) ("}})
		require.NoError(t, err)
		_, err = bad.PodValues(ctx, source.ConnectedClients, podList)
		require.Error(t, err)
		assert.Contains(t, err.Error(), source.ConnectedClients)
	})
}

// waitScraped waits until Prometheus has scraped n targets successfully.
func waitScraped(t *testing.T, src *Source, n int) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		res, _, _, err := src.api.Query(context.Background(), `count(redis_up == 1)`, time.Now())
		if v, ok := res.(model.Vector); err == nil && ok && len(v) == 1 && int(v[0].Value) == n {
			return
		}
		require.True(t, time.Now().Before(deadline), "prometheus did not scrape %d targets within 30s (last: %v, %v)", n, res, err)
		time.Sleep(200 * time.Millisecond)
	}
}

func assertFresh(t *testing.T, v source.Value) {
	t.Helper()
	age := time.Since(v.Timestamp)
	assert.True(t, age >= -time.Second && age < 5*time.Second, "sample age %s", age)
}

func keys(m map[string]source.Value) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// counterLog samples total_commands_processed, so the rate the load really
// achieved is known over any recent window.
type counterLog struct {
	mu     sync.Mutex
	times  []time.Time
	counts []int64
}

// rateOver is the measured commands/s over the last d.
func (c *counterLog) rateOver(d time.Duration) float64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	last := len(c.times) - 1
	first := last
	for first > 0 && c.times[last].Sub(c.times[first-1]) <= d {
		first--
	}
	return float64(c.counts[last]-c.counts[first]) / c.times[last].Sub(c.times[first]).Seconds()
}

// startLoad sends pipelined INCRs at a steady pace (about 2000/s) until the
// test ends, and samples the server's command counter every 250ms.
func startLoad(t *testing.T, rc *redis.Client) *counterLog {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	t.Cleanup(func() { cancel(); wg.Wait() })
	wg.Add(2)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for ctx.Err() == nil {
			pipe := rc.Pipeline()
			for range 20 {
				pipe.Incr(ctx, "counter")
			}
			_, _ = pipe.Exec(ctx)
			select {
			case <-ctx.Done():
			case <-tick.C:
			}
		}
	}()
	log := &counterLog{}
	sample := func() {
		commands, _, err := redistest.Stats(ctx, rc)
		if err != nil {
			return
		}
		log.mu.Lock()
		log.times = append(log.times, time.Now())
		log.counts = append(log.counts, commands)
		log.mu.Unlock()
	}
	sample()
	go func() {
		defer wg.Done()
		tick := time.NewTicker(250 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				sample()
			}
		}
	}()
	return log
}
