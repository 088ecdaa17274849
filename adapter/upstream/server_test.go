package upstream

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/spf13/pflag"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apiserver/pkg/authentication/authenticator"
	"k8s.io/apiserver/pkg/authentication/request/bearertoken"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"
	"k8s.io/metrics/pkg/apis/custom_metrics"
	basecmd "sigs.k8s.io/custom-metrics-apiserver/pkg/cmd"
	"sigs.k8s.io/custom-metrics-apiserver/pkg/provider"
)

// upstreamToken is the only bearer token the test upstream accepts.
const upstreamToken = "upstream-test-token"

var (
	podsGR       = schema.GroupResource{Resource: "pods"}
	namespacesGR = schema.GroupResource{Resource: "namespaces"}
	deployGR     = schema.GroupResource{Group: "apps", Resource: "deployments"}
)

// fakeProvider plays prometheus-adapter: http_requests per pod, per
// deployment, and queue_depth per namespace. It records which metrics it
// was asked for.
type fakeProvider struct {
	mu    sync.Mutex
	asked []string
}

// podLabels are the pods the fake knows, in namespace "web".
var podLabels = map[string]labels.Set{
	"web-0": {"app": "web"},
	"web-1": {"app": "web"},
	"db-0":  {"app": "db"},
}

func (f *fakeProvider) record(metric string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.asked = append(f.asked, metric)
}

func (f *fakeProvider) askedFor() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.asked...)
}

func value(gr schema.GroupResource, kind, ns, name, metric string, milli int64) custom_metrics.MetricValue {
	return custom_metrics.MetricValue{
		DescribedObject: custom_metrics.ObjectReference{Kind: kind, APIVersion: "v1", Namespace: ns, Name: name},
		Metric:          custom_metrics.MetricIdentifier{Name: metric},
		Timestamp:       metav1.Now(),
		Value:           *resource.NewMilliQuantity(milli, resource.DecimalSI),
	}
}

func (f *fakeProvider) GetMetricByName(_ context.Context, name types.NamespacedName, info provider.CustomMetricInfo, _ labels.Selector) (*custom_metrics.MetricValue, error) {
	f.record(info.Metric)
	switch {
	case info.Metric == "http_requests" && info.GroupResource == podsGR && name.Namespace == "web":
		if _, ok := podLabels[name.Name]; ok {
			v := value(info.GroupResource, "Pod", name.Namespace, name.Name, info.Metric, 1500)
			return &v, nil
		}
	case info.Metric == "http_requests" && info.GroupResource == deployGR && name.Namespace == "web" && name.Name == "web":
		v := value(info.GroupResource, "Deployment", name.Namespace, name.Name, info.Metric, 3000)
		return &v, nil
	case info.Metric == "queue_depth" && info.GroupResource == namespacesGR && name.Name == "web":
		v := value(info.GroupResource, "Namespace", "", name.Name, info.Metric, 7000)
		return &v, nil
	}
	return nil, provider.NewMetricNotFoundForError(info.GroupResource, info.Metric, name.Name)
}

func (f *fakeProvider) GetMetricBySelector(_ context.Context, namespace string, selector labels.Selector, info provider.CustomMetricInfo, _ labels.Selector) (*custom_metrics.MetricValueList, error) {
	f.record(info.Metric)
	if info.Metric != "http_requests" || info.GroupResource != podsGR || namespace != "web" {
		return nil, provider.NewMetricNotFoundForSelectorError(info.GroupResource, info.Metric, "*", selector)
	}
	list := &custom_metrics.MetricValueList{}
	for _, pod := range []string{"db-0", "web-0", "web-1"} {
		if selector.Matches(podLabels[pod]) {
			list.Items = append(list.Items, value(info.GroupResource, "Pod", namespace, pod, info.Metric, 1500))
		}
	}
	return list, nil
}

func (f *fakeProvider) ListAllMetrics() []provider.CustomMetricInfo {
	return []provider.CustomMetricInfo{
		{GroupResource: podsGR, Namespaced: true, Metric: "http_requests"},
		{GroupResource: deployGR, Namespaced: true, Metric: "http_requests"},
		{GroupResource: namespacesGR, Namespaced: false, Metric: "queue_depth"},
	}
}

// testUpstream is a running custom-metrics-apiserver.
type testUpstream struct {
	url    string
	caFile string
	fake   *fakeProvider
}

var (
	upstreamOnce sync.Once
	sharedUp     *testUpstream
	sharedUpErr  error
)

// startUpstream runs a real custom-metrics-apiserver (the library
// prometheus-adapter is built on) in-process, once per test binary. It
// needs no cluster: delegated authentication and authorization are
// replaced by a fixed bearer token, and the lister kubeconfig points at
// nothing (its informers are never started for anything).
func startUpstream(t *testing.T) *testUpstream {
	upstreamOnce.Do(func() {
		dir, err := os.MkdirTemp("", "upstream-test-")
		if err != nil {
			sharedUpErr = err
			return
		}
		sharedUp, sharedUpErr = runUpstream(dir)
	})
	require.NoError(t, sharedUpErr)
	return sharedUp
}

func runUpstream(dir string) (*testUpstream, error) {
	fake := &fakeProvider{}
	url, caFile, err := serveProvider(dir, fake)
	if err != nil {
		return nil, err
	}
	return &testUpstream{url: url, caFile: caFile, fake: fake}, nil
}

// serveProvider runs a custom-metrics-apiserver serving p until the test
// binary exits and returns its URL and CA file once it is healthy.
func serveProvider(dir string, p provider.CustomMetricsProvider) (url, caFile string, err error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", "", err
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	kubeconfig := filepath.Join(dir, "kubeconfig")
	if err := os.WriteFile(kubeconfig, []byte(unreachableKubeconfig), 0o600); err != nil {
		return "", "", err
	}
	certDir := filepath.Join(dir, "certs")

	base := &basecmd.AdapterBase{Name: "test-upstream", FlagSet: pflag.NewFlagSet("upstream", pflag.ContinueOnError)}
	if err := base.Flags().Parse([]string{
		"--secure-port", strconv.Itoa(port), "--bind-address", "127.0.0.1", "--cert-dir", certDir,
		"--lister-kubeconfig", kubeconfig,
	}); err != nil {
		return "", "", err
	}
	// No delegation to a kube-apiserver: our own token check below.
	base.Authentication, base.Authorization = nil, nil
	// Before Config(), or OpenAPI fails with "cannot find model definition".
	base.WithCustomMetrics(p)
	cfg, err := base.Config()
	if err != nil {
		return "", "", fmt.Errorf("custom-metrics-apiserver config: %w", err)
	}
	cfg.GenericConfig.Authentication.Authenticator = bearertoken.New(authenticator.TokenFunc(
		func(_ context.Context, token string) (*authenticator.Response, bool, error) {
			if token != upstreamToken {
				return nil, false, nil
			}
			return &authenticator.Response{User: &user.DefaultInfo{Name: "redis-autoscaler-adapter"}}, true, nil
		}))
	cfg.GenericConfig.Authorization.Authorizer = authorizer.AuthorizerFunc(
		func(_ context.Context, a authorizer.Attributes) (authorizer.Decision, string, error) {
			if a.GetUser() != nil && a.GetUser().GetName() == "redis-autoscaler-adapter" {
				return authorizer.DecisionAllow, "", nil
			}
			return authorizer.DecisionDeny, "only the adapter", nil
		})
	go func() {
		// Runs until the test binary exits.
		if err := base.Run(context.Background()); err != nil {
			fmt.Fprintln(os.Stderr, "test custom-metrics-apiserver stopped:", err)
		}
	}()

	url = "https://127.0.0.1:" + strconv.Itoa(port)
	caFile = filepath.Join(certDir, "apiserver.crt")
	hc := &http.Client{Timeout: time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	for i := 0; i < 300; i++ {
		req, _ := http.NewRequest(http.MethodGet, url+"/healthz", nil)
		req.Header.Set("Authorization", "Bearer "+upstreamToken)
		if resp, err := hc.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return url, caFile, nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return "", "", fmt.Errorf("custom-metrics-apiserver on %s not healthy within 30s", url)
}

// unreachableKubeconfig satisfies the library's lister flag; nothing dials it.
const unreachableKubeconfig = `apiVersion: v1
kind: Config
clusters: [{name: none, cluster: {server: "https://127.0.0.1:1"}}]
users: [{name: none, user: {token: none}}]
contexts: [{name: none, context: {cluster: none, user: none}}]
current-context: none
`
