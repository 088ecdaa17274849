package adapter_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/rest"
	"k8s.io/metrics/pkg/client/custom_metrics"
	"k8s.io/utils/ptr"

	"github.com/redis-autoscaler/redis-autoscaler/test/cluster"
	"github.com/redis-autoscaler/redis-autoscaler/test/procstat"
)

// BenchmarkThroughAggregator measures what the HPA pays: a Pods metric
// request through kube-apiserver's aggregator to the adapter, for a
// StatefulSet of n real Redis pods. BENCH_PODS overrides the sizes
// (e.g. "1,50,500"; 500 pods start 500 redis-servers); ADAPTER_BIN runs the
// adapter as its own process (e.g. bin/redis-autoscaler after make build)
// and ADAPTER_INTERVAL sets its scrape interval (tests use 1s). All three
// requests ask for what the HPA controller asks for (protobuf;
// BENCH_CONTENT_TYPE=application/json for the JSON path).
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
			sel, pm := servedPods(ctx, b, e, ns, fmt.Sprintf("bench%d", n), n)
			// Raw bytes through the aggregator as well, to tell the server's
			// share from the client's decoding.
			raw := c.Client.CoreV1().RESTClient().Get().
				AbsPath("/apis/custom.metrics.k8s.io/v1beta2/namespaces", ns, "pods", "*", "redis_ops_per_second").
				Param("labelSelector", sel.String()).
				SetHeader("Accept", hpaContentType())
			// And straight to the adapter (no aggregator), with the admin's
			// client certificate, to tell the adapter's share from the proxy's.
			dc, host := directClient(b, e)
			directURL := host + "/apis/custom.metrics.k8s.io/v1beta2/namespaces/" + ns + "/pods/*/redis_ops_per_second?labelSelector=" + url.QueryEscape(sel.String())
			var lat, rawLat, directLat []time.Duration
			// PROFILE_OUT: a CPU profile of the adapter while the loop runs
			// (the API server library's /debug/pprof, admin credentials).
			// The adapter's background scraping costs CPU too: its idle
			// rate, measured first, is subtracted from the requests' share.
			idle0, idleStart := cpuSeconds(e.pid), time.Now()
			time.Sleep(3 * time.Second)
			idleRate := (cpuSeconds(e.pid) - idle0) / time.Since(idleStart).Seconds()
			profiled := profile(b, dc, host, os.Getenv("PROFILE_OUT"))
			cpu0, loopStart := cpuSeconds(e.pid), time.Now()
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
				req, _ := http.NewRequest(http.MethodGet, directURL, nil)
				req.Header.Set("Accept", hpaContentType())
				resp, err := dc.Do(req)
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
			if e.pid != 0 {
				// Three requests per iteration.
				busy := cpuSeconds(e.pid) - cpu0 - idleRate*time.Since(loopStart).Seconds()
				b.ReportMetric(busy*1000/float64(3*len(lat)), "adapter-cpu-ms/req")
			}
			<-profiled
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

// cpuSeconds is the user and system CPU time of process pid (0 when pid
// is 0: the adapter runs in the test's process).
func cpuSeconds(pid int) float64 {
	if pid == 0 {
		return 0
	}
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// Fields after the command (which may hold spaces): state is the 1st,
	// utime the 12th, stime the 13th.
	f := strings.Fields(string(raw[strings.LastIndexByte(string(raw), ')')+2:]))
	ut, _ := strconv.ParseFloat(f[11], 64)
	st, _ := strconv.ParseFloat(f[12], 64)
	return (ut + st) / 100 // USER_HZ
}

// profile fetches a 10 s CPU profile of the adapter into out when out is
// set; the channel closes when it is written.
func profile(b *testing.B, client *http.Client, host, out string) <-chan struct{} {
	done := make(chan struct{})
	if out == "" {
		close(done)
		return done
	}
	go func() {
		defer close(done)
		resp, err := client.Get(host + "/debug/pprof/profile?seconds=10")
		if err != nil {
			b.Logf("profile: %v", err)
			return
		}
		defer resp.Body.Close()
		f, err := os.Create(out)
		if err != nil {
			b.Logf("profile: %v", err)
			return
		}
		defer f.Close()
		_, _ = io.Copy(f, resp.Body)
	}()
	return done
}

// BenchmarkSustained is 750 HPAs at the default 15 s sync: 50 requests per
// second of a 500-pod query (BENCH_PODS overrides the size) for 60 s
// (SUSTAINED_SECONDS), through the aggregator with the HPA's client;
// reports p50/p99 and the requests that missed their slot.
func BenchmarkSustained(b *testing.B) {
	n := 500
	if s := os.Getenv("BENCH_PODS"); s != "" && !strings.Contains(s, ",") {
		n, _ = strconv.Atoi(s)
	}
	seconds := 60
	if s := os.Getenv("SUSTAINED_SECONDS"); s != "" {
		seconds, _ = strconv.Atoi(s)
	}
	if os.Getenv("SUSTAINED") == "" {
		b.Skip("SUSTAINED=1 runs it (starts hundreds of redis-servers for a minute)")
	}
	e := startAdapterB(b)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	sel, pm := servedPods(ctx, b, e, e.c.Namespace(b, "sustained"), "sustained", n)
	b.ResetTimer()
	for b.Loop() {
		const rate = 50
		total := rate * seconds
		lat := make([]time.Duration, total)
		var wg sync.WaitGroup
		tick := time.NewTicker(time.Second / rate)
		cpu0 := cpuSeconds(e.pid)
		var failed atomic.Int64
		for i := range total {
			<-tick.C
			wg.Add(1)
			go func() {
				defer wg.Done()
				start := time.Now()
				if _, err := pm.GetForObjects(podGK, sel, "redis_ops_per_second", labels.Everything()); err != nil {
					failed.Add(1)
				}
				lat[i] = time.Since(start)
			}()
		}
		tick.Stop()
		wg.Wait()
		sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
		b.ReportMetric(float64(lat[total/2].Microseconds())/1000, "p50-ms")
		b.ReportMetric(float64(lat[total*99/100].Microseconds())/1000, "p99-ms")
		b.ReportMetric(float64(failed.Load()), "failed")
		if e.pid != 0 {
			b.ReportMetric((cpuSeconds(e.pid)-cpu0)*1000/float64(total), "adapter-cpu-ms/req")
		}
	}
}

// BenchmarkMemoryWithUnrelatedPods measures the adapter as its own process
// (ADAPTER_BIN; skipped otherwise) serving a 500-pod StatefulSet while the
// cluster holds UNRELATED_PODS (default 4,500) other pods of two
// containers with labels and annotations: its RSS before and after they
// are created, the KiB each costs, and the peak after 100 requests.
func BenchmarkMemoryWithUnrelatedPods(b *testing.B) {
	if os.Getenv("ADAPTER_BIN") == "" {
		b.Skip("ADAPTER_BIN runs the adapter as its own process, whose RSS this measures")
	}
	unrelated := 4500
	if s := os.Getenv("UNRELATED_PODS"); s != "" {
		unrelated, _ = strconv.Atoi(s)
	}
	const served = 500
	e := startAdapterB(b)
	c := e.c
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	sel, pm := servedPods(ctx, b, e, c.Namespace(b, "memory"), "served", served)
	// RssFile is the binary's pages (clean, shared, reclaimable under
	// pressure); RssAnon is the heap, stacks and runtime: reported apart.
	rss := func() map[string]float64 {
		m, err := procstat.MemoryMiB(e.pid)
		require.NoError(b, err)
		return m
	}
	before := rss()["VmRSS"]

	crowd := c.Namespace(b, "crowd")
	work := make(chan int)
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				_, err := c.Client.CoreV1().Pods(crowd).Create(ctx, unrelatedPod(i), metav1.CreateOptions{})
				if err != nil {
					b.Error(err)
				}
			}
		}()
	}
	for i := range unrelated {
		work <- i
	}
	close(work)
	wg.Wait()
	time.Sleep(10 * time.Second) // the adapter's informer takes them in
	idleMem := rss()
	idle := idleMem["VmRSS"]

	b.ResetTimer()
	for b.Loop() {
		for range 100 {
			_, err := pm.GetForObjects(podGK, sel, "redis_ops_per_second", labels.Everything())
			require.NoError(b, err)
		}
	}
	b.StopTimer()
	peak := rss()["VmHWM"]
	if out := os.Getenv("HEAP_OUT"); out != "" {
		// The adapter's live heap (the API server library's /debug/pprof).
		dc, host := directClient(b, e)
		resp, err := dc.Get(host + "/debug/pprof/heap?gc=1")
		require.NoError(b, err)
		f, err := os.Create(out)
		require.NoError(b, err)
		_, _ = io.Copy(f, resp.Body)
		resp.Body.Close()
		f.Close()
	}
	b.ReportMetric(before, "rss-before-MiB")
	b.ReportMetric(idle, "rss-idle-MiB")
	b.ReportMetric(peak, "peak-rss-MiB")
	b.ReportMetric(idleMem["RssAnon"], "rss-idle-anon-MiB")
	b.ReportMetric(idleMem["RssFile"], "rss-idle-file-MiB")
	b.ReportMetric((idle-before)*1024/float64(unrelated), "KiB/unrelated-pod")
}

// unrelatedPod is a pod as clusters hold them, not Redis.
func unrelatedPod(i int) *corev1.Pod {
	c := func(name string) corev1.Container {
		return corev1.Container{Name: name, Image: "example.com/team/" + name + ":1.2.3",
			Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 8080}},
			Env:   []corev1.EnvVar{{Name: "LOG_LEVEL", Value: "info"}, {Name: "REGION", Value: "eu-west-1"}}}
	}
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("web-%d", i),
			Labels:      map[string]string{"app": "web", "tier": "frontend", "team": "payments"},
			Annotations: map[string]string{"prometheus.io/scrape": "true", "checksum/config": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"}},
		Spec: corev1.PodSpec{Containers: []corev1.Container{c("web"), c("sidecar")}},
	}
}

// servedPods creates a StatefulSet of n Redis pods named name in ns, and an
// HPA on it pinned to n (it only makes the adapter scrape the pods, never
// scales them under a benchmark), and waits until all n are served.
func servedPods(ctx context.Context, b *testing.B, e *env, ns, name string, n int) (labels.Selector, custom_metrics.MetricsInterface) {
	c := e.c
	_, err := c.Client.AppsV1().StatefulSets(ns).Create(ctx, cluster.RedisStatefulSet(name, int32(n)), metav1.CreateOptions{})
	require.NoError(b, err)
	h := hpa(name, podsMetric("redis_ops_per_second", "1k"))
	h.Spec.MinReplicas, h.Spec.MaxReplicas = ptr.To(int32(n)), int32(n)
	_, err = c.Client.AutoscalingV2().HorizontalPodAutoscalers(ns).Create(ctx, h, metav1.CreateOptions{})
	require.NoError(b, err)
	sel := labels.SelectorFromSet(labels.Set{"app": name})
	pm := e.metrics.NamespacedMetrics(ns)
	deadline := time.Now().Add(5 * time.Minute)
	for {
		l, err := pm.GetForObjects(podGK, sel, "redis_ops_per_second", labels.Everything())
		if err == nil && len(l.Items) == n {
			return sel, pm
		}
		require.True(b, time.Now().Before(deadline), "%d pods never all served: %v", n, err)
		time.Sleep(time.Second)
	}
}

// directClient reaches the adapter without the aggregator, with the
// admin's client certificate: to tell the adapter's share from the proxy's,
// and for the API server library's /debug/pprof.
func directClient(b *testing.B, e *env) (*http.Client, string) {
	direct := rest.CopyConfig(e.c.Config)
	direct.Host = fmt.Sprintf("https://127.0.0.1:%d", e.port)
	direct.Insecure, direct.CAData, direct.CAFile = true, nil, ""
	dc, err := rest.HTTPClientFor(direct)
	require.NoError(b, err)
	return dc, direct.Host
}
