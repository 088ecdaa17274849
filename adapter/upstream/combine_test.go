package upstream

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/metrics/pkg/apis/custom_metrics"
	"sigs.k8s.io/custom-metrics-apiserver/pkg/provider"
)

const ourMetric = "redis_ops_per_second"

// oursProvider stands in for the Redis provider: ourMetric on pods only.
type oursProvider struct{ metrics []provider.CustomMetricInfo }

func (oursProvider) GetMetricByName(_ context.Context, name types.NamespacedName, info provider.CustomMetricInfo, _ labels.Selector) (*custom_metrics.MetricValue, error) {
	if info.GroupResource != podsGR {
		return nil, provider.NewMetricNotFoundForError(info.GroupResource, info.Metric, name.Name)
	}
	v := value(info.GroupResource, "Pod", name.Namespace, name.Name, info.Metric, 42000)
	return &v, nil
}

func (oursProvider) GetMetricBySelector(_ context.Context, namespace string, _ labels.Selector, info provider.CustomMetricInfo, _ labels.Selector) (*custom_metrics.MetricValueList, error) {
	return &custom_metrics.MetricValueList{Items: []custom_metrics.MetricValue{value(info.GroupResource, "Pod", namespace, "redis-0", info.Metric, 42000)}}, nil
}

func (o oursProvider) ListAllMetrics() []provider.CustomMetricInfo { return o.metrics }

var ourList = []provider.CustomMetricInfo{{GroupResource: podsGR, Namespaced: true, Metric: ourMetric}}

// TestCombineWithRealUpstream routes through a real upstream server.
func TestCombineWithRealUpstream(t *testing.T) {
	srv := startUpstream(t)
	up := newUpstream(t, Options{URL: srv.url, CAFile: srv.caFile, TokenFile: tokenFile(t, upstreamToken)})
	require.NoError(t, up.Refresh(context.Background()))
	combined := Combine(oursProvider{metrics: ourList}, []string{ourMetric}, up)
	ctx := context.Background()
	web := labels.SelectorFromSet(labels.Set{"app": "web"})

	tests := []struct {
		name       string
		metric     string
		pod        string // by name; empty: by selector
		wantValues map[string]int64
		wantErr    func(error) bool
	}{
		{name: "ours by name", metric: ourMetric, pod: "redis-0", wantValues: map[string]int64{"redis-0": 42000}},
		{name: "ours by selector", metric: ourMetric, wantValues: map[string]int64{"redis-0": 42000}},
		{name: "upstream's by name", metric: "http_requests", pod: "web-1", wantValues: map[string]int64{"web-1": 1500}},
		{name: "upstream's by selector", metric: "http_requests", wantValues: map[string]int64{"web-0": 1500, "web-1": 1500}},
		{name: "upstream NotFound passes through", metric: "http_requests", pod: "missing", wantErr: apierrors.IsNotFound},
		{name: "unknown metric is the upstream's NotFound", metric: "nope", wantErr: apierrors.IsNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			info := provider.CustomMetricInfo{GroupResource: podsGR, Namespaced: true, Metric: tt.metric}
			var got any
			var err error
			if tt.pod != "" {
				got, err = combined.GetMetricByName(ctx, types.NamespacedName{Namespace: "web", Name: tt.pod}, info, labels.Everything())
			} else {
				got, err = combined.GetMetricBySelector(ctx, "web", web, info, labels.Everything())
			}
			if tt.wantErr != nil {
				require.Error(t, err)
				assert.True(t, tt.wantErr(err), "wrong kind of error: %v", err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.wantValues, milliValues(got))
		})
	}
	assert.NotContains(t, srv.fake.askedFor(), ourMetric, "our metric never reaches the upstream")
	assert.Contains(t, srv.fake.askedFor(), "http_requests")

	all := combined.ListAllMetrics()
	assert.Contains(t, all, ourList[0])
	for _, m := range srv.fake.ListAllMetrics() {
		assert.Contains(t, all, m)
	}
}

func TestCombineListAllMetrics(t *testing.T) {
	theirs := []provider.CustomMetricInfo{
		{GroupResource: podsGR, Namespaced: true, Metric: "http_requests"},
		// The upstream also claims our name (say, a Prometheus rule of the
		// same name): requests for it go to ours, so it is not listed twice.
		{GroupResource: deployGR, Namespaced: true, Metric: ourMetric},
	}
	tests := []struct {
		name   string
		ours   []provider.CustomMetricInfo
		theirs []provider.CustomMetricInfo
		want   []provider.CustomMetricInfo
	}{
		{"both", ourList, theirs[:1], append(append([]provider.CustomMetricInfo{}, ourList...), theirs[0])},
		{"our names win", ourList, theirs, append(append([]provider.CustomMetricInfo{}, ourList...), theirs[0])},
		{"upstream not read yet", ourList, nil, ourList},
		{"ours empty", nil, theirs[:1], theirs[:1]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Combine(oursProvider{metrics: tt.ours}, []string{ourMetric}, oursProvider{metrics: tt.theirs})
			assert.Equal(t, tt.want, c.ListAllMetrics())
		})
	}
}
