package collector

import (
	"context"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/redis-autoscaler/redis-autoscaler/exporter/engine"
	"github.com/redis-autoscaler/redis-autoscaler/exporter/target"
	"github.com/redis-autoscaler/redis-autoscaler/test/redistest"
)

func mustTarget(t *testing.T, addr string) target.Target {
	t.Helper()
	tg, err := target.Parse(addr)
	require.NoError(t, err)
	return tg
}

func newCollector(t *testing.T, opts Options, targets ...target.Target) *Collector {
	t.Helper()
	pool := engine.NewPool(nil, opts.Timeout)
	t.Cleanup(pool.Close)
	return New(func() []target.Target { return targets }, pool, opts)
}

// gather scrapes once and returns the metric families by name.
func gather(t *testing.T, c prometheus.Collector) map[string]*dto.MetricFamily {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	require.NoError(t, reg.Register(c))
	mfs, err := reg.Gather()
	require.NoError(t, err)
	out := map[string]*dto.MetricFamily{}
	for _, mf := range mfs {
		out[mf.GetName()] = mf
	}
	return out
}

// value returns the value of the series of name whose labels include want.
func value(t *testing.T, mfs map[string]*dto.MetricFamily, name string, want map[string]string) (float64, bool) {
	t.Helper()
	mf, ok := mfs[name]
	if !ok {
		return 0, false
	}
next:
	for _, m := range mf.GetMetric() {
		labels := map[string]string{}
		for _, l := range m.GetLabel() {
			labels[l.GetName()] = l.GetValue()
		}
		for k, v := range want {
			if labels[k] != v {
				continue next
			}
		}
		switch {
		case m.Gauge != nil:
			return m.GetGauge().GetValue(), true
		case m.Counter != nil:
			return m.GetCounter().GetValue(), true
		case m.Histogram != nil:
			return float64(m.GetHistogram().GetSampleCount()), true
		case m.Summary != nil:
			return float64(m.GetSummary().GetSampleCount()), true
		}
	}
	return 0, false
}

func TestStandalone(t *testing.T) {
	srv := redistest.Start(t, "--maxmemory", "10mb", "--maxclients", "500")
	rc := srv.Client(t)
	ctx := context.Background()
	for db := 0; db < 3; db++ {
		require.NoError(t, rc.Do(ctx, "SELECT", db).Err())
		for i := 0; i <= db; i++ {
			require.NoError(t, rc.Do(ctx, "SET", fmt.Sprintf("k%d", i), "v", "EX", 1000).Err())
		}
	}
	tg := mustTarget(t, srv.URL())
	c := newCollector(t, Options{}, tg)
	mfs := gather(t, c)
	addr := map[string]string{"addr": srv.URL()}

	v, ok := value(t, mfs, "redis_up", addr)
	require.True(t, ok)
	assert.Equal(t, 1.0, v)
	for db, keys := range map[string]float64{"db0": 1, "db1": 2, "db2": 3} {
		v, ok := value(t, mfs, "redis_db_keys", map[string]string{"db": db})
		assert.True(t, ok, db)
		assert.Equal(t, keys, v, db)
	}
	maxclients, ok := value(t, mfs, "redis_config_maxclients", nil)
	assert.True(t, ok, "maxclients from INFO clients")
	assert.Equal(t, 500.0, maxclients)
	maxmem, _ := value(t, mfs, "redis_memory_max_bytes", nil)
	assert.Equal(t, 10.0*1024*1024, maxmem)
	used, _ := value(t, mfs, "redis_memory_used_bytes", nil)
	frac, ok := value(t, mfs, "redis_memory_fraction", nil)
	require.True(t, ok)
	assert.InDelta(t, used/maxmem, frac, 1e-9)
	_, ok = value(t, mfs, "redis_instance_info", map[string]string{"role": "master", "redis_version": "7.0.15"})
	assert.True(t, ok, "instance_info with role and version")
	calls, ok := value(t, mfs, "redis_commands_total", map[string]string{"cmd": "set"})
	assert.True(t, ok)
	assert.Equal(t, 6.0, calls)
	n, ok := value(t, mfs, "redis_command_latency_seconds", map[string]string{"cmd": "set"})
	assert.True(t, ok, "latencystats summary on Redis 7")
	assert.Equal(t, 6.0, n)
	n, ok = value(t, mfs, "redis_probe_rtt_seconds", nil)
	assert.True(t, ok)
	assert.Equal(t, 1.0, n)
	_, ok = value(t, mfs, "redis_ops_per_second", nil)
	assert.True(t, ok)

	problems, err := testutil.CollectAndLint(c)
	require.NoError(t, err)
	for _, f := range loadRedisExporterFamilies(t) {
		redisExporterNames["redis_"+f.family] = true
	}
	for _, p := range problems {
		// redis_exporter's names, kept so its dashboards and alerts work.
		if !redisExporterNames[p.Metric] {
			t.Errorf("lint: %s: %s", p.Metric, p.Text)
		}
	}
}

func TestMaxmemoryUnsetHasNoFraction(t *testing.T) {
	srv := redistest.Start(t)
	mfs := gather(t, newCollector(t, Options{}, mustTarget(t, srv.URL())))
	_, ok := value(t, mfs, "redis_memory_fraction", nil)
	assert.False(t, ok, "memory_fraction must be absent when maxmemory is 0")
	v, _ := value(t, mfs, "redis_memory_max_bytes", nil)
	assert.Equal(t, 0.0, v)
}

func TestOpsPerSecondFollowsLoad(t *testing.T) {
	srv := redistest.Start(t)
	rc := srv.Client(t)
	ctx := context.Background()
	c := newCollector(t, Options{}, mustTarget(t, srv.URL()))
	c.Scrape(ctx)
	start := time.Now()
	// A known number of commands between two scrapes: the rate must be
	// that number over the elapsed time, not counting the exporter's INFO.
	const n = 3000
	pipe := rc.Pipeline()
	for i := 0; i < n; i++ {
		pipe.Incr(ctx, "counter")
	}
	_, err := pipe.Exec(ctx)
	require.NoError(t, err)
	time.Sleep(1100 * time.Millisecond)
	res := c.Scrape(ctx)
	elapsed := time.Since(start)
	require.NoError(t, res.Results[0].Err)
	require.True(t, res.Results[0].HasOpsPerSecond)
	want := n / elapsed.Seconds()
	assert.InEpsilon(t, want, res.Results[0].OpsPerSecond, 0.1)
}

func TestReplication(t *testing.T) {
	master := redistest.Start(t)
	replicaArgs := []string{"--replicaof", master.Host, fmt.Sprint(master.Port), "--repl-diskless-sync-delay", "0"}
	r1 := redistest.Start(t, replicaArgs...)
	r2 := redistest.Start(t, replicaArgs...)
	ctx := context.Background()
	mc := master.Client(t)
	require.NoError(t, mc.Set(ctx, "k", "v", 0).Err())
	waitSynced(t, r1, r2)

	c := newCollector(t, Options{}, mustTarget(t, master.URL()), mustTarget(t, r1.URL()), mustTarget(t, r2.URL()))
	mfs := gather(t, c)
	slaves, _ := value(t, mfs, "redis_connected_slaves", map[string]string{"addr": master.URL()})
	assert.Equal(t, 2.0, slaves)
	for _, r := range []*redistest.Server{r1, r2} {
		up, ok := value(t, mfs, "redis_master_link_up", map[string]string{"addr": r.URL()})
		assert.True(t, ok)
		assert.Equal(t, 1.0, up)
		lag, ok := value(t, mfs, "redis_replication_lag_bytes", map[string]string{"addr": r.URL()})
		assert.True(t, ok, "lag bytes on replica %s", r.URL())
		assert.Equal(t, 0.0, lag)
		_, ok = value(t, mfs, "redis_replication_lag_seconds", map[string]string{"addr": r.URL()})
		assert.True(t, ok)
		_, ok = value(t, mfs, "redis_connected_slave_offset_bytes", map[string]string{"addr": master.URL(), "slave_port": fmt.Sprint(r.Port)})
		assert.True(t, ok)
	}
	_, ok := value(t, mfs, "redis_replication_lag_bytes", map[string]string{"addr": master.URL()})
	assert.False(t, ok, "no replica lag on the master")

	// The replica alone: its master is looked up to compute lag. Writes on
	// the master while the replica is paused show up as lag in bytes.
	require.NoError(t, r1.Client(t).Do(ctx, "DEBUG", "SLEEP", "0").Err())
	only := newCollector(t, Options{}, mustTarget(t, r1.URL()))
	mfs = gather(t, only)
	lag, ok := value(t, mfs, "redis_replication_lag_bytes", nil)
	assert.True(t, ok, "lag computed from the master looked up by address")
	assert.Equal(t, 0.0, lag)

	// A link that is down reports how long it has been down.
	master.Stop()
	time.Sleep(1500 * time.Millisecond)
	mfs = gather(t, only)
	up, _ := value(t, mfs, "redis_master_link_up", nil)
	assert.Equal(t, 0.0, up)
	secs, ok := value(t, mfs, "redis_replication_lag_seconds", nil)
	assert.True(t, ok)
	assert.GreaterOrEqual(t, secs, 1.0)
}

// Replicas that announce the same address (as behind NAT) must not make
// the master's scrape invalid: one series per address, nothing lost else.
func TestReplicasAnnouncingOneAddress(t *testing.T) {
	master := redistest.Start(t)
	args := []string{"--replicaof", master.Host, fmt.Sprint(master.Port), "--repl-diskless-sync-delay", "0",
		"--replica-announce-ip", "10.9.9.9", "--replica-announce-port", "7000"}
	r1 := redistest.Start(t, args...)
	r2 := redistest.Start(t, args...)
	waitSynced(t, r1, r2)
	c := newCollector(t, Options{}, mustTarget(t, master.URL()))
	mfs := gather(t, c) // fails on an invalid scrape
	slaves, _ := value(t, mfs, "redis_connected_slaves", nil)
	assert.Equal(t, 2.0, slaves)
	require.Contains(t, mfs, "redis_connected_slave_offset_bytes")
	assert.Len(t, mfs["redis_connected_slave_offset_bytes"].Metric, 1)
}

func waitSynced(t *testing.T, replicas ...*redistest.Server) {
	t.Helper()
	for _, r := range replicas {
		rc := r.Client(t)
		require.Eventually(t, func() bool {
			s, err := rc.Info(context.Background(), "replication").Result()
			return err == nil && strings.Contains(s, "master_link_status:up") && strings.Contains(s, "master_sync_in_progress:0")
		}, 15*time.Second, 50*time.Millisecond, "replica %s never synced", r.URL())
	}
}

func TestBadTargetsDoNotDelayGoodOnes(t *testing.T) {
	good := redistest.Start(t)
	// Down: a port nobody listens on.
	downPort, err := redistest.FreePort()
	require.NoError(t, err)
	// Silent: accepts connections and never answers.
	silent := listen(t, func(c net.Conn) { time.Sleep(time.Minute); c.Close() })
	// Garbage: answers anything with bytes that are not RESP.
	garbage := listen(t, func(c net.Conn) {
		buf := make([]byte, 1024)
		_, _ = c.Read(buf)
		_, _ = c.Write([]byte("HTTP/1.1 400 Bad Request\r\n\r\n<html>"))
		time.Sleep(100 * time.Millisecond)
		c.Close()
	})
	// Speaks RESP but is not Redis INFO.
	notInfo := listen(t, func(c net.Conn) {
		buf := make([]byte, 1024)
		for {
			if _, err := c.Read(buf); err != nil {
				return
			}
			_, _ = c.Write([]byte("$5\r\nhello\r\n"))
		}
	})

	targets := []target.Target{
		mustTarget(t, good.URL()),
		mustTarget(t, fmt.Sprintf("127.0.0.1:%d", downPort)),
		mustTarget(t, silent),
		mustTarget(t, garbage),
		mustTarget(t, notInfo),
	}
	c := newCollector(t, Options{Timeout: 500 * time.Millisecond}, targets...)
	res := c.Scrape(context.Background())
	require.Len(t, res.Results, len(targets))
	assert.NoError(t, res.Results[0].Err)
	for _, r := range res.Results[1:] {
		assert.Error(t, r.Err, r.Target.String())
		// Each failure is bounded by its own timeout, never the sum of them.
		assert.Less(t, r.Duration, 2*time.Second, r.Target.String())
	}
	assert.Contains(t, res.Results[2].Err.Error(), "timeout")

	mfs := gather(t, res)
	for i, want := range []float64{1, 0, 0, 0, 0} {
		up, ok := value(t, mfs, "redis_up", map[string]string{"addr": targets[i].String()})
		assert.True(t, ok)
		assert.Equal(t, want, up, targets[i].String())
	}
}

// listen serves handle on a loopback port for the test's lifetime and
// returns its address.
func listen(t *testing.T, handle func(net.Conn)) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go handle(c)
		}
	}()
	return l.Addr().String()
}

// redisExporterNames fail a lint rule but are redis_exporter's names, kept on
// purpose (with every family of testdata/redis_exporter_info.tsv); nothing
// else may fail it.
var redisExporterNames = map[string]bool{
	"redis_aof_current_rewrite_duration_sec": true,
	"redis_aof_last_rewrite_duration_sec":    true,
	"redis_rdb_current_bgsave_duration_sec":  true,
	"redis_rdb_last_bgsave_duration_sec":     true,
}
