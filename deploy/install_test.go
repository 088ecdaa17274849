package deploy_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	unstr "k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"

	"github.com/redis-autoscaler/redis-autoscaler/test/cluster"
	"github.com/redis-autoscaler/redis-autoscaler/test/manifests"
	"github.com/redis-autoscaler/redis-autoscaler/test/redistest"
)

// TestMain builds the product's binary, which the pod runner runs for
// pods of the redis-autoscaler image, and stops the shared cluster.
func TestMain(m *testing.M) { cluster.MainWithRedisAutoscaler(m) }

// standInCRDs stand in for cert-manager's and the Prometheus Operator's
// CRDs, which cannot be installed here: they accept any spec, so a dry-run
// against them checks apiVersion, kind, names and namespaces only.
func standInCRDs() []*unstr.Unstructured {
	crd := func(group, kind, plural string) *unstr.Unstructured {
		return &unstr.Unstructured{Object: map[string]any{
			"apiVersion": "apiextensions.k8s.io/v1",
			"kind":       "CustomResourceDefinition",
			"metadata":   map[string]any{"name": plural + "." + group},
			"spec": map[string]any{
				"group": group,
				"scope": "Namespaced",
				"names": map[string]any{"kind": kind, "plural": plural, "singular": strings.ToLower(kind), "listKind": kind + "List"},
				"versions": []any{map[string]any{
					"name": "v1", "served": true, "storage": true,
					"schema": map[string]any{"openAPIV3Schema": map[string]any{
						"type": "object", "x-kubernetes-preserve-unknown-fields": true,
					}},
				}},
			},
		}}
	}
	return []*unstr.Unstructured{
		crd("cert-manager.io", "Certificate", "certificates"),
		crd("cert-manager.io", "Issuer", "issuers"),
		crd("monitoring.coreos.com", "ServiceMonitor", "servicemonitors"),
		crd("monitoring.coreos.com", "PrometheusRule", "prometheusrules"),
	}
}

// Every kustomization and the chart (in each mode) pass a server-side
// dry-run: the API server's validation, defaulting and admission (Pod
// Security "restricted" in our namespaces) accept every object.
func TestServerSideDryRun(t *testing.T) {
	t.Parallel()
	c := cluster.Shared(t)
	ctx := ctx(t, 2*time.Minute)
	require.NoError(t, c.ServerSideApply(ctx, standInCRDs(), false))
	// The namespace the namespaced variants watch; the user creates it.
	_, err := c.Client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "redis"}}, metav1.CreateOptions{})
	if !apierrors.IsAlreadyExists(err) {
		require.NoError(t, err)
	}
	for _, v := range allVariants() {
		setup, rest := manifests.Split(render(t, v))
		// Namespaces and CRDs for real (a dry-run creates nothing that
		// later objects could refer to), the rest dry-run only.
		require.NoError(t, c.ServerSideApply(ctx, setup, false), v.Name)
		require.NoError(t, c.ServerSideApply(ctx, rest, true), v.Name)
	}
}

var (
	groupGVR = schema.GroupVersionResource{Group: "redisautoscaler.io", Version: "v1alpha1", Resource: "redisreplicationgroups"}
	apiSvcs  = []string{"v1beta1", "v1beta2"}
)

// The user's install, end to end: `kubectl apply -k deploy/base`, then the
// example group. The programs run under their shipped ServiceAccounts and
// RBAC; the adapter creates its certificate and the aggregator verifies it;
// the HPA reads our metrics; the scaler (two copies, one leading)
// reconciles the group; the backup CronJob's job backs it up under its own
// ServiceAccount; the password shows up nowhere but in Secrets.
func TestInstallBaseAndExample(t *testing.T) {
	t.Parallel()
	c := cluster.Shared(t)
	in := install(t, c, bundleVariants[0], bundleVariants[8], nil) // the example with its backup component
	in.checkWorking(t)
	in.checkBackupJob(t)
	in.checkNoLeak(t)
}

// The sharded example on the bundle: the bundle's scaler forms the
// cluster (3 shards × 1 replica, every pod labelled), the adapter serves
// the RedisCluster's metrics through the aggregator and the example's
// HPA reads them; no password leaks.
func TestInstallBaseAndCluster(t *testing.T) {
	t.Parallel()
	c := cluster.Start(t)
	in := install(t, c, bundleVariants[0], bundleVariants[9], nil)
	ctx, start := in.ctx, time.Now()
	clusterGVR := schema.GroupVersionResource{Group: "redisautoscaler.io", Version: "v1alpha1", Resource: "redisclusters"}
	require.EventuallyWithT(t, func(ct *assert.CollectT) {
		rc, err := in.dyn.Resource(clusterGVR).Namespace("redis").Get(ctx, "shop", metav1.GetOptions{})
		if !assert.NoError(ct, err) {
			return
		}
		ready, _, _ := unstr.NestedInt64(rc.Object, "status", "readyShards")
		assert.EqualValues(ct, 3, ready, "status %v", rc.Object["status"])
		pods, err := c.Client.CoreV1().Pods("redis").List(ctx, metav1.ListOptions{LabelSelector: "app=shop"})
		if !assert.NoError(ct, err) {
			return
		}
		roles := map[string]int{}
		for _, p := range pods.Items {
			roles[p.Labels["redisautoscaler.io/role"]+"/"+p.Labels["redisautoscaler.io/synced"]]++
		}
		assert.Equal(ct, map[string]int{"master/": 3, "replica/true": 3}, roles)
	}, 3*time.Minute, time.Second, "cluster not formed: %s", in.describe())
	t.Logf("cluster formed %v after the example was applied", time.Since(start).Round(100*time.Millisecond))

	require.EventuallyWithT(t, func(ct *assert.CollectT) {
		b, err := c.Client.CoreV1().RESTClient().Get().
			AbsPath("/apis/custom.metrics.k8s.io/v1beta2/namespaces/redis/redisclusters.redisautoscaler.io/shop/redis_memory_fraction").DoRaw(ctx)
		if assert.NoError(ct, err) {
			assert.Contains(ct, string(b), `"kind":"RedisCluster"`)
		}
		h, err := c.Client.AutoscalingV2().HorizontalPodAutoscalers("redis").Get(ctx, "shop", metav1.GetOptions{})
		if assert.NoError(ct, err) {
			assert.Len(ct, h.Status.CurrentMetrics, 2, "the HPA reads both metrics: %+v", h.Status.Conditions)
		}
	}, 2*time.Minute, time.Second)
	in.checkNoLeak(t)
}

// checkBackupJob runs the backup CronJob's job now, as
// `kubectl create job --from=cronjob/cache-backup` does, and checks that
// it wrote a verified backup to the claim and recorded it in the group's
// status.
func (in *installed) checkBackupJob(t *testing.T) {
	c, ctx, start := in.c, in.ctx, time.Now()
	cj, err := c.Client.BatchV1().CronJobs("redis").Get(ctx, "cache-backup", metav1.GetOptions{})
	require.NoError(t, err)
	job := &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Name: "cache-backup-now", Labels: cj.Spec.JobTemplate.Labels}, Spec: cj.Spec.JobTemplate.Spec}
	_, err = c.Client.BatchV1().Jobs("redis").Create(ctx, job, metav1.CreateOptions{})
	require.NoError(t, err)
	require.EventuallyWithT(t, func(ct *assert.CollectT) {
		j, err := c.Client.BatchV1().Jobs("redis").Get(ctx, job.Name, metav1.GetOptions{})
		if assert.NoError(ct, err) {
			assert.EqualValues(ct, 1, j.Status.Succeeded, "job status %+v", j.Status)
		}
	}, 2*time.Minute, time.Second)
	g, err := in.dyn.Resource(groupGVR).Namespace("redis").Get(ctx, "cache", metav1.GetOptions{})
	require.NoError(t, err)
	succeeded, _, _ := unstr.NestedInt64(g.Object, "status", "backup", "succeeded")
	file, _, _ := unstr.NestedString(g.Object, "status", "backup", "lastFile")
	require.EqualValues(t, 1, succeeded, "status.backup %v", g.Object["status"])
	require.Regexp(t, `^cache-\d{8}T\d{6}Z\.rdb$`, file)
	sidecars, err := filepath.Glob(filepath.Join(c.Dir, "pods", "pvc", "redis", "cache-backups", file+".json"))
	require.NoError(t, err)
	require.Len(t, sidecars, 1, "the backup and its sidecar on the claim")
	t.Logf("backup job: %s written %v after it was created", file, time.Since(start).Round(100*time.Millisecond))
}

// The TLS variant: Redis speaks TLS only (example + its tls component),
// the exporter and the adapter verify it (base + redis-tls), the scaler
// too (the group's spec.tls). cert-manager is not installed here: the test
// creates the Secrets its Certificates would (cache-tls, and the CA for
// our programs) and leaves the cert-manager objects out.
func TestInstallTLS(t *testing.T) {
	t.Parallel()
	c := cluster.Start(t)
	certs := redistest.NewTLSNamed(t, "redis.tls.internal")
	read := func(p string) []byte {
		b, err := os.ReadFile(p)
		require.NoError(t, err)
		return b
	}
	in := install(t, c, bundleVariants[4], bundleVariants[6], map[string]*corev1.Secret{
		"redis-autoscaler": {ObjectMeta: metav1.ObjectMeta{Name: "redis-autoscaler-redis-tls"},
			Data: map[string][]byte{"ca.crt": read(certs.CA)}},
		"redis": {ObjectMeta: metav1.ObjectMeta{Name: "cache-tls"},
			Data: map[string][]byte{"ca.crt": read(certs.CA), "tls.crt": read(certs.ServerCert), "tls.key": read(certs.ServerKey)}},
	})
	in.checkWorking(t)
	in.checkNoLeak(t)

	// Redis is TLS only: a plain connection to a pod gets no answer.
	pods, err := c.Client.CoreV1().Pods("redis").List(in.ctx, metav1.ListOptions{LabelSelector: "app=cache"})
	require.NoError(t, err)
	require.NotEmpty(t, pods.Items)
	rc := redis.NewClient(&redis.Options{Addr: pods.Items[0].Status.PodIP + ":6379", Password: in.password,
		MaxRetries: -1, DialTimeout: time.Second, ReadTimeout: time.Second})
	defer rc.Close()
	require.Error(t, rc.Ping(in.ctx).Err(), "plain TCP must not be served")
}

type installed struct {
	c        *cluster.Cluster
	ctx      context.Context
	dyn      dynamic.Interface
	password string
	// exporterMetrics is the last /metrics read by checkWorking.
	exporterMetrics string
}

// install applies the bundle variant and the example variant as a user
// would, with the Secrets they name (plus extra, by namespace), and waits
// for the programs to be ready and both APIServices Available.
// cert-manager objects are left out: cert-manager is not installed here.
func install(t *testing.T, c *cluster.Cluster, bundle, example variant, extra map[string]*corev1.Secret) *installed {
	in := &installed{c: c, ctx: ctx(t, 4*time.Minute)}
	ctx := in.ctx
	var err error
	in.dyn, err = dynamic.NewForConfig(c.Config)
	require.NoError(t, err)
	pwb := make([]byte, 16)
	_, _ = rand.Read(pwb)
	in.password = hex.EncodeToString(pwb)
	createSecrets := func(ns string, secrets ...*corev1.Secret) {
		require.NoError(t, c.WaitServiceAccount(ctx, ns))
		if s := extra[ns]; s != nil {
			secrets = append(secrets, s)
		}
		for _, s := range secrets {
			_, err := c.Client.CoreV1().Secrets(ns).Create(ctx, s, metav1.CreateOptions{})
			require.NoError(t, err)
		}
	}

	start := time.Now()
	setup, rest := manifests.Split(manifests.Without(render(t, bundle), "cert-manager.io/"))
	require.NoError(t, c.ServerSideApply(ctx, setup, false))
	// The password the exporter and the adapter use (the group's).
	createSecrets("redis-autoscaler", &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "redis-autoscaler-redis-auth"},
		StringData: map[string]string{"password": in.password},
	})
	require.NoError(t, c.ServerSideApply(ctx, rest, false))
	for _, d := range []struct {
		name  string
		ready int32
	}{{"redis-autoscaler-scaler", 2}, {"redis-autoscaler-adapter", 2}, {"redis-autoscaler-exporter", 1}} {
		require.EventuallyWithTf(t, func(ct *assert.CollectT) {
			dep, err := c.Client.AppsV1().Deployments("redis-autoscaler").Get(ctx, d.name, metav1.GetOptions{})
			if assert.NoError(ct, err) {
				assert.Equal(ct, d.ready, dep.Status.ReadyReplicas)
			}
		}, 2*time.Minute, 500*time.Millisecond, "deployment %s not ready", d.name)
	}
	for _, v := range apiSvcs {
		require.NoError(t, c.WaitAPIServiceAvailable(ctx, "custom.metrics.k8s.io", v, time.Minute))
		// The CA the adapter injected, no skip of verification.
		obj, err := in.dyn.Resource(schema.GroupVersionResource{Group: "apiregistration.k8s.io", Version: "v1", Resource: "apiservices"}).
			Get(ctx, v+".custom.metrics.k8s.io", metav1.GetOptions{})
		require.NoError(t, err)
		ca, _, _ := unstr.NestedString(obj.Object, "spec", "caBundle")
		skip, _, _ := unstr.NestedBool(obj.Object, "spec", "insecureSkipTLSVerify")
		require.NotEmpty(t, ca)
		require.False(t, skip)
	}
	t.Logf("%s: programs ready and APIServices Available %v after apply", bundle.Name, time.Since(start).Round(100*time.Millisecond))

	// The example group, as its README says: its Secret, then the rest.
	exSetup, exRest := manifests.Split(manifests.Without(render(t, example), "cert-manager.io/"))
	require.NoError(t, c.ServerSideApply(ctx, exSetup, false))
	// The password Secrets both examples' READMEs have the user create
	// (the group's cache-auth, the cluster's shop-auth).
	var auth []*corev1.Secret
	for _, name := range []string{"cache-auth", "shop-auth"} {
		auth = append(auth, &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Name: name},
			StringData: map[string]string{
				"password":  in.password,
				"auth.conf": fmt.Sprintf("requirepass %s\nmasterauth %s\n", in.password, in.password),
			},
		})
	}
	createSecrets("redis", auth...)
	for _, o := range exRest {
		if o.GetKind() == "RedisReplicationGroup" {
			// The one change this control plane needs: no cluster DNS.
			require.NoError(t, unstr.SetNestedField(o.Object, "ip", "spec", "addressing"))
		}
	}
	require.NoError(t, c.ServerSideApply(ctx, exRest, false))
	return in
}

// checkWorking: the scaler reconciles the group, one copy leading; the
// adapter serves its metrics through the aggregator and the HPA reads
// them; the exporter scrapes every pod.
func (in *installed) checkWorking(t *testing.T) {
	c, ctx, start := in.c, in.ctx, time.Now()
	require.EventuallyWithT(t, func(ct *assert.CollectT) {
		pods, err := c.Client.CoreV1().Pods("redis").List(ctx, metav1.ListOptions{LabelSelector: "app=cache"})
		if !assert.NoError(ct, err) {
			return
		}
		roles := map[string]int{}
		for _, p := range pods.Items {
			roles[p.Labels["redisautoscaler.io/role"]+"/"+p.Labels["redisautoscaler.io/synced"]]++
		}
		assert.Equal(ct, 1, roles["master/true"]+roles["master/"], "roles %v", roles)
		assert.GreaterOrEqual(ct, roles["replica/true"], 2, "roles %v", roles)
		assert.Equal(ct, len(pods.Items)-1, roles["replica/true"], "every other pod a synced replica: roles %v", roles)
	}, 2*time.Minute, time.Second, "group not converged: %s", in.describe())
	t.Logf("group converged %v after the example was applied", time.Since(start).Round(100*time.Millisecond))

	// One of the two scaler copies holds the Lease (its identity is the
	// host name, the same for every pod here: count the copies that say
	// they lead), the other waits.
	lease, err := c.Client.CoordinationV1().Leases("redis-autoscaler").Get(ctx, "redis-autoscaler-scaler.redisautoscaler.io", metav1.GetOptions{})
	require.NoError(t, err)
	require.NotNil(t, lease.Spec.HolderIdentity)
	require.NotEmpty(t, *lease.Spec.HolderIdentity)
	scalerLogs, err := filepath.Glob(filepath.Join(c.Dir, "pods", "redis-autoscaler_redis-autoscaler-scaler-*", "scaler.log"))
	require.NoError(t, err)
	require.Len(t, scalerLogs, 2)
	leaders := 0
	for _, f := range scalerLogs {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		require.Contains(t, string(b), "attempting to acquire leader lease")
		if strings.Contains(string(b), "successfully acquired lease") {
			leaders++
		}
	}
	require.Equal(t, 1, leaders, "scaler copies leading")

	// The aggregated API through the aggregator, as kubectl get --raw.
	require.EventuallyWithT(t, func(ct *assert.CollectT) {
		b, err := c.Client.CoreV1().RESTClient().Get().
			AbsPath("/apis/custom.metrics.k8s.io/v1beta2/namespaces/redis/pods/*/redis_ops_per_second").
			Param("labelSelector", "app=cache").DoRaw(ctx)
		if !assert.NoError(ct, err) {
			return
		}
		var list struct{ Items []any }
		assert.NoError(ct, json.Unmarshal(b, &list))
		assert.GreaterOrEqual(ct, len(list.Items), 3, "%s", b)
	}, time.Minute, time.Second)
	require.Contains(t, string(in.raw(t, "/apis/custom.metrics.k8s.io/v1beta1")), "redis_memory_fraction")

	// The real HPA (controller-manager as its own ServiceAccount) reads
	// all three signals.
	require.EventuallyWithT(t, func(ct *assert.CollectT) {
		hpa, err := c.Client.AutoscalingV2().HorizontalPodAutoscalers("redis").Get(ctx, "cache", metav1.GetOptions{})
		if !assert.NoError(ct, err) {
			return
		}
		got := map[string]bool{}
		for _, m := range hpa.Status.CurrentMetrics {
			if m.Pods != nil {
				got[m.Pods.Metric.Name] = true
			}
		}
		assert.Equal(ct, map[string]bool{"redis_ops_per_second": true, "redis_memory_fraction": true, "redis_response_time_seconds": true}, got,
			"conditions: %+v", hpa.Status.Conditions)
	}, 90*time.Second, time.Second)
	t.Logf("HPA reads the three signals %v after the example was applied", time.Since(start).Round(100*time.Millisecond))

	// The exporter found the three pods by discovery and authenticated,
	// reached through its Service's ClusterIP.
	svc, err := c.Client.CoreV1().Services("redis-autoscaler").Get(ctx, "redis-autoscaler-exporter", metav1.GetOptions{})
	require.NoError(t, err)
	require.EventuallyWithT(t, func(ct *assert.CollectT) {
		resp, err := http.Get("http://" + svc.Spec.ClusterIP + ":9121/metrics")
		if !assert.NoError(ct, err) {
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		in.exporterMetrics = string(b)
		up := 0
		for _, line := range strings.Split(in.exporterMetrics, "\n") {
			if strings.HasPrefix(line, "redis_up{") && strings.HasSuffix(line, " 1") {
				up++
			}
		}
		// At least the 3 pods (the HPA may have added some: the example's
		// response-time target is 2 ms, which a busy test machine exceeds).
		assert.GreaterOrEqual(ct, up, 3, "redis_up 1 lines")
	}, time.Minute, time.Second)
}

// describe is what `kubectl describe rrg` would show: status and Events.
func (in *installed) describe() string {
	var b strings.Builder
	if g, err := in.dyn.Resource(groupGVR).Namespace("redis").Get(in.ctx, "cache", metav1.GetOptions{}); err == nil {
		st, _ := json.Marshal(g.Object["status"])
		fmt.Fprintf(&b, "status %s\n", st)
	}
	if evs, err := in.c.Client.CoreV1().Events("redis").List(in.ctx, metav1.ListOptions{}); err == nil {
		for _, e := range evs.Items {
			fmt.Fprintf(&b, "%s %s %s: %s\n", e.InvolvedObject.Name, e.Type, e.Reason, e.Message)
		}
	}
	return b.String()
}

func (in *installed) raw(t *testing.T, path string) []byte {
	b, err := in.c.Client.CoreV1().RESTClient().Get().AbsPath(path).DoRaw(in.ctx)
	require.NoError(t, err, path)
	return b
}

// checkNoLeak: the password is nowhere but in Secrets (and the pods' own
// memory): not in ConfigMaps, pod specs, Events, groups, logs or metrics.
func (in *installed) checkNoLeak(t *testing.T) {
	c, ctx := in.c, in.ctx
	leaks := []string{}
	check := func(what, text string) {
		if strings.Contains(text, in.password) {
			leaks = append(leaks, what)
		}
	}
	check("exporter /metrics", in.exporterMetrics)
	check("custom metrics", string(in.raw(t, "/apis/custom.metrics.k8s.io/v1beta2/namespaces/redis/pods/*/redis_ops_per_second")))
	for _, ns := range []string{"redis", "redis-autoscaler"} {
		cms, err := c.Client.CoreV1().ConfigMaps(ns).List(ctx, metav1.ListOptions{})
		require.NoError(t, err)
		b, _ := json.Marshal(cms)
		check("ConfigMaps in "+ns, string(b))
		pods, err := c.Client.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
		require.NoError(t, err)
		b, _ = json.Marshal(pods)
		check("pods in "+ns, string(b))
		events, err := c.Client.CoreV1().Events(ns).List(ctx, metav1.ListOptions{})
		require.NoError(t, err)
		b, _ = json.Marshal(events)
		check("events in "+ns, string(b))
		groups, err := in.dyn.Resource(groupGVR).Namespace(ns).List(ctx, metav1.ListOptions{})
		if !apierrors.IsNotFound(err) {
			require.NoError(t, err)
			b, _ = json.Marshal(groups)
			check("groups in "+ns, string(b))
		}
	}
	logs, err := filepath.Glob(filepath.Join(c.Dir, "pods", "*", "*.log"))
	require.NoError(t, err)
	require.NotEmpty(t, logs)
	for _, f := range logs {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		check("log "+filepath.Base(filepath.Dir(f))+"/"+filepath.Base(f), string(b))
	}
	require.Empty(t, leaks, "the password appears in these")
}

func ctx(t *testing.T, d time.Duration) context.Context {
	c, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return c
}
