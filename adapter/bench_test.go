package adapter_test

import (
	"context"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// BenchmarkThroughAggregator measures what the HPA pays: a Pods metric
// request through kube-apiserver's aggregator to the adapter, for a
// StatefulSet of n real Redis pods. BENCH_PODS overrides the sizes
// (e.g. "1,50,500"; 500 pods start 500 redis-servers).
func BenchmarkThroughAggregator(b *testing.B) {
	sizes := []int{1, 50}
	if s := os.Getenv("BENCH_PODS"); s != "" {
		sizes = nil
		for _, f := range strings.Split(s, ",") {
			n, err := strconv.Atoi(f)
			require.NoError(b, err)
			sizes = append(sizes, n)
		}
	}
	for _, n := range sizes {
		b.Run(fmt.Sprintf("pods=%d", n), func(b *testing.B) {
			e := startAdapterB(b)
			c := e.c
			ns := c.Namespace(b, "bench")
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
			defer cancel()
			name := fmt.Sprintf("bench%d", n)
			sts := redisStatefulSet(name, int32(n))
			sts.Spec.PodManagementPolicy = "Parallel"
			_, err := c.Client.AppsV1().StatefulSets(ns).Create(ctx, sts, metav1.CreateOptions{})
			require.NoError(b, err)
			_, err = c.Client.AutoscalingV2().HorizontalPodAutoscalers(ns).Create(ctx, hpa(name, podsMetric("redis_ops_per_second", "1k")), metav1.CreateOptions{})
			require.NoError(b, err)
			sel := labels.SelectorFromSet(labels.Set{"app": name})
			pm := e.metrics.NamespacedMetrics(ns)
			deadline := time.Now().Add(5 * time.Minute)
			for {
				l, err := pm.GetForObjects(podGK, sel, "redis_ops_per_second", labels.Everything())
				if err == nil && len(l.Items) == n {
					break
				}
				if time.Now().After(deadline) {
					b.Fatalf("%d pods never all served: %v", n, err)
				}
				time.Sleep(time.Second)
			}
			var lat []time.Duration
			b.ResetTimer()
			for b.Loop() {
				start := time.Now()
				if _, err := pm.GetForObjects(podGK, sel, "redis_ops_per_second", labels.Everything()); err != nil {
					b.Fatal(err)
				}
				lat = append(lat, time.Since(start))
			}
			b.StopTimer()
			sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
		})
	}
}

