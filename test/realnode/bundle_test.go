// Package realnode_test runs the shipped bundle and example group on a real
// kubelet with containerd (test/cluster NodeReal), from the images the
// harness assembles from this checkout: the proofs that depend on real
// pods (images, DNS addressing, exec probes, kubectl logs/exec, eviction,
// restarts, new pod IPs).
package realnode_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/redis-autoscaler/redis-autoscaler/test/cluster"
	"github.com/redis-autoscaler/redis-autoscaler/test/e2e"
)

func TestMain(m *testing.M) { cluster.Main(m) }

var groupGVR = schema.GroupVersionResource{Group: "redisautoscaler.io", Version: "v1alpha1", Resource: "redisreplicationgroups"}

// TestBundleOnRealNode installs deploy/base and deploy/examples/redis-group
// as a user does, with the shipped image, and the example unpatched (DNS
// addressing). Then, under SET + WAIT 1 writes: three rollout restarts,
// the master evicted through the Eviction API, its Redis killed with
// kill -9, a pod deleted and re-created on a new IP; every acknowledged
// write is on the final master and every synced replica.
// REALNODE_ROUNDS sets the number of rollouts (default 3; make e2e-node
// runs more).
func TestBundleOnRealNode(t *testing.T) {
	c := cluster.StartReal(t)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	start := time.Now()
	env, err := e2e.Install(ctx, c, e2e.Options{
		Replicas: 3, MinReplicas: 3, MaxReplicas: 5,
		Metrics:         []autoscalingv2.MetricSpec{e2e.PodsMetric("redis_ops_per_second", "1k")},
		ScaleDownWindow: 5 * time.Second,
		AdapterArgs:     []string{"--interval=1s", "--window=10s"},
		Progress:        t.Logf,
	})
	require.NoError(t, err, "install")
	t.Logf("bundle and example group installed and converged in %v", time.Since(start).Round(100*time.Millisecond))

	g, err := env.Dyn.Resource(groupGVR).Namespace(e2e.Namespace).Get(ctx, e2e.Group, metav1.GetOptions{})
	require.NoError(t, err)
	addressing, _, _ := unstructured.NestedString(g.Object, "spec", "addressing")
	require.NotEqual(t, "ip", addressing, "the example runs as shipped")
	requireReplicasByDNS(t, ctx, env)

	t.Run("exporter scrapes the Redis containers", func(t *testing.T) { requireExporterScrapes(t, ctx, env) })

	t.Run("kubectl logs and exec on every pod, the runbook's commands", func(t *testing.T) {
		for _, ns := range []string{e2e.System, e2e.Namespace} {
			pods, err := c.Client.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
			require.NoError(t, err)
			require.NotEmpty(t, pods.Items)
			for _, p := range pods.Items {
				for _, ctr := range p.Spec.Containers {
					out, err := c.Kubectl(ctx, "-n", ns, "logs", p.Name, "-c", ctr.Name, "--tail=5")
					assert.NoError(t, err, "logs %s/%s", p.Name, ctr.Name)
					assert.NotContains(t, out, env.Password, "no password in %s/%s's log", p.Name, ctr.Name)
				}
			}
		}
		pods, err := env.Pods(ctx)
		require.NoError(t, err)
		for _, p := range pods {
			// REDISCLI_AUTH from the Secret, as the probes use it.
			out, err := c.Kubectl(ctx, "-n", e2e.Namespace, "exec", p.Name, "-c", "redis", "--", "redis-cli", "-h", "127.0.0.1", "info", "replication")
			if assert.NoError(t, err, "exec %s", p.Name) {
				assert.Contains(t, out, "role:", p.Name)
			}
		}
		for _, args := range [][]string{
			{"-n", e2e.Namespace, "get", "pod", "-o", "wide"},
			{"-n", e2e.Namespace, "describe", "rrg", e2e.Group},
			{"-n", e2e.System, "get", "lease"},
			{"-n", e2e.Namespace, "describe", "hpa", e2e.Group},
			{"get", "apiservice", "v1beta1.custom.metrics.k8s.io", "v1beta2.custom.metrics.k8s.io"},
			{"get", "--raw", "/apis/custom.metrics.k8s.io/v1beta2"},
		} {
			out, err := c.Kubectl(ctx, args...)
			assert.NoError(t, err)
			assert.NotContains(t, out, env.Password)
		}
	})

	w := env.StartWriter(ctx)
	defer w.Close()
	require.Eventually(t, func() bool { return w.Count() > 100 }, 30*time.Second, 10*time.Millisecond, "writer starts")

	t.Run("load moves the real HPA up and down", func(t *testing.T) {
		load := env.StartLoad(ctx)
		defer load.Stop()
		waitSize := func(what string, want int32) {
			t.Helper()
			begin := time.Now()
			require.EventuallyWithT(t, func(ct *assert.CollectT) {
				n, err := env.GroupReplicas(ctx)
				assert.NoError(ct, err)
				assert.Equal(ct, want, n, "spec.replicas")
			}, 3*time.Minute, time.Second, what)
			require.NoError(t, env.WaitConverged(ctx, want, 3*time.Minute), what)
			t.Logf("%s: %d pods attached and in sync %v after the change", what, want, time.Since(begin).Round(100*time.Millisecond))
		}
		load.SetRate(6000)
		waitSize("load 6000 ops/s, target 1k per pod", 5)
		load.SetRate(0)
		waitSize("load stopped", 3)
		assert.Zero(t, load.Errors(), "load errors")
	})

	t.Run("rollout restarts", func(t *testing.T) {
		for i := range rounds() {
			begin := time.Now()
			before := podUIDs(t, ctx, env)
			_, err := c.Kubectl(ctx, "-n", e2e.Namespace, "rollout", "restart", "statefulset/"+e2e.Group)
			require.NoError(t, err)
			require.EventuallyWithT(t, func(ct *assert.CollectT) {
				after := podUIDs(t, ctx, env)
				for name, uid := range before {
					assert.NotEqual(ct, uid, after[name], "%s replaced", name)
				}
				assert.NoError(ct, env.WaitConverged(ctx, 3, time.Second))
			}, 5*time.Minute, time.Second)
			t.Logf("rollout %d: every pod replaced and converged in %v; %d acknowledged so far, longest write gap %v",
				i+1, time.Since(begin).Round(100*time.Millisecond), w.Count(), w.MaxGap().Round(time.Millisecond))
		}
	})

	t.Run("master evicted through the Eviction API", func(t *testing.T) {
		master := currentMaster(t, ctx, env)
		require.NoError(t, evict(ctx, c, master.Name))
		// The PDB (maxUnavailable 1) refuses a second eviction while the
		// first pod is going.
		other := ""
		pods, _ := env.Pods(ctx)
		for _, p := range pods {
			if p.Name != master.Name {
				other = p.Name
				break
			}
		}
		err := evict(ctx, c, other)
		require.Error(t, err, "the PodDisruptionBudget allows one pod at a time")
		assert.True(t, apierrors.IsTooManyRequests(err), "refused with 429: %v", err)
		waitReplaced(t, ctx, env, master)
		newMaster := currentMaster(t, ctx, env)
		assert.NotEqual(t, master.UID, newMaster.UID)
		t.Logf("evicted master %s; new master %s; longest write gap %v", master.Name, newMaster.Name, w.MaxGap().Round(time.Millisecond))
	})

	t.Run("master's Redis killed with kill -9", func(t *testing.T) {
		master := currentMaster(t, ctx, env)
		pids, err := c.ContainerPIDs(master.Status.ContainerStatuses[0].ContainerID)
		require.NoError(t, err)
		for _, pid := range pids {
			require.NoError(t, syscall.Kill(pid, syscall.SIGKILL))
		}
		require.EventuallyWithT(t, func(ct *assert.CollectT) {
			p, err := c.Client.CoreV1().Pods(e2e.Namespace).Get(ctx, master.Name, metav1.GetOptions{})
			require.NoError(ct, err)
			assert.Equal(ct, master.UID, p.UID, "same pod")
			assert.Equal(ct, master.Status.PodIP, p.Status.PodIP, "same pod IP")
			assert.Greater(ct, p.Status.ContainerStatuses[0].RestartCount, master.Status.ContainerStatuses[0].RestartCount)
			assert.NoError(ct, env.WaitConverged(ctx, 3, time.Second))
		}, 3*time.Minute, time.Second)
		t.Logf("killed %s's Redis; restarted by the kubelet on %s; longest write gap %v", master.Name, master.Status.PodIP, w.MaxGap().Round(time.Millisecond))
	})

	t.Run("pod deleted, re-created on a new IP", func(t *testing.T) {
		pods, err := env.Pods(ctx)
		require.NoError(t, err)
		victim := pods[len(pods)-1]
		require.NoError(t, c.Client.CoreV1().Pods(e2e.Namespace).Delete(ctx, victim.Name, metav1.DeleteOptions{}))
		p := waitReplaced(t, ctx, env, victim)
		assert.NotEqual(t, victim.Status.PodIP, p.Status.PodIP, "a new IP")
		requireReplicasByDNS(t, ctx, env)
	})

	n := w.Count()
	require.Eventually(t, func() bool { return w.Count() > n+50 }, 30*time.Second, 10*time.Millisecond)
	acked := w.Finish()
	require.NoError(t, env.WaitConverged(ctx, 3, 2*time.Minute))
	t.Logf("SET + WAIT 1: %d acknowledged, %d failed, longest gap between acknowledged writes %v",
		len(acked), w.Failed(), w.MaxGap().Round(time.Millisecond))
	require.NoError(t, env.VerifyKeys(ctx, acked), "every acknowledged write on the master and every synced replica")
}

// requireReplicasByDNS: every replica reaches its master by the pod's DNS
// name (the example's addressing), and its link is up.
func requireReplicasByDNS(t *testing.T, ctx context.Context, env *e2e.Env) {
	t.Helper()
	pods, err := env.Pods(ctx)
	require.NoError(t, err)
	master, synced, _ := e2e.Roles(pods)
	require.NotNil(t, master)
	require.NotEmpty(t, synced)
	for _, p := range synced {
		rc := env.Client(p)
		info, err := rc.Info(ctx, "replication").Result()
		rc.Close()
		require.NoError(t, err)
		assert.Contains(t, info, "master_host:"+master.Name+"."+e2e.Group+"."+e2e.Namespace+".svc", p.Name)
		assert.Contains(t, info, "master_link_status:up", p.Name)
	}
}

func podUIDs(t *testing.T, ctx context.Context, env *e2e.Env) map[string]string {
	pods, err := env.Pods(ctx)
	require.NoError(t, err)
	out := map[string]string{}
	for _, p := range pods {
		out[p.Name] = string(p.UID)
	}
	return out
}

func currentMaster(t *testing.T, ctx context.Context, env *e2e.Env) corev1.Pod {
	t.Helper()
	require.NoError(t, env.WaitConverged(ctx, 3, 2*time.Minute))
	pods, err := env.Pods(ctx)
	require.NoError(t, err)
	m, _, _ := e2e.Roles(pods)
	require.NotNil(t, m)
	return *m
}

// waitReplaced waits for a pod of the same name with a new UID and the
// group converged around it.
func waitReplaced(t *testing.T, ctx context.Context, env *e2e.Env, old corev1.Pod) corev1.Pod {
	t.Helper()
	var p *corev1.Pod
	require.EventuallyWithT(t, func(ct *assert.CollectT) {
		var err error
		p, err = env.C.Client.CoreV1().Pods(e2e.Namespace).Get(ctx, old.Name, metav1.GetOptions{})
		require.NoError(ct, err)
		assert.NotEqual(ct, old.UID, p.UID)
		assert.NoError(ct, env.WaitConverged(ctx, 3, time.Second))
	}, 3*time.Minute, time.Second)
	return *p
}

func evict(ctx context.Context, c *cluster.Cluster, pod string) error {
	return c.Client.PolicyV1().Evictions(e2e.Namespace).Evict(ctx, &policyv1.Eviction{
		ObjectMeta: metav1.ObjectMeta{Name: pod, Namespace: e2e.Namespace},
	})
}

// requireExporterScrapes: the exporter's pod discovery found every Redis
// pod of the group and scrapes it (redis_up 1: reached and authenticated).
func requireExporterScrapes(t *testing.T, ctx context.Context, env *e2e.Env) {
	t.Helper()
	pods, err := env.Pods(ctx)
	require.NoError(t, err)
	require.EventuallyWithT(t, func(ct *assert.CollectT) {
		body := exporterMetrics(t, ctx, env.C)
		for _, p := range pods {
			assert.Regexp(ct, fmt.Sprintf(`redis_up\{[^}]*%s[^}]*\} 1`, p.Status.PodIP), body, "pod %s", p.Name)
		}
	}, time.Minute, time.Second)
}

// exporterMetrics reads the bundle's exporter's /metrics at its pod IP
// (the host reaches pods through the bridge).
func exporterMetrics(t *testing.T, ctx context.Context, c *cluster.Cluster) string {
	t.Helper()
	var body string
	require.EventuallyWithT(t, func(ct *assert.CollectT) {
		pods, err := c.Client.CoreV1().Pods(e2e.System).List(ctx, metav1.ListOptions{LabelSelector: "app.kubernetes.io/component=exporter"})
		require.NoError(ct, err)
		require.NotEmpty(ct, pods.Items)
		resp, err := http.Get("http://" + pods.Items[0].Status.PodIP + ":9121/metrics")
		require.NoError(ct, err)
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		require.NoError(ct, err)
		body = string(b)
		assert.Equal(ct, 3, strings.Count(body, "redis_up{"), "three Redis targets discovered")
	}, time.Minute, time.Second)
	return body
}

// execCommand runs a command and returns its combined output.
func execCommand(ctx context.Context, bin string, args ...string) (string, error) {
	out, err := exec.CommandContext(ctx, bin, args...).CombinedOutput()
	return string(out), err
}

// rounds is REALNODE_ROUNDS, default 3.
func rounds() int {
	if n, err := strconv.Atoi(os.Getenv("REALNODE_ROUNDS")); err == nil && n > 0 {
		return n
	}
	return 3
}
