package adapter_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
	"k8s.io/metrics/pkg/client/custom_metrics"

	"github.com/redis-autoscaler/redis-autoscaler/adapter"
	"github.com/redis-autoscaler/redis-autoscaler/test/cluster"
	"github.com/redis-autoscaler/redis-autoscaler/test/testcerts"
)

func TestMain(m *testing.M) { cluster.Main(m) }

// env is one adapter registered with the aggregator of the shared cluster.
type env struct {
	c       *cluster.Cluster
	metrics custom_metrics.CustomMetricsClient
	port    int // the adapter's secure port on 127.0.0.1
	pid     int // the adapter's process with ADAPTER_BIN (0: in the test's process)
}

var (
	adapterOnce sync.Once
	adapterEnv  *env
	adapterErr  error
)

// startAdapter runs the adapter as a host process of the test (in-process),
// under the ServiceAccount and RBAC that deploy/ ships, registered through
// an APIService exactly as in a cluster.
func startAdapter(t *testing.T) *env { return startAdapterB(t) }

func startAdapterB(t testing.TB) *env {
	c := cluster.Shared(t)
	adapterOnce.Do(func() {
		// Not t.TempDir: the adapter outlives the test that starts it; the
		// cluster's directory goes when the cluster stops.
		dir, err := os.MkdirTemp(c.Dir, "adapter-")
		if err != nil {
			adapterErr = err
			return
		}
		adapterEnv, adapterErr = setup(c, dir)
	})
	require.NoError(t, adapterErr)
	return adapterEnv
}

func setup(c *cluster.Cluster, dir string) (*env, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if _, err := c.Client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "redis-autoscaler"}}, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return nil, err
	}
	for _, f := range []string{"../deploy/base/adapter/serviceaccount.yaml", "../deploy/base/adapter/rbac.yaml"} {
		if err := c.Apply(ctx, f); err != nil {
			return nil, err
		}
	}
	kubeconfig, err := c.ServiceAccountKubeconfig(ctx, "redis-autoscaler", "redis-autoscaler-adapter")
	if err != nil {
		return nil, err
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	// The aggregator verifies the serving certificate against the
	// APIService's Service name, as in a cluster: a self-signed one for
	// "localhost" is refused.
	certFile, keyFile, ca, err := servingCert(dir,
		cluster.APIServiceHost("custom.metrics.k8s.io", "v1beta1"),
		cluster.APIServiceHost("custom.metrics.k8s.io", "v1beta2"),
		cluster.APIServiceHost("external.metrics.k8s.io", "v1beta1"), "localhost")
	if err != nil {
		return nil, err
	}
	args := []string{
		"--secure-port", strconv.Itoa(port), "--bind-address", "127.0.0.1",
		"--tls-cert-file", certFile, "--tls-private-key-file", keyFile,
		"--lister-kubeconfig", kubeconfig, "--authentication-kubeconfig", kubeconfig, "--authorization-kubeconfig", kubeconfig,
		"--interval", "1s", "--window", "10s",
	}
	if iv := os.Getenv("ADAPTER_INTERVAL"); iv != "" {
		args = append(args, "--interval", iv)
	}
	pid := 0
	if bin := os.Getenv("ADAPTER_BIN"); bin != "" {
		// A separate process, as in a cluster (benchmarks): its CPU and GC
		// are not shared with the test's pod runner.
		cmd := exec.Command(bin, append([]string{"adapter"}, args...)...)
		cmd.Stderr = os.Stderr
		cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
		if err := cmd.Start(); err != nil {
			return nil, err
		}
		pid = cmd.Process.Pid
	} else {
		go func() {
			// Runs until the test binary exits; the shared cluster stops after.
			code := adapter.Main(context.Background(), args, io.Discard, os.Stderr)
			if code != 0 {
				fmt.Fprintln(os.Stderr, "adapter exited with", code)
			}
		}()
	}
	if err := waitListening(port); err != nil {
		return nil, err
	}
	for _, gv := range [][2]string{{"custom.metrics.k8s.io", "v1beta1"}, {"custom.metrics.k8s.io", "v1beta2"}, {"external.metrics.k8s.io", "v1beta1"}} {
		if err := c.RegisterAPIService(ctx, gv[0], gv[1], port, ca); err != nil {
			return nil, err
		}
		if err := c.WaitAPIServiceAvailable(ctx, gv[0], gv[1], time.Minute); err != nil {
			return nil, err
		}
	}
	dc, err := discovery.NewDiscoveryClientForConfig(c.Config)
	if err != nil {
		return nil, err
	}
	mapper := restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(dc))
	// The client the HPA controller itself uses, configured as
	// kube-controller-manager configures it: its --kube-api-content-type
	// defaults to protobuf, so the HPA asks the adapter for protobuf.
	hpaConfig := rest.CopyConfig(c.Config)
	hpaConfig.ContentType = hpaContentType()
	mc := custom_metrics.NewForConfig(hpaConfig, mapper, custom_metrics.NewAvailableAPIsGetter(dc))
	return &env{c: c, metrics: mc, port: port, pid: pid}, nil
}

// hpaContentType is what kube-controller-manager's clients send and accept
// by default; BENCH_CONTENT_TYPE=application/json measures the JSON path.
func hpaContentType() string {
	if ct := os.Getenv("BENCH_CONTENT_TYPE"); ct != "" {
		return ct
	}
	return "application/vnd.kubernetes.protobuf"
}

func ctxT(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// readyPods waits for n running pods of app and returns them by name.
func readyPods(t *testing.T, c *cluster.Cluster, ns, app string, n int) map[string]*corev1.Pod {
	t.Helper()
	out := map[string]*corev1.Pod{}
	require.Eventually(t, func() bool {
		list, err := c.Client.CoreV1().Pods(ns).List(context.Background(), metav1.ListOptions{LabelSelector: "app=" + app})
		if err != nil {
			return false
		}
		clear(out)
		for i := range list.Items {
			p := &list.Items[i]
			if p.Status.Phase == corev1.PodRunning && p.Status.PodIP != "" {
				out[p.Name] = p
			}
		}
		return len(out) == n
	}, time.Minute, 200*time.Millisecond, "%d running pods of %s", n, app)
	return out
}

func podClient(t *testing.T, p *corev1.Pod) *redis.Client {
	rc := redis.NewClient(&redis.Options{Addr: net.JoinHostPort(p.Status.PodIP, "6379"), Protocol: 2, DisableIdentity: true})
	t.Cleanup(func() { rc.Close() })
	return rc
}

func hpa(name string, metrics ...autoscalingv2.MetricSpec) *autoscalingv2.HorizontalPodAutoscaler {
	minReplicas := int32(2)
	zero := int32(0)
	return &autoscalingv2.HorizontalPodAutoscaler{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: autoscalingv2.HorizontalPodAutoscalerSpec{
			ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: "StatefulSet", Name: name},
			MinReplicas:    &minReplicas,
			MaxReplicas:    4,
			Metrics:        metrics,
			Behavior: &autoscalingv2.HorizontalPodAutoscalerBehavior{
				ScaleDown: &autoscalingv2.HPAScalingRules{StabilizationWindowSeconds: &zero},
			},
		},
	}
}

func podsMetric(name, average string) autoscalingv2.MetricSpec {
	q := resource.MustParse(average)
	return autoscalingv2.MetricSpec{Type: autoscalingv2.PodsMetricSourceType, Pods: &autoscalingv2.PodsMetricSource{
		Metric: autoscalingv2.MetricIdentifier{Name: name},
		Target: autoscalingv2.MetricTarget{Type: autoscalingv2.AverageValueMetricType, AverageValue: &q},
	}}
}

func objectMetric(kind, apiVersion, object, name, value string) autoscalingv2.MetricSpec {
	q := resource.MustParse(value)
	return autoscalingv2.MetricSpec{Type: autoscalingv2.ObjectMetricSourceType, Object: &autoscalingv2.ObjectMetricSource{
		DescribedObject: autoscalingv2.CrossVersionObjectReference{Kind: kind, APIVersion: apiVersion, Name: object},
		Metric:          autoscalingv2.MetricIdentifier{Name: name},
		Target:          autoscalingv2.MetricTarget{Type: autoscalingv2.ValueMetricType, Value: &q},
	}}
}

var podGK = schema.GroupKind{Kind: "Pod"}
var stsGK = schema.GroupKind{Group: "apps", Kind: "StatefulSet"}

// poll calls fn until it returns nil or timeout passes, then fails the test
// with fn's last error.
func poll(t *testing.T, timeout time.Duration, what string, fn func() error) {
	t.Helper()
	var last error
	err := wait.PollUntilContextTimeout(context.Background(), 500*time.Millisecond, timeout, true, func(context.Context) (bool, error) {
		last = fn()
		return last == nil, nil
	})
	if err != nil {
		t.Fatalf("%s: not after %s: %v", what, timeout, last)
	}
}

func waitListening(port int) error {
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	var last error
	err := wait.PollUntilContextTimeout(context.Background(), 100*time.Millisecond, 30*time.Second, true, func(context.Context) (bool, error) {
		c, err := net.DialTimeout("tcp", addr, 100*time.Millisecond)
		if last = err; err != nil {
			return false, nil
		}
		c.Close()
		return true, nil
	})
	if err != nil {
		return fmt.Errorf("adapter not listening on %s: %v", addr, last)
	}
	return nil
}

// servingCert writes a serving certificate for names, signed by a fresh
// CA, and returns its files and the CA's PEM (the APIService's caBundle).
func servingCert(dir string, names ...string) (certFile, keyFile string, caPEM []byte, err error) {
	ca, err := testcerts.NewCA("adapter test CA")
	if err != nil {
		return "", "", nil, err
	}
	kp, err := ca.Issue(testcerts.Options{
		CommonName: names[0],
		DNSNames:   names,
		IPs:        []net.IP{net.ParseIP("127.0.0.1")},
		Server:     true,
	})
	if err != nil {
		return "", "", nil, err
	}
	certFile, keyFile, err = kp.WriteFiles(dir, "serving")
	return certFile, keyFile, ca.CertPEM, err
}
