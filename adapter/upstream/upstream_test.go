package upstream

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/metrics/pkg/apis/custom_metrics"
	"sigs.k8s.io/custom-metrics-apiserver/pkg/provider"
)

func tokenFile(t *testing.T, token string) string {
	p := filepath.Join(t.TempDir(), "token")
	require.NoError(t, os.WriteFile(p, []byte(token), 0o600))
	return p
}

func newUpstream(t *testing.T, o Options) *Upstream {
	t.Helper()
	u, err := New(o)
	require.NoError(t, err)
	return u
}

func TestForwarding(t *testing.T) {
	srv := startUpstream(t)
	up := newUpstream(t, Options{URL: srv.url, CAFile: srv.caFile, TokenFile: tokenFile(t, upstreamToken)})
	ctx := context.Background()
	web := labels.SelectorFromSet(labels.Set{"app": "web"})
	podInfo := provider.CustomMetricInfo{GroupResource: podsGR, Namespaced: true, Metric: "http_requests"}

	tests := []struct {
		name       string
		call       func() (any, error)
		wantErr    func(error) bool
		wantValues map[string]int64 // described object -> milli value
	}{
		{
			name: "pod by name",
			call: func() (any, error) {
				return up.GetMetricByName(ctx, types.NamespacedName{Namespace: "web", Name: "web-0"}, podInfo, labels.Everything())
			},
			wantValues: map[string]int64{"web-0": 1500},
		},
		{
			name: "pods by selector (the HPA's Pods metric)",
			call: func() (any, error) {
				return up.GetMetricBySelector(ctx, "web", web, podInfo, labels.Everything())
			},
			wantValues: map[string]int64{"web-0": 1500, "web-1": 1500},
		},
		{
			name: "object in a named group (the HPA's Object metric)",
			call: func() (any, error) {
				return up.GetMetricByName(ctx, types.NamespacedName{Namespace: "web", Name: "web"},
					provider.CustomMetricInfo{GroupResource: deployGR, Namespaced: true, Metric: "http_requests"}, nil)
			},
			wantValues: map[string]int64{"web": 3000},
		},
		{
			name: "namespace metric",
			call: func() (any, error) {
				return up.GetMetricByName(ctx, types.NamespacedName{Name: "web"},
					provider.CustomMetricInfo{GroupResource: namespacesGR, Metric: "queue_depth"}, labels.Everything())
			},
			wantValues: map[string]int64{"web": 7000},
		},
		{
			name: "unknown pod stays NotFound",
			call: func() (any, error) {
				return up.GetMetricByName(ctx, types.NamespacedName{Namespace: "web", Name: "missing"}, podInfo, labels.Everything())
			},
			wantErr: apierrors.IsNotFound,
		},
		{
			name: "unknown metric stays NotFound",
			call: func() (any, error) {
				return up.GetMetricBySelector(ctx, "web", web,
					provider.CustomMetricInfo{GroupResource: podsGR, Namespaced: true, Metric: "nope"}, labels.Everything())
			},
			wantErr: apierrors.IsNotFound,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.call()
			if tt.wantErr != nil {
				require.Error(t, err)
				assert.True(t, tt.wantErr(err), "wrong kind of error: %v", err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.wantValues, milliValues(got))
		})
	}

	t.Run("metric list", func(t *testing.T) {
		assert.Empty(t, up.ListAllMetrics(), "nothing before the first refresh")
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		up.Start(ctx)
		require.Eventually(t, func() bool { return len(up.ListAllMetrics()) > 0 }, 10*time.Second, 50*time.Millisecond)
		assert.ElementsMatch(t, srv.fake.ListAllMetrics(), up.ListAllMetrics())
	})
}

func milliValues(v any) map[string]int64 {
	out := map[string]int64{}
	switch v := v.(type) {
	case *custom_metrics.MetricValue:
		out[v.DescribedObject.Name] = v.Value.MilliValue()
	case *custom_metrics.MetricValueList:
		for _, item := range v.Items {
			out[item.DescribedObject.Name] = item.Value.MilliValue()
		}
	}
	return out
}

func TestUpstreamFailures(t *testing.T) {
	srv := startUpstream(t)
	ctx := context.Background()
	info := provider.CustomMetricInfo{GroupResource: podsGR, Namespaced: true, Metric: "http_requests"}
	name := types.NamespacedName{Namespace: "web", Name: "web-0"}
	tests := []struct {
		name    string
		opts    Options
		wantMsg string
	}{
		{"wrong token", Options{URL: srv.url, CAFile: srv.caFile, TokenFile: tokenFile(t, "wrong")}, "refused this adapter's credentials"},
		{"no token", Options{URL: srv.url, CAFile: srv.caFile}, "refused this adapter's credentials"},
		{"unknown CA", Options{URL: srv.url, TokenFile: tokenFile(t, upstreamToken)}, "certificate"},
		{"nobody listening", Options{URL: "https://127.0.0.1:1", InsecureSkipVerify: true, Timeout: 2 * time.Second}, "connection refused"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			up := newUpstream(t, tt.opts)
			_, err := up.GetMetricByName(ctx, name, info, labels.Everything())
			require.Error(t, err)
			assert.True(t, apierrors.IsServiceUnavailable(err), "want 503, got %v", err)
			assert.Contains(t, err.Error(), tt.wantMsg)
			assert.NotContains(t, err.Error(), upstreamToken)
			assert.Error(t, up.Refresh(ctx))
			assert.Empty(t, up.ListAllMetrics())
		})
	}

	t.Run("insecure skip verify", func(t *testing.T) {
		up := newUpstream(t, Options{URL: srv.url, InsecureSkipVerify: true, TokenFile: tokenFile(t, upstreamToken)})
		_, err := up.GetMetricByName(ctx, name, info, labels.Everything())
		require.NoError(t, err)
	})
}

func TestOptions(t *testing.T) {
	tests := []struct {
		name    string
		opts    Options
		wantErr string
	}{
		{"no URL", Options{}, "--upstream"},
		{"not a URL", Options{URL: "prometheus-adapter"}, "--upstream"},
		{"missing token file", Options{URL: "https://x", TokenFile: "/nonexistent/token"}, "--upstream.token-file"},
		// Outside a cluster the default token is absent: run without one.
		{"missing default token", Options{URL: "https://x", TokenFile: ServiceAccountTokenFile}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.opts)
			if tt.wantErr == "" {
				require.NoError(t, err)
				return
			}
			assert.ErrorContains(t, err, tt.wantErr)
		})
	}
}
