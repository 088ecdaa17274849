package scaler_test

import (
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/redis-autoscaler/redis-autoscaler/test/redistest"
)

// BenchmarkClusterResharding measures what a cluster client sees while the
// scaler reshards under it, against the same client at steady state: 3
// shards × 1 replica holding BENCH_KEYS-sized data (100k keys of 100
// bytes), a ClusterWriter (SET + WAIT 1, one at a time) running
// throughout, `kubectl scale` to 4 shards. Reported: the writes' p50 and
// p99 latency at steady state and during the resharding, and the
// migration's keys/s and MB/s (the scaler's own counters over the time
// the resharding took).
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

	keys0, bytes0 := counter(b, "redis_autoscaler_cluster_keys_moved_total"), counter(b, "redis_autoscaler_cluster_bytes_moved_total")
	start := time.Now()
	b.StartTimer()
	e.scaleCluster("rc", 4)
	e.waitClusterBalanced("rc", 4, 1, 5*time.Minute)
	b.StopTimer()
	took := time.Since(start)
	during := w.Latencies()
	moved, bytes := counter(b, "redis_autoscaler_cluster_keys_moved_total")-keys0, counter(b, "redis_autoscaler_cluster_bytes_moved_total")-bytes0
	b.ReportMetric(float64(redistest.Percentile(steady, 0.5).Microseconds())/1000, "steady-p50-ms")
	b.ReportMetric(float64(redistest.Percentile(steady, 0.99).Microseconds())/1000, "steady-p99-ms")
	b.ReportMetric(float64(redistest.Percentile(during, 0.5).Microseconds())/1000, "reshard-p50-ms")
	b.ReportMetric(float64(redistest.Percentile(during, 0.99).Microseconds())/1000, "reshard-p99-ms")
	b.ReportMetric(moved/took.Seconds(), "keys/s")
	b.ReportMetric(bytes/took.Seconds()/1e6, "MB/s")
	b.ReportMetric(took.Seconds(), "reshard-s")
}

// counter sums a counter of the in-process scaler's registry.
func counter(b *testing.B, name string) float64 {
	mfs, err := ctrlmetrics.Registry.Gather()
	if err != nil {
		b.Fatal(err)
	}
	sum := 0.0
	for _, mf := range mfs {
		if mf.GetName() == name {
			for _, m := range mf.GetMetric() {
				sum += m.GetCounter().GetValue()
			}
		}
	}
	return sum
}
