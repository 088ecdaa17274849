package realnode_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/dynamic"

	"github.com/redis-autoscaler/redis-autoscaler/test/cluster"
	"github.com/redis-autoscaler/redis-autoscaler/test/e2e"
	"github.com/redis-autoscaler/redis-autoscaler/test/manifests"
)

// TestHelmOnRealNode: `helm install` of the chart with the example group,
// as the README says, on a real node with the shipped image: both
// APIServices Available, the group converged by DNS addressing, the HPA
// reading our metrics, the exporter scraping every Redis, kubectl logs and
// exec on every pod, and `helm uninstall` removing the release.
func TestHelmOnRealNode(t *testing.T) {
	c := cluster.StartReal(t)
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	helm, err := manifests.Tool(manifests.HelmBin)
	require.NoError(t, err)
	_, err = c.Client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: e2e.Namespace}}, metav1.CreateOptions{})
	require.NoError(t, err)
	require.NoError(t, c.WaitServiceAccount(ctx, e2e.Namespace))

	start := time.Now()
	out, err := run(ctx, helm, "--kubeconfig", c.KubeconfigPath, "install", "redis-autoscaler",
		filepath.Join(manifests.Root(), "deploy", "helm", "redis-autoscaler"),
		"-n", e2e.System, "--create-namespace", "--set", "exampleGroup.enabled=true",
		"--wait", "--timeout", "4m")
	require.NoError(t, err, out)
	t.Logf("helm install --wait returned after %v", time.Since(start).Round(100*time.Millisecond))
	for _, v := range []string{"v1beta1", "v1beta2"} {
		if err := c.WaitAPIServiceAvailable(ctx, "custom.metrics.k8s.io", v, 2*time.Minute); err != nil {
			// What the aggregator reaches: the Service's endpoints and
			// the adapters' own view.
			slices, _ := c.Kubectl(ctx, "-n", e2e.System, "get", "endpointslices", "-o", "wide")
			logs, _ := c.Kubectl(ctx, "-n", e2e.System, "logs", "-l", "app.kubernetes.io/component=adapter", "--tail=20", "--prefix")
			t.Fatalf("%v\nendpoint slices:\n%s\nadapter logs:\n%s", err, slices, logs)
		}
	}

	secret, err := c.Client.CoreV1().Secrets(e2e.Namespace).Get(ctx, "cache-auth", metav1.GetOptions{})
	require.NoError(t, err)
	dyn, err := dynamic.NewForConfig(c.Config)
	require.NoError(t, err)
	env := &e2e.Env{C: c, Dyn: dyn, Password: string(secret.Data["password"])}
	require.NoError(t, env.WaitConverged(ctx, 3, 3*time.Minute), "the chart's example group converges")
	t.Logf("example group converged %v after helm install began", time.Since(start).Round(100*time.Millisecond))
	requireReplicasByDNS(t, ctx, env)

	// The exporter and the adapter authenticate with the example's
	// password (the chart wires it into redis.passwordSecret).
	requireExporterScrapes(t, ctx, env)
	require.EventuallyWithT(t, func(ct *assert.CollectT) {
		hpa, err := env.HPA(ctx)
		require.NoError(ct, err)
		read := 0
		for _, m := range hpa.Status.CurrentMetrics {
			if m.Pods != nil && m.Pods.Current.AverageValue != nil {
				read++
			}
		}
		assert.Equal(ct, len(hpa.Spec.Metrics), read, "the HPA reads every metric: %+v", hpa.Status.Conditions)
	}, 3*time.Minute, time.Second)
	t.Logf("the HPA reads every metric %v after helm install began", time.Since(start).Round(100*time.Millisecond))
	for _, ns := range []string{e2e.System, e2e.Namespace} {
		pods, err := c.Client.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
		require.NoError(t, err)
		for _, p := range pods.Items {
			out, err := c.Kubectl(ctx, "-n", ns, "logs", p.Name, "--all-containers", "--tail=3")
			assert.NoError(t, err, "logs %s", p.Name)
			assert.NotContains(t, out, env.Password)
			cmd := []string{"/usr/local/bin/redis-autoscaler", "version"}
			if ns == e2e.Namespace {
				cmd = []string{"redis-cli", "-h", "127.0.0.1", "ping"}
			}
			_, err = c.Kubectl(ctx, append([]string{"-n", ns, "exec", p.Name, "--"}, cmd...)...)
			assert.NoError(t, err, "exec %s", p.Name)
		}
	}

	out, err = run(ctx, helm, "--kubeconfig", c.KubeconfigPath, "uninstall", "redis-autoscaler", "-n", e2e.System, "--wait", "--timeout", "2m")
	require.NoError(t, err, out)
	require.EventuallyWithT(t, func(ct *assert.CollectT) {
		pods, err := c.Client.CoreV1().Pods(e2e.System).List(ctx, metav1.ListOptions{})
		require.NoError(ct, err)
		assert.Empty(ct, pods.Items, "the release's pods are gone")
	}, 2*time.Minute, time.Second)
}

func run(ctx context.Context, bin string, args ...string) (string, error) {
	out, err := execCommand(ctx, bin, args...)
	return strings.TrimSpace(out), err
}
