package exporter

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/redis-autoscaler/redis-autoscaler/test/procstat"
	"github.com/redis-autoscaler/redis-autoscaler/test/redistest"
)

// loadRedis gives a server a realistic INFO: many keys in several DBs and a
// spread of commands in commandstats and latencystats.
func loadRedis(b *testing.B, srv *redistest.Server) {
	ctx := context.Background()
	rc := srv.Client(b)
	for db := 0; db < 4; db++ {
		pipe := rc.Pipeline()
		pipe.Do(ctx, "SELECT", db)
		for i := 0; i < 20000; i++ {
			k := fmt.Sprintf("key:%d", i)
			pipe.Set(ctx, k, strings.Repeat("v", 32), 0)
			pipe.Get(ctx, k)
			pipe.HSet(ctx, "h:"+k, "f", i)
			pipe.LPush(ctx, "l:"+strconv.Itoa(i%100), i)
			pipe.SAdd(ctx, "s:"+strconv.Itoa(i%100), i)
			pipe.ZAdd(ctx, "z", redisZ(i))
			pipe.Incr(ctx, "counter")
			if i%10 == 0 {
				pipe.Expire(ctx, k, time.Hour)
				pipe.Exists(ctx, k)
				pipe.MGet(ctx, k, "missing")
			}
		}
		_, err := pipe.Exec(ctx)
		require.NoError(b, err)
	}
}

// BenchmarkMetricsEndToEnd is one full /metrics request over HTTP against one
// loaded local Redis, Go and process metrics included, as Prometheus sees it.
// It also reports what each scrape cost Redis, counted by Redis itself.
func BenchmarkMetricsEndToEnd(b *testing.B) {
	srv := redistest.Start(b)
	loadRedis(b, srv)
	base := startBenchExporter(b, "--redis.addr", srv.URL())
	client := &http.Client{}
	get := func() {
		resp, err := client.Get(base + "/metrics")
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	get() // the first scrape dials
	ctx := context.Background()
	admin := srv.Client(b)
	cmds0, conns0, err := redistest.Stats(ctx, admin)
	require.NoError(b, err)
	n := 0
	b.ResetTimer()
	for b.Loop() {
		get()
		n++
	}
	b.StopTimer()
	cmds1, conns1, err := redistest.Stats(ctx, admin)
	require.NoError(b, err)
	// Minus the admin's own INFO stats.
	b.ReportMetric(float64(cmds1-cmds0-1)/float64(n), "redis-cmds/scrape")
	b.ReportMetric(float64(conns1-conns0)/float64(n), "redis-conns/scrape")
}

// BenchmarkScrape200Targets scrapes 200 local redis-servers in one /metrics
// request and reports the process' peak RSS.
func BenchmarkScrape200Targets(b *testing.B) {
	const n = 200
	args := make([]string, 0, 2*n)
	for i := 0; i < n; i++ {
		srv := redistest.Start(b, "--maxmemory", "64mb")
		args = append(args, "--redis.addr", srv.URL())
	}
	base := startBenchExporter(b, args...)
	up := 0
	b.ResetTimer()
	for b.Loop() {
		resp, err := http.Get(base + "/metrics")
		if err != nil {
			b.Fatal(err)
		}
		up = 0
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), "redis_up{") && strings.HasSuffix(sc.Text(), " 1") {
				up++
			}
		}
		resp.Body.Close()
	}
	b.StopTimer()
	if up != n {
		b.Fatalf("%d of %d targets up", up, n)
	}
	b.ReportMetric(peakRSSMiB(), "peak-RSS-MiB")
}

func startBenchExporter(b *testing.B, args ...string) string {
	cfg, err := ParseFlags(append([]string{"--web.listen-address", "127.0.0.1:0"}, args...), func(string) string { return "" }, io.Discard)
	require.NoError(b, err)
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() { done <- Run(ctx, cfg, slog.New(slog.DiscardHandler), ready) }()
	b.Cleanup(func() { cancel(); <-done })
	select {
	case addr := <-ready:
		return "http://" + addr
	case err := <-done:
		b.Fatalf("exporter exited: %v", err)
	}
	return ""
}

// peakRSSMiB reads VmHWM, this process' peak resident set; the benchmark
// runs the exporter in-process, so this is an upper bound of its own.
func peakRSSMiB() float64 {
	m, _ := procstat.MemoryMiB(0)
	return m["VmHWM"]
}

func redisZ(i int) redis.Z { return redis.Z{Score: float64(i), Member: i} }
