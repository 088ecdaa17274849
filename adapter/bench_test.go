package adapter_test

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/rest"

	"github.com/redis-autoscaler/redis-autoscaler/test/cluster"
)

// BenchmarkThroughAggregator measures what the HPA pays: a Pods metric
// request through kube-apiserver's aggregator to the adapter, for a
// StatefulSet of n real Redis pods. BENCH_PODS overrides the sizes
// (e.g. "1,50,500"; 500 pods start 500 redis-servers); ADAPTER_BIN runs the
// adapter as its own process (e.g. bin/redis-autoscaler after make build)
// and ADAPTER_INTERVAL sets its scrape interval (tests use 1s).
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
			sts := cluster.RedisStatefulSet(name, int32(n))
			_, err := c.Client.AppsV1().StatefulSets(ns).Create(ctx, sts, metav1.CreateOptions{})
			require.NoError(b, err)
			// The HPA only makes the adapter scrape the pods; pinned to n so
			// it does not scale the StatefulSet under the benchmark.
			h := hpa(name, podsMetric("redis_ops_per_second", "1k"))
			h.Spec.MinReplicas, h.Spec.MaxReplicas = ptr(int32(n)), int32(n)
			_, err = c.Client.AutoscalingV2().HorizontalPodAutoscalers(ns).Create(ctx, h, metav1.CreateOptions{})
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
			// Raw bytes through the aggregator as well, to tell the server's
			// share from the client's decoding.
			raw := c.Client.CoreV1().RESTClient().Get().
				AbsPath("/apis/custom.metrics.k8s.io/v1beta2/namespaces", ns, "pods", "*", "redis_ops_per_second").
				Param("labelSelector", sel.String())
			// And straight to the adapter (no aggregator), with the admin's
			// client certificate, to tell the adapter's share from the proxy's.
			direct := rest.CopyConfig(c.Config)
			direct.Host = fmt.Sprintf("https://127.0.0.1:%d", e.port)
			direct.Insecure, direct.CAData, direct.CAFile = true, nil, ""
			dc, err := rest.HTTPClientFor(direct)
			require.NoError(b, err)
			directURL := direct.Host + "/apis/custom.metrics.k8s.io/v1beta2/namespaces/" + ns + "/pods/*/redis_ops_per_second?labelSelector=" + url.QueryEscape(sel.String())
			var lat, rawLat, directLat []time.Duration
			b.ResetTimer()
			for b.Loop() {
				start := time.Now()
				if _, err := pm.GetForObjects(podGK, sel, "redis_ops_per_second", labels.Everything()); err != nil {
					b.Fatal(err)
				}
				lat = append(lat, time.Since(start))
				start = time.Now()
				if _, err := raw.DoRaw(ctx); err != nil {
					b.Fatal(err)
				}
				rawLat = append(rawLat, time.Since(start))
				start = time.Now()
				resp, err := dc.Get(directURL)
				if err != nil {
					b.Fatal(err)
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					b.Fatalf("direct: %s", resp.Status)
				}
				directLat = append(directLat, time.Since(start))
			}
			b.StopTimer()
			report := func(d []time.Duration, unit string) {
				sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
				b.ReportMetric(float64(d[len(d)/2].Microseconds())/1000, "p50-"+unit)
				b.ReportMetric(float64(d[len(d)*99/100].Microseconds())/1000, "p99-"+unit)
			}
			report(lat, "ms")
			report(rawLat, "raw-ms")
			report(directLat, "direct-ms")
		})
	}
}

func ptr[T any](v T) *T { return &v }
