package scaler_test

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/redis-autoscaler/redis-autoscaler/test/redistest"
)

// BenchmarkClusterResharding measures what a cluster client sees while the
// scaler reshards under it, against the same client at steady state: 3
// shards × 1 replica holding BENCH_KEYS-sized data (100k keys of 100
// bytes), a ClusterWriter (SET + WAIT 1, one at a time) running
// throughout, `kubectl scale` to 4 shards. Reported: the writes' p50 and
// p99 latency at steady state and during the resharding, and the
// migration's keys/s and MB/s (the scaler's own counters over the time
// the migration took: while slots were pending).
func BenchmarkClusterResharding(b *testing.B) {
	for range b.N {
		benchResharding(b)
	}
}

func benchResharding(b *testing.B) {
	b.StopTimer()
	e := newEnv(b, "rcluster-bench")
	e.startScaler(nil)
	e.createCluster("rc", 3, 1)
	addrs := e.waitClusterBalanced("rc", 3, 1, 90*time.Second)
	const keys = 100_000
	preload(b, addrs, "pre:", keys, strings.Repeat("v", 100))
	w := redistest.StartClusterWriter(&redis.ClusterOptions{Addrs: addrs}, "w:", time.Second)
	defer w.Finish()
	time.Sleep(5 * time.Second)
	steady := w.Latencies()

	keys0, bytes0 := counter(b, e.metrics, "redis_autoscaler_cluster_keys_moved_total"), counter(b, e.metrics, "redis_autoscaler_cluster_bytes_moved_total")
	// The migration's own window: while the scaler reports slots pending
	// (pod start, meet and attach come before it).
	var first, last time.Time
	stopWatch := make(chan struct{})
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		for {
			select {
			case <-stopWatch:
				return
			case <-time.After(10 * time.Millisecond):
			}
			if gauge(b, e.metrics, "redis_autoscaler_cluster_migrations_pending") > 0 {
				if first.IsZero() {
					first = time.Now()
				}
				last = time.Now()
			}
		}
	}()
	start := time.Now()
	b.StartTimer()
	e.scaleCluster("rc", 4)
	e.waitClusterBalanced("rc", 4, 1, 5*time.Minute)
	b.StopTimer()
	took := time.Since(start)
	close(stopWatch)
	<-watched
	during := w.Latencies()
	moved, bytes := counter(b, e.metrics, "redis_autoscaler_cluster_keys_moved_total")-keys0, counter(b, e.metrics, "redis_autoscaler_cluster_bytes_moved_total")-bytes0
	migrating := last.Sub(first) + 10*time.Millisecond
	b.ReportMetric(float64(redistest.Percentile(steady, 0.5).Microseconds())/1000, "steady-p50-ms")
	b.ReportMetric(float64(redistest.Percentile(steady, 0.99).Microseconds())/1000, "steady-p99-ms")
	b.ReportMetric(float64(redistest.Percentile(during, 0.5).Microseconds())/1000, "reshard-p50-ms")
	b.ReportMetric(float64(redistest.Percentile(during, 0.99).Microseconds())/1000, "reshard-p99-ms")
	b.ReportMetric(moved/migrating.Seconds(), "keys/s")
	b.ReportMetric(bytes/migrating.Seconds()/1e6, "MB/s")
	b.ReportMetric(migrating.Seconds(), "migrating-s")
	b.ReportMetric(took.Seconds(), "scale-to-balanced-s")
}

// counter sums a counter of the in-process scaler's registry.
func counter(b *testing.B, reg prometheus.Gatherer, name string) float64 {
	return sumMetric(b, reg, name)
}

// gauge sums a gauge of the in-process scaler's registry.
func gauge(b *testing.B, reg prometheus.Gatherer, name string) float64 {
	return sumMetric(b, reg, name)
}

func sumMetric(b *testing.B, reg prometheus.Gatherer, name string) float64 {
	mfs, err := reg.Gather()
	if err != nil {
		b.Fatal(err)
	}
	sum := 0.0
	for _, mf := range mfs {
		if mf.GetName() == name {
			for _, m := range mf.GetMetric() {
				sum += m.GetCounter().GetValue() + m.GetGauge().GetValue()
			}
		}
	}
	return sum
}
