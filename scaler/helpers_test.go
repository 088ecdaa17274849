package scaler_test

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"os"
	"sort"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/redis-autoscaler/redis-autoscaler/scaler"
	"github.com/redis-autoscaler/redis-autoscaler/scaler/api/v1alpha1"
	"github.com/redis-autoscaler/redis-autoscaler/scaler/controller"
	"github.com/redis-autoscaler/redis-autoscaler/scaler/kube"
	"github.com/redis-autoscaler/redis-autoscaler/scaler/redisops"
	"github.com/redis-autoscaler/redis-autoscaler/scaler/topology"
	"github.com/redis-autoscaler/redis-autoscaler/test/cluster"
	"github.com/redis-autoscaler/redis-autoscaler/test/redistest"
)

var crdOnce sync.Once

// env is one test's namespace in the shared cluster with the CRD installed.
type env struct {
	t   testing.TB
	c   *cluster.Cluster
	cl  client.Client
	ns  string
	ctx context.Context
	// password of the group's Redis, if any.
	password string
	// tls, when set, is how the test's clients reach TLS-only pods.
	tls *tls.Config
	// stops of the scalers started.
	stops []func()
	// metrics is the registry of the scaler started last.
	metrics *prometheus.Registry
}

func newEnv(t testing.TB, prefix string) *env {
	c := cluster.Shared(t)
	crdOnce.Do(func() { applyCRDs(t, c) })
	return envOn(t, c, prefix)
}

// newEnvOwnCluster is newEnv on a control plane of the test's own, for
// faults that would disturb the others (an API outage).
func newEnvOwnCluster(t testing.TB, prefix string) *env {
	c := cluster.Start(t)
	applyCRDs(t, c)
	return envOn(t, c, prefix)
}

func applyCRDs(t testing.TB, c *cluster.Cluster) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	require.NoError(t, c.Apply(ctx, "../deploy/crd/redisautoscaler.io_redisreplicationgroups.yaml"))
	require.NoError(t, c.Apply(ctx, "../deploy/crd/redisautoscaler.io_redisclusters.yaml"))
}

func envOn(t testing.TB, c *cluster.Cluster, prefix string) *env {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	t.Cleanup(cancel)
	cl, err := client.New(c.Config, client.Options{Scheme: kube.Scheme()})
	require.NoError(t, err)
	e := &env{t: t, c: c, cl: cl, ns: c.Namespace(t, prefix), ctx: ctx}
	t.Cleanup(func() {
		if t.Failed() {
			e.logEvents()
		}
	})
	// The CRD is served once established.
	require.Eventually(t, func() bool {
		return cl.List(ctx, &v1alpha1.RedisReplicationGroupList{}, client.InNamespace(e.ns)) == nil &&
			cl.List(ctx, &v1alpha1.RedisClusterList{}, client.InNamespace(e.ns)) == nil
	}, 30*time.Second, 100*time.Millisecond)
	return e
}

// startScaler runs the scaler in this process, watching the test's
// namespace; the returned func stops it and waits.
func (e *env) startScaler(afterPromote func()) (stop func()) {
	return e.startScalerWith(context.Background(), afterPromote)
}

// startScalerWith runs the scaler until ctx ends or stop is called.
func (e *env) startScalerWith(parent context.Context, afterPromote func()) (stop func()) {
	return e.startScalerOpts(parent, func(o *scalerOpts) { o.afterPromote = afterPromote })
}

// scalerOpts are the test hooks a scaler can run with.
type scalerOpts struct {
	afterPromote, afterSlotBatch, beforeSwitchover func()
}

// startScalerOpts runs the scaler with hooks until ctx ends or stop is
// called.
func (e *env) startScalerOpts(parent context.Context, edit func(*scalerOpts)) (stop func()) {
	var so scalerOpts
	if edit != nil {
		edit(&so)
	}
	ctx, cancel := context.WithCancel(parent)
	log := logr.Discard()
	if os.Getenv("SCALER_DEBUG") != "" {
		log = logr.FromSlogHandler(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	done := make(chan error, 1)
	reg := prometheus.NewRegistry()
	e.metrics = reg
	go func() {
		done <- scaler.Run(ctx, e.c.Config, scaler.Options{
			MetricsBindAddress: "0", HealthProbeBindAddress: "0", Registry: reg,
			Namespace: e.ns, Logger: log, AfterPromote: so.afterPromote, AfterSlotBatch: so.afterSlotBatch,
			BeforeSwitchover: so.beforeSwitchover,
		})
	}()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				assert.NoError(e.t, err)
			case <-time.After(30 * time.Second):
				e.t.Error("scaler did not stop")
			}
		})
	}
	e.t.Cleanup(stop)
	e.stops = append(e.stops, stop)
	return stop
}

// stopScalers stops every scaler the test started.
func (e *env) stopScalers() {
	for _, stop := range e.stops {
		stop()
	}
}

func (e *env) group(name string) *v1alpha1.RedisReplicationGroup {
	var g v1alpha1.RedisReplicationGroup
	require.NoError(e.t, e.cl.Get(e.ctx, client.ObjectKey{Namespace: e.ns, Name: name}, &g))
	return &g
}

func (e *env) pods(app string) []corev1.Pod {
	var list corev1.PodList
	require.NoError(e.t, e.cl.List(e.ctx, &list, client.InNamespace(e.ns), client.MatchingLabels{"app": app}))
	return list.Items
}

var clients sync.Map // pod IP + password -> *redis.Client

// redis is a client to the pod at ip (pod IPs are reused across tests,
// hence the password in the key).
func (e *env) redis(ip string) *redis.Client {
	key := ip + "|" + e.password
	if e.tls != nil {
		key += "|tls|" + e.ns
	}
	if c, ok := clients.Load(key); ok {
		return c.(*redis.Client)
	}
	o := redisops.ClientOptions(ip, 6379, redisops.Auth{Password: e.password}, e.tls)
	// No retries (0 would mean go-redis's default of 3): a retried SET makes
	// an outcome ambiguous, the first attempt may have been applied.
	o.MaxRetries = -1
	c, _ := clients.LoadOrStore(key, redis.NewClient(o))
	return c.(*redis.Client)
}

func (e *env) observe(ip string) (topology.Pod, error) {
	var p topology.Pod
	err := redisops.Observe(e.ctx, e.redis(ip), &p)
	return p, err
}

// converged checks the invariant: n pods, all Running, none being deleted;
// exactly one master
// (labelled master, and status.master); every other pod replicates it
// with the link up, no sync in progress, labelled synced=true; status
// Ready.
func (e *env) converged(ct *assert.CollectT, app string, n int) (master corev1.Pod) {
	pods := e.pods(app)
	require.Len(ct, pods, n)
	var masters []corev1.Pod
	obs := map[string]topology.Pod{}
	for _, p := range pods {
		require.NotEmpty(ct, p.Status.PodIP, p.Name)
		require.Nil(ct, p.DeletionTimestamp, "%s is being deleted", p.Name)
		o, err := e.observe(p.Status.PodIP)
		require.NoError(ct, err, p.Name)
		obs[p.Name] = o
		if o.IsMaster() {
			masters = append(masters, p)
		}
	}
	require.Len(ct, masters, 1, "exactly one master")
	master = masters[0]
	require.Equal(ct, controller.RoleMaster, master.Labels[controller.LabelRole])
	for _, p := range pods {
		if p.Name == master.Name {
			continue
		}
		require.Truef(ct, obs[p.Name].InSyncWith(master.Status.PodIP, 6379), "%s replicates %s: %+v", p.Name, master.Name, obs[p.Name])
		require.Equal(ct, controller.RoleReplica, p.Labels[controller.LabelRole], p.Name)
		require.Equal(ct, "true", p.Labels[controller.LabelSynced], p.Name)
	}
	g := e.group(app)
	require.Equal(ct, master.Name, g.Status.Master)
	require.EqualValues(ct, n, g.Status.ReadyReplicas)
	require.Truef(ct, meta.IsStatusConditionTrue(g.Status.Conditions, v1alpha1.ConditionReady), "Ready: %+v", g.Status.Conditions)
	require.Truef(ct, meta.IsStatusConditionFalse(g.Status.Conditions, v1alpha1.ConditionDegraded), "Degraded: %+v", g.Status.Conditions)
	require.Truef(ct, meta.IsStatusConditionFalse(g.Status.Conditions, v1alpha1.ConditionScaling), "Scaling: %+v", g.Status.Conditions)
	require.Equal(ct, g.Generation, g.Status.ObservedGeneration)
	return master
}

func (e *env) waitConverged(app string, n int, timeout time.Duration) corev1.Pod {
	var m corev1.Pod
	require.EventuallyWithT(e.t, func(ct *assert.CollectT) { m = e.converged(ct, app, n) }, timeout, 50*time.Millisecond)
	return m
}

// startWriter sends SET + WAIT 1 to whichever pod is labelled master (as
// a -master Service routes; looked up every 100 ms and after a failed
// write) and keeps the keys a replica acknowledged.
func (e *env) startWriter(app, prefix string) *redistest.AckWriter {
	var ip string
	var refreshed time.Time
	masterIP := func() string {
		var list corev1.PodList
		if err := e.cl.List(context.Background(), &list, client.InNamespace(e.ns),
			client.MatchingLabels{"app": app, controller.LabelRole: controller.RoleMaster}); err != nil || len(list.Items) != 1 {
			return ""
		}
		return list.Items[0].Status.PodIP
	}
	return redistest.StartAckWriter(redistest.AckWriterOptions{
		Prefix: prefix, Wait: 300 * time.Millisecond, OpTimeout: time.Second,
		Target: func() *redis.Client {
			if ip == "" || time.Since(refreshed) > 100*time.Millisecond {
				ip, refreshed = masterIP(), time.Now()
			}
			if ip == "" {
				return nil
			}
			return e.redis(ip)
		},
		OnFail: func() { ip = "" },
	})
}

// requireKeys checks every key is on the Redis at ip.
func (e *env) requireKeys(ip string, keys []string) {
	t := e.t
	t.Helper()
	c := e.redis(ip)
	for len(keys) > 0 {
		n := min(len(keys), 500)
		vals, err := c.MGet(context.Background(), keys[:n]...).Result()
		require.NoError(t, err)
		for i, v := range vals {
			require.NotNilf(t, v, "acknowledged write %s lost on %s", keys[i], ip)
		}
		keys = keys[n:]
	}
}

func clientKey(ns, name string) client.ObjectKey { return client.ObjectKey{Namespace: ns, Name: name} }

// logEvents logs the namespace's events in order, to tell what the scaler
// did when a test fails.
func (e *env) logEvents() {
	var list corev1.EventList
	if err := e.cl.List(context.Background(), &list, client.InNamespace(e.ns)); err != nil {
		return
	}
	sort.Slice(list.Items, func(i, j int) bool { return list.Items[i].LastTimestamp.Before(&list.Items[j].LastTimestamp) })
	for _, ev := range list.Items {
		if ev.InvolvedObject.Kind == "RedisReplicationGroup" || ev.InvolvedObject.Kind == "RedisCluster" {
			e.t.Logf("event %s %s x%d %s: %s", ev.FirstTimestamp.Format("15:04:05"), ev.LastTimestamp.Format("15:04:05"), ev.Count, ev.Reason, ev.Message)
		}
	}
	var groups v1alpha1.RedisReplicationGroupList
	if err := e.cl.List(context.Background(), &groups, client.InNamespace(e.ns)); err == nil {
		for _, g := range groups.Items {
			e.t.Logf("group %s status %+v", g.Name, g.Status)
		}
	}
	var clusters v1alpha1.RedisClusterList
	if err := e.cl.List(context.Background(), &clusters, client.InNamespace(e.ns)); err == nil {
		for _, c := range clusters.Items {
			e.t.Logf("cluster %s status %+v", c.Name, c.Status)
		}
	}
}

// signal sends sig to the pod's Redis process (kill -9, SIGSTOP, SIGCONT)
// and returns its PID.
func (e *env) signal(pod string, sig syscall.Signal) int {
	pid, err := e.trySignal(pod, sig)
	require.NoError(e.t, err)
	return pid
}

// trySignal is signal for code off the test's goroutine (a scaler hook):
// it returns the error instead of failing the test.
func (e *env) trySignal(pod string, sig syscall.Signal) (int, error) {
	pid, ok := e.c.Runner.ContainerPID(e.ns, pod, "redis")
	if !ok {
		return 0, fmt.Errorf("%s has no running Redis", pod)
	}
	return pid, syscall.Kill(pid, sig)
}
