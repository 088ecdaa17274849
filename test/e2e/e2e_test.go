package e2e_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/redis-autoscaler/redis-autoscaler/dashboards"
	"github.com/redis-autoscaler/redis-autoscaler/scaler/redisops"
	"github.com/redis-autoscaler/redis-autoscaler/test/cluster"
	"github.com/redis-autoscaler/redis-autoscaler/test/e2e"
	"github.com/redis-autoscaler/redis-autoscaler/test/promtest"
)

func TestMain(m *testing.M) { cluster.MainWithRedisAutoscaler(m) }

// The loop, installed from deploy/ (the programs under their shipped
// ServiceAccounts): each signal makes the real HPA scale the group through
// /scale, the scaler grows and shrinks the StatefulSet, and a SET + WAIT 1
// writer loses nothing throughout. Steps share one install; each ends with
// one master and every other pod replicating it.
func TestLoop(t *testing.T) {
	c := cluster.Shared(t)
	ctx, cancel := context.WithTimeout(context.Background(), 12*time.Minute)
	defer cancel()
	env, err := e2e.Install(ctx, c, e2e.Options{
		Replicas: 2, MinReplicas: 2, MaxReplicas: 4,
		Metrics:         []autoscalingv2.MetricSpec{e2e.PodsMetric("redis_ops_per_second", "1k")},
		ScaleDownWindow: 5 * time.Second,
		AdapterArgs:     []string{"--interval=1s", "--window=10s"},
		Progress:        t.Logf,
	})
	require.NoError(t, err)
	promStart := time.Now()
	prom := env.StartPrometheus(ctx, t, promtest.Binary(t))
	// The sharded example beside the group, resharded once from 3 to 4
	// shards while everything else runs: its dashboard row and alerts get
	// real series.
	start := time.Now()
	require.NoError(t, env.InstallCluster(ctx))
	require.NoError(t, env.ScaleShards(ctx, 4))
	require.NoError(t, env.WaitShards(ctx, 4, 3*time.Minute))
	t.Logf("example cluster formed with 3 shards and resharded to 4 in %v", time.Since(start).Round(100*time.Millisecond))
	rec := env.Record(ctx, nil, func(ev e2e.Event) { t.Log(ev) })
	defer rec.Stop()
	w := env.StartWriter(ctx)
	defer w.Close()
	load := env.StartLoad(ctx)
	defer load.Stop()

	// waitSpec waits for the HPA to set the group's size (cond), then for
	// the group to converge at that size.
	waitSpec := func(t *testing.T, what string, cond func(int32) bool, timeout time.Duration) int32 {
		t.Helper()
		start := time.Now()
		var n int32
		require.EventuallyWithTf(t, func(ct *assert.CollectT) {
			var err error
			n, err = env.GroupReplicas(ctx)
			assert.NoError(ct, err)
			assert.Truef(ct, cond(n), "spec.replicas %d; last sample %+v", n, rec.Last())
		}, timeout, 500*time.Millisecond, what)
		require.NoError(t, env.WaitConverged(ctx, n, 2*time.Minute), what)
		t.Logf("%s: %d replicas, converged %v after the change", what, n, time.Since(start).Round(100*time.Millisecond))
		return n
	}
	setMetrics := func(t *testing.T, metrics ...autoscalingv2.MetricSpec) {
		t.Helper()
		require.EventuallyWithT(t, func(ct *assert.CollectT) {
			hpa, err := env.HPA(ctx)
			if !assert.NoError(ct, err) {
				return
			}
			hpa.Spec.Metrics = metrics
			_, err = c.Client.AutoscalingV2().HorizontalPodAutoscalers(e2e.Namespace).Update(ctx, hpa, metav1.UpdateOptions{})
			assert.NoError(ct, err)
		}, 10*time.Second, 100*time.Millisecond)
	}

	t.Run("ops per second", func(t *testing.T) {
		up := time.Now()
		load.SetRate(6000)
		waitSpec(t, "load 6000 ops/s, target 1k per pod", func(n int32) bool { return n == 4 }, 90*time.Second)
		t.Logf("ops/s per pod read by the HPA: %s (target 1k)", currentMetric(t, env, "redis_ops_per_second"))
		// Move the master to the highest ordinal (a switchover as the
		// scaler does it, paused writes), so that the scale-down removes it
		// and the scaler must switch it over first.
		pods, err := env.Pods(ctx)
		require.NoError(t, err)
		master, synced, _ := e2e.Roles(pods)
		require.NotNil(t, master)
		node := func(p *corev1.Pod) redisops.Node {
			rc := env.Client(p)
			t.Cleanup(func() { rc.Close() })
			return redisops.Node{Name: p.Name, Client: rc, Host: p.Status.PodIP, Port: 6379}
		}
		var top *corev1.Pod
		var others []redisops.Node
		for _, p := range synced {
			if p.Name == e2e.Group+"-3" {
				top = p
			} else {
				others = append(others, node(p))
			}
		}
		require.NotNil(t, top, "cache-3 synced")
		res, err := redisops.Switchover(ctx, node(master), node(top), top.Status.PodIP, 6379, others,
			redisops.SwitchoverOptions{Auth: redisops.Auth{Password: env.Password}})
		require.NoError(t, err)
		t.Logf("moved the master %s -> %s (writes paused %v)", master.Name, top.Name, res.WritePause)
		require.EventuallyWithT(t, func(ct *assert.CollectT) {
			assert.Equal(ct, top.Name, rec.Last().Master, "the scaler follows the new master")
		}, 30*time.Second, 200*time.Millisecond)
		require.NoError(t, env.WaitConverged(ctx, 4, time.Minute))

		down := time.Now()
		load.SetRate(0)
		waitSpec(t, "load stopped", func(n int32) bool { return n == 2 }, 2*time.Minute)
		assert.True(t, hasEvent(rec, "Switchover"), "the master was removed without a switchover")
		for _, p := range e2e.WritePauses(rec.Events()) {
			t.Logf("scale-down switchover: writes paused %v", p)
		}
		time.Sleep(2 * time.Second) // one more sample after convergence
		for _, re := range e2e.Reactions(rec.Samples(), []e2e.Change{{At: up, Up: true}, {At: down, Up: false}}, "redis_ops_per_second") {
			t.Logf("reaction (load step, 10 s adapter window, 5 s scale-down window): %s", re)
		}
	})

	t.Run("response time", func(t *testing.T) {
		// 10 ms: far below a pod stalled by 30 ms scripts, far above an idle
		// loopback probe even on a busy 2-core CI machine (where 5 ms was
		// once too tight: 7 ms read at rest, no scale-down).
		setMetrics(t, e2e.PodsMetric("redis_response_time_seconds", "10m"))
		// A Lua script that busy-waits 30 ms, over and over on one pod:
		// every other command there (the adapter's probe included) waits.
		stall, stop := context.WithCancel(ctx)
		pods, err := env.Pods(ctx)
		require.NoError(t, err)
		rc := env.Client(&pods[0])
		go func() {
			for stall.Err() == nil {
				rc.Eval(stall, `local t = redis.call('TIME'); local start = t[1]*1000000 + t[2]
					repeat t = redis.call('TIME') until t[1]*1000000 + t[2] - start > 30000
					return 1`, nil)
			}
		}()
		n := waitSpec(t, "busy Lua on one pod, target 10 ms", func(n int32) bool { return n > 2 }, 90*time.Second)
		t.Logf("response time read by the HPA: %s (target 10m), %d replicas", currentMetric(t, env, "redis_response_time_seconds"), n)
		stop()
		rc.Close()
		waitSpec(t, "stall over", func(n int32) bool { return n == 2 }, 2*time.Minute)
	})

	t.Run("memory fraction", func(t *testing.T) {
		setMetrics(t, e2e.PodsMetric("redis_memory_fraction", "20m"))
		pods, err := env.Pods(ctx)
		require.NoError(t, err)
		master, _, _ := e2e.Roles(pods)
		require.NotNil(t, master)
		rc := env.Client(master)
		defer rc.Close()
		// 16 MiB of values: about 4 % of maxmemory (384mb) on every pod,
		// since each replica holds the whole dataset.
		value := strings.Repeat("x", 64<<10)
		for i := range 256 {
			require.NoError(t, rc.Set(ctx, fmt.Sprintf("fill:%d", i), value, 0).Err())
		}
		n := waitSpec(t, "16 MiB written, target 2 % of maxmemory", func(n int32) bool { return n > 2 }, 90*time.Second)
		t.Logf("memory fraction read by the HPA: %s (target 20m), %d replicas (memory per pod does not drop: every replica holds the data)", currentMetric(t, env, "redis_memory_fraction"), n)
		fill := make([]string, 256)
		for i := range fill {
			fill[i] = fmt.Sprintf("fill:%d", i)
		}
		require.NoError(t, rc.Del(ctx, fill...).Err())
		waitSpec(t, "data deleted", func(n int32) bool { return n == 2 }, 2*time.Minute)
	})

	t.Run("one pod with a password the adapter lacks", func(t *testing.T) {
		pods, err := env.Pods(ctx)
		require.NoError(t, err)
		_, synced, _ := e2e.Roles(pods)
		require.NotEmpty(t, synced)
		odd := synced[0]
		rc := env.Client(odd)
		defer rc.Close()
		// As if it restarted with another password: new password, every
		// client connection dropped (replication links stay).
		require.NoError(t, rc.ConfigSet(ctx, "requirepass", "another-password").Err())
		require.NoError(t, rc.Do(ctx, "CLIENT", "KILL", "TYPE", "normal").Err())
		// The adapter serves every other pod, leaves this one out, says
		// why in its log (without any password), and keeps running.
		require.EventuallyWithT(t, func(ct *assert.CollectT) {
			b, err := c.Client.CoreV1().RESTClient().Get().
				AbsPath("/apis/custom.metrics.k8s.io/v1beta2/namespaces/redis/pods/*/redis_ops_per_second").
				Param("labelSelector", "app="+e2e.Group).DoRaw(ctx)
			if !assert.NoError(ct, err) {
				return
			}
			assert.NotContains(ct, string(b), `"name":"`+odd.Name+`"`)
			for _, p := range pods {
				if p.Name != odd.Name {
					assert.Contains(ct, string(b), `"name":"`+p.Name+`"`)
				}
			}
		}, 30*time.Second, 500*time.Millisecond)
		logs := adapterLogs(t, c)
		assert.Contains(t, logs, odd.Name)
		assert.Regexp(t, `WRONGPASS|NOAUTH|invalid password`, logs)
		assert.NotContains(t, logs, env.Password)
		assert.NotContains(t, logs, "another-password")
		dep, err := c.Client.AppsV1().Deployments(e2e.System).Get(ctx, "redis-autoscaler-adapter", metav1.GetOptions{})
		require.NoError(t, err)
		assert.EqualValues(t, 2, dep.Status.ReadyReplicas, "the adapter keeps running")

		rc2 := redis.NewClient(&redis.Options{Addr: odd.Status.PodIP + ":6379", Password: "another-password", MaxRetries: -1})
		defer rc2.Close()
		require.NoError(t, rc2.ConfigSet(ctx, "requirepass", env.Password).Err())
		require.NoError(t, env.WaitConverged(ctx, 2, time.Minute))
	})

	t.Run("adapter outage", func(t *testing.T) {
		setMetrics(t, e2e.PodsMetric("redis_ops_per_second", "1k"))
		load.SetRate(3500)
		n := waitSpec(t, "load 3500 ops/s", func(n int32) bool { return n > 2 }, 90*time.Second)
		require.NoError(t, env.ScaleAdapter(ctx, 0))
		load.SetRate(0)
		// Without metrics the HPA must not scale down.
		deadline := time.Now().Add(25 * time.Second)
		for time.Now().Before(deadline) {
			cur, err := env.GroupReplicas(ctx)
			require.NoError(t, err)
			require.Equal(t, n, cur, "the HPA changed the size while the adapter was down")
			time.Sleep(time.Second)
		}
		hpa, err := env.HPA(ctx)
		require.NoError(t, err)
		active := false
		for _, cnd := range hpa.Status.Conditions {
			if cnd.Type == autoscalingv2.ScalingActive && cnd.Status == "False" {
				active = true
				t.Logf("HPA while the adapter is down: %s: %s", cnd.Reason, cnd.Message)
			}
		}
		assert.True(t, active, "ScalingActive=False while metrics are missing")
		require.NoError(t, env.ScaleAdapter(ctx, 2))
		waitSpec(t, "adapter back, no load", func(n int32) bool { return n == 2 }, 2*time.Minute)
	})

	// Every panel and annotation of redis-autoscaling.json returns data
	// over the whole run, as Grafana would draw it, from the programs
	// scraped through the shipped ServiceMonitors; every rule of
	// alerts.yaml evaluates without error on these real series.
	t.Run("dashboards and alerts", func(t *testing.T) {
		// Requests the adapter must refuse (no such pod), as an HPA naming
		// a pod that just went away would make; repeated until Prometheus
		// sees the errors rise.
		targets := map[string]int{"redis-autoscaler-exporter": 1, "redis-autoscaler-scaler-metrics": 2, "redis-autoscaler-adapter": 2}
		require.EventuallyWithT(t, func(ct *assert.CollectT) {
			_, err := c.Client.CoreV1().RESTClient().Get().
				AbsPath("/apis/custom.metrics.k8s.io/v1beta2/namespaces/redis/pods/no-such-pod/redis_ops_per_second").DoRaw(ctx)
			assert.True(ct, apierrors.IsNotFound(err), "%v", err)
			for job, n := range targets {
				up, err := promtest.Query(prom, fmt.Sprintf(`up{job=%q} == 1`, job))
				assert.NoError(ct, err)
				assert.Equal(ct, n, up, "%s targets up", job)
			}
			rising, err := promtest.Query(prom, `sum(increase(redis_autoscaler_adapter_request_errors_total{reason="NotFound"}[20s])) > 0`)
			assert.NoError(ct, err)
			assert.Positive(ct, rising, "the refused requests are counted")
		}, 30*time.Second, time.Second)

		d, err := dashboards.Load(filepath.Join("..", "..", "dashboards", "redis-autoscaling.json"))
		require.NoError(t, err)
		vars := strings.NewReplacer(`$cluster`, `.*`, `$job`, `.*`, `$namespace`, e2e.Namespace, `$group`, e2e.Group, `$rediscluster`, e2e.RCluster, `$pod`, `.*`, `$__rate_interval`, `20s`)
		queries := d.Queries()
		require.NotEmpty(t, queries)
		for _, q := range queries {
			expr := vars.Replace(q.Expr)
			n, err := promtest.QueryRange(prom, expr, promStart, time.Now(), 5*time.Second)
			if assert.NoError(t, err, "%s: %s", q.Where, expr) {
				assert.Positive(t, n, "%s returns no data over the run: %s", q.Where, expr)
			}
		}
		t.Logf("%d queries of redis-autoscaling.json returned data over the %v run", len(queries), time.Since(promStart).Round(time.Second))

		rules, err := promtest.Rules(prom)
		require.NoError(t, err)
		require.NotEmpty(t, rules)
		for _, r := range rules {
			assert.Equal(t, "ok", r.Health, "rule %s: %s", r.Name, r.LastError)
			if r.State == "firing" {
				t.Logf("alert %s is firing", r.Name)
			}
		}
	})

	keys := w.Finish()
	t.Logf("writer: %d writes acknowledged, %d not, longest gap between acknowledged writes %v", len(keys), w.Failed(), w.MaxGap())
	require.NotEmpty(t, keys)
	require.NoError(t, env.VerifyKeys(ctx, keys), "every acknowledged key on the master and every synced replica")
}

// currentMetric is the HPA's status.currentMetrics value of a Pods metric,
// waiting until it shows one.
func currentMetric(t *testing.T, env *e2e.Env, name string) string {
	t.Helper()
	val := ""
	require.EventuallyWithT(t, func(ct *assert.CollectT) {
		hpa, err := env.HPA(context.Background())
		if !assert.NoError(ct, err) {
			return
		}
		for _, m := range hpa.Status.CurrentMetrics {
			if m.Pods != nil && m.Pods.Metric.Name == name {
				val = m.Pods.Current.AverageValue.String()
			}
		}
		assert.NotEmpty(ct, val, "%s in status.currentMetrics", name)
	}, 30*time.Second, 200*time.Millisecond)
	return val
}

// adapterLogs is the log text of every adapter pod so far.
func adapterLogs(t *testing.T, c *cluster.Cluster) string {
	files, err := filepath.Glob(filepath.Join(c.Dir, "pods", e2e.System+"_redis-autoscaler-adapter-*", "adapter.log"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	var b strings.Builder
	for _, f := range files {
		data, err := os.ReadFile(f)
		require.NoError(t, err)
		b.Write(data)
	}
	return b.String()
}

func hasEvent(rec *e2e.Recorder, reason string) bool {
	for _, ev := range rec.Events() {
		if ev.Reason == reason {
			return true
		}
	}
	return false
}
