package adapter_test

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/rest"

	"github.com/redis-autoscaler/redis-autoscaler/test/cluster"
	"github.com/redis-autoscaler/redis-autoscaler/test/redistest"
)

// Values served through kube-apiserver's aggregator, read with the HPA's own
// client, match what Redis itself reports; the real HPA controller uses them.
func TestServedValuesAndHPA(t *testing.T) {
	e := startAdapter(t)
	c := e.c
	ns := c.Namespace(t, "values")
	ctx := ctxT(t, 4*time.Minute)
	_, err := c.Client.AppsV1().StatefulSets(ns).Create(ctx, cluster.RedisStatefulSet("cache", 2, "--maxmemory", "64mb"), metav1.CreateOptions{})
	require.NoError(t, err)
	_, err = c.Client.AutoscalingV2().HorizontalPodAutoscalers(ns).Create(ctx, hpa("cache",
		podsMetric("redis_ops_per_second", "100"),
		objectMetric("StatefulSet", "apps/v1", "cache", "redis_memory_fraction", "900m"),
	), metav1.CreateOptions{})
	require.NoError(t, err)
	pods := readyPods(t, c, ns, "cache", 2)
	loaded, quiet := podClient(t, pods["cache-0"]), podClient(t, pods["cache-1"])

	// A known dataset on the quiet pod, a known load on the other.
	pipe := quiet.Pipeline()
	for i := 0; i < 2000; i++ {
		pipe.Set(ctx, fmt.Sprintf("k%d", i), strings.Repeat("x", 1000), 0)
	}
	_, err = pipe.Exec(ctx)
	require.NoError(t, err)
	var sent atomic.Int64
	loadCtx, stopLoad := context.WithCancel(ctx)
	defer stopLoad()
	go loadCounting(loadCtx, loaded, 500, &sent)

	sel := labels.SelectorFromSet(labels.Set{"app": "cache"})
	pm := e.metrics.NamespacedMetrics(ns)
	poll(t, time.Minute, "both pods served", func() error {
		l, err := pm.GetForObjects(podGK, sel, "redis_ops_per_second", labels.Everything())
		if err == nil && len(l.Items) != 2 {
			err = fmt.Errorf("%d items", len(l.Items))
		}
		return err
	})

	// Ops/s: once the 10 s window holds only loaded samples, compare with the
	// rate the generator actually achieved.
	time.Sleep(11 * time.Second)
	n0, t0 := sent.Load(), time.Now()
	time.Sleep(5 * time.Second)
	achieved := float64(sent.Load()-n0) / time.Since(t0).Seconds()
	l, err := pm.GetForObjects(podGK, sel, "redis_ops_per_second", labels.Everything())
	require.NoError(t, err)
	served := map[string]float64{}
	for _, it := range l.Items {
		served[it.DescribedObject.Name] = it.Value.AsApproximateFloat64()
		assert.Equal(t, "Pod", it.DescribedObject.Kind)
		require.NotNil(t, it.WindowSeconds)
	}
	t.Logf("ops/s: generator %.1f, served %.1f (cache-1 %.2f)", achieved, served["cache-0"], served["cache-1"])
	assert.InEpsilon(t, achieved, served["cache-0"], 0.10, "ops/s within 10%% of the load")
	assert.Less(t, served["cache-1"], 5.0)

	// The StatefulSet's ops/s is the sum over its pods.
	obj, err := pm.GetForObject(stsGK, "cache", "redis_ops_per_second", labels.Everything())
	require.NoError(t, err)
	assert.InEpsilon(t, served["cache-0"]+served["cache-1"], obj.Value.AsApproximateFloat64(), 0.15)

	// Memory fraction: used_memory / maxmemory as Redis reports it.
	want := redistest.InfoFloat(t, quiet, "memory", "used_memory") / redistest.InfoFloat(t, quiet, "memory", "maxmemory")
	v, err := pm.GetForObject(podGK, "cache-1", "redis_memory_fraction", labels.Everything())
	require.NoError(t, err)
	t.Logf("memory fraction: redis %.4f, served %.4f", want, v.Value.AsApproximateFloat64())
	assert.InEpsilon(t, want, v.Value.AsApproximateFloat64(), 0.05)
	obj, err = pm.GetForObject(stsGK, "cache", "redis_memory_fraction", labels.Everything())
	require.NoError(t, err)
	assert.InEpsilon(t, want, obj.Value.AsApproximateFloat64(), 0.05, "object: the maximum over pods")

	// Unknown metric: NotFound. A selector matching nothing: an empty list.
	_, err = pm.GetForObjects(podGK, sel, "redis_nope", labels.Everything())
	assert.True(t, apierrors.IsNotFound(err), "unknown metric: %v", err)
	empty, err := pm.GetForObjects(podGK, labels.SelectorFromSet(labels.Set{"app": "none"}), "redis_ops_per_second", labels.Everything())
	require.NoError(t, err)
	assert.Empty(t, empty.Items)

	// The real HPA controller reads the same values: average ops/s of 2 pods
	// against a target of 100 per pod wants more than the maximum, 4.
	var got *autoscalingv2.HorizontalPodAutoscaler
	poll(t, time.Minute, "HPA uses our metrics", func() error {
		got, err = c.Client.AutoscalingV2().HorizontalPodAutoscalers(ns).Get(ctx, "cache", metav1.GetOptions{})
		if err == nil && (len(got.Status.CurrentMetrics) != 2 || got.Status.DesiredReplicas != 4) {
			err = fmt.Errorf("desired %d, current metrics %d, conditions %v", got.Status.DesiredReplicas, len(got.Status.CurrentMetrics), got.Status.Conditions)
		}
		return err
	})
	for _, m := range got.Status.CurrentMetrics {
		switch m.Type {
		case autoscalingv2.PodsMetricSourceType:
			avg := m.Pods.Current.AverageValue.AsApproximateFloat64()
			t.Logf("HPA currentMetrics pods average %.1f", avg)
			assert.InEpsilon(t, achieved/float64(got.Status.CurrentReplicas), avg, 0.25)
		case autoscalingv2.ObjectMetricSourceType:
			assert.InEpsilon(t, want, m.Object.Current.Value.AsApproximateFloat64(), 0.1)
		}
	}
}

// A slow Lua script raises the response time of the pod it runs on.
func TestResponseTimeRisesWithSlowScript(t *testing.T) {
	e := startAdapter(t)
	c := e.c
	ns := c.Namespace(t, "slow")
	ctx := ctxT(t, 3*time.Minute)
	_, err := c.Client.AppsV1().StatefulSets(ns).Create(ctx, cluster.RedisStatefulSet("slow", 1), metav1.CreateOptions{})
	require.NoError(t, err)
	_, err = c.Client.AutoscalingV2().HorizontalPodAutoscalers(ns).Create(ctx, hpa("slow",
		podsMetric("redis_response_time_seconds", "1")), metav1.CreateOptions{})
	require.NoError(t, err)
	pods := readyPods(t, c, ns, "slow", 1)
	rc := podClient(t, pods["slow-0"])
	pm := e.metrics.NamespacedMetrics(ns)

	var before float64
	require.Eventually(t, func() bool {
		v, err := pm.GetForObject(podGK, "slow-0", "redis_response_time_seconds", labels.Everything())
		if err != nil {
			return false
		}
		before = v.Value.AsApproximateFloat64()
		return true
	}, time.Minute, 500*time.Millisecond)
	assert.Less(t, before, 0.02, "an idle Redis answers fast")

	slowCtx, stop := context.WithCancel(ctx)
	defer stop()
	go func() {
		// Back-to-back scripts that each hold Redis for tens of milliseconds.
		for slowCtx.Err() == nil {
			rc.Eval(slowCtx, "local i = 0 while i < 10000000 do i = i + 1 end return i", nil)
		}
	}()
	var after float64
	poll(t, 30*time.Second, "response time rises", func() error {
		v, err := pm.GetForObject(podGK, "slow-0", "redis_response_time_seconds", labels.Everything())
		if err != nil {
			return err
		}
		if after = v.Value.AsApproximateFloat64(); after <= 0.02 {
			return fmt.Errorf("response time %.4fs", after)
		}
		return nil
	})
	t.Logf("response time p99: idle %.4fs, under slow scripts %.4fs", before, after)
}

func loadCounting(ctx context.Context, rc *redis.Client, rate int, sent *atomic.Int64) {
	const tick = 20 * time.Millisecond
	batch := rate * int(tick) / int(time.Second)
	tk := time.NewTicker(tick)
	defer tk.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tk.C:
			pipe := rc.Pipeline()
			for i := 0; i < batch; i++ {
				pipe.Incr(ctx, "load")
			}
			if _, err := pipe.Exec(ctx); err == nil {
				sent.Add(int64(batch))
			}
		}
	}
}

// The adapter's own /metrics (on its secure port, behind delegated authn
// and authz) reports requests, scrape errors and the age of served values.
func TestOwnMetrics(t *testing.T) {
	e := startAdapter(t)
	ns := e.c.Namespace(t, "own")
	// One request so the request histogram has a series.
	_, _ = e.metrics.NamespacedMetrics(ns).GetForObjects(podGK, labels.Everything(), "redis_ops_per_second", labels.Everything())
	cfg := rest.CopyConfig(e.c.Config)
	cfg.Host = fmt.Sprintf("https://127.0.0.1:%d", e.port)
	cfg.Insecure, cfg.CAData, cfg.CAFile = true, nil, "" // the serving cert is the test's own
	client, err := rest.HTTPClientFor(cfg)
	require.NoError(t, err)
	resp, err := client.Get(cfg.Host + "/metrics")
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, 200, resp.StatusCode, string(body))
	for _, name := range []string{
		"redis_autoscaler_adapter_request_duration_seconds",
		"redis_autoscaler_adapter_scrapes_total",
		"redis_autoscaler_adapter_scraped_pods",
		"redis_autoscaler_adapter_value_age_seconds",
	} {
		assert.Contains(t, string(body), name)
	}
}
