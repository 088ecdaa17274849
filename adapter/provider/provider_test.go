package provider

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"sigs.k8s.io/custom-metrics-apiserver/pkg/provider"

	"github.com/redis-autoscaler/redis-autoscaler/adapter/source"
)

// fakeSource serves fixed values by pod name.
type fakeSource map[string]map[string]float64 // metric -> pod -> value

var now = time.Now()

func (f fakeSource) PodValues(_ context.Context, metric string, pods []*corev1.Pod) (map[string]source.Value, error) {
	out := map[string]source.Value{}
	for _, p := range pods {
		if v, ok := f[metric][p.Name]; ok {
			out[p.Name] = source.Value{Value: v, Timestamp: now, Window: 30 * time.Second}
		}
	}
	return out, nil
}

// alignedSource answers in the pods' order as the embedded source does
// (source.Aligned), from the same values.
type alignedSource struct{ fakeSource }

func (a alignedSource) PodValuesAligned(ctx context.Context, metric string, pods []*corev1.Pod, values []source.Value) error {
	byName, _ := a.PodValues(ctx, metric, pods)
	for i, p := range pods {
		values[i] = byName[p.Name]
	}
	return nil
}

type fakeObjects map[string]labels.Selector // "resource/name" -> selector

func (f fakeObjects) Selector(_ context.Context, gr schema.GroupResource, _ string, name string) (labels.Selector, error) {
	if s, ok := f[gr.Resource+"/"+name]; ok {
		return s, nil
	}
	return nil, apierrors.NewNotFound(gr, name)
}

func podLister(t testing.TB, n int) corelisters.PodLister {
	idx := cache.NewIndexer(cache.MetaNamespaceKeyFunc, cache.Indexers{cache.NamespaceIndex: cache.MetaNamespaceIndexFunc})
	for i := 0; i < n; i++ {
		lbls := map[string]string{"app": "redis"}
		if i == 0 {
			lbls["redisautoscaler.io/role"] = "master" // as the scaler labels it
		}
		require.NoError(t, idx.Add(&corev1.Pod{ObjectMeta: metav1.ObjectMeta{
			Name: fmt.Sprintf("redis-%d", i), Namespace: "ns", Labels: lbls}}))
	}
	return corelisters.NewPodLister(idx)
}

func newProvider(t testing.TB, pods int, src source.Source) *Provider {
	return &Provider{
		Source: src,
		Pods:   podLister(t, pods),
		Objects: fakeObjects{
			"statefulsets/redis":           labels.SelectorFromSet(labels.Set{"app": "redis"}),
			"redisreplicationgroups/group": labels.SelectorFromSet(labels.Set{"app": "redis"}),
			"redisclusters/cluster":        labels.SelectorFromSet(labels.Set{"app": "redis"}),
		},
	}
}

func info(gr schema.GroupResource, metric string) provider.CustomMetricInfo {
	return provider.CustomMetricInfo{GroupResource: gr, Namespaced: true, Metric: metric}
}

func TestGetMetricBySelector(t *testing.T) {
	src := fakeSource{source.OpsPerSecond: {"redis-0": 100, "redis-2": 300.5}}
	for kind, src := range map[string]source.Source{"map": src, "aligned": alignedSource{src}} {
		t.Run(kind, func(t *testing.T) { testGetMetricBySelector(t, newProvider(t, 3, src)) })
	}
}

func testGetMetricBySelector(t *testing.T, p *Provider) {
	appRedis := labels.SelectorFromSet(labels.Set{"app": "redis"})
	for name, tc := range map[string]struct {
		info     provider.CustomMetricInfo
		selector labels.Selector
		want     map[string]float64
		notFound bool
	}{
		"pods with values; the one without is missing": {info: info(Pods, source.OpsPerSecond), selector: appRedis, want: map[string]float64{"redis-0": 100, "redis-2": 300.5}},
		"selector matching nothing: empty list":        {info: info(Pods, source.OpsPerSecond), selector: labels.SelectorFromSet(labels.Set{"app": "x"}), want: map[string]float64{}},
		"metric with no values: empty list":            {info: info(Pods, source.MemoryFraction), selector: appRedis, want: map[string]float64{}},
		"unknown metric: NotFound":                     {info: info(Pods, "redis_nope"), selector: appRedis, notFound: true},
		"unknown resource: NotFound":                   {info: info(schema.GroupResource{Resource: "services"}, source.OpsPerSecond), selector: appRedis, notFound: true},
	} {
		t.Run(name, func(t *testing.T) {
			list, err := p.GetMetricBySelector(context.Background(), "ns", tc.selector, tc.info, labels.Everything())
			if tc.notFound {
				assert.True(t, apierrors.IsNotFound(err), "%v", err)
				return
			}
			require.NoError(t, err)
			got := map[string]float64{}
			for _, it := range list.Items {
				got[it.DescribedObject.Name] = it.Value.AsApproximateFloat64()
				assert.Equal(t, "Pod", it.DescribedObject.Kind)
				assert.Equal(t, tc.info.Metric, it.Metric.Name)
				assert.Equal(t, int64(30), *it.WindowSeconds)
			}
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestGetMetricByName(t *testing.T) {
	src := fakeSource{
		source.OpsPerSecond:   {"redis-0": 100, "redis-1": 50},
		source.MemoryFraction: {"redis-0": 0.2, "redis-1": 0.7},
		source.ResponseTime:   {"redis-0": 0.000250, "redis-1": 0.004},
	}
	p := newProvider(t, 2, src)
	for name, tc := range map[string]struct {
		gr       schema.GroupResource
		object   string
		metric   string
		want     float64
		kind     string
		notFound bool
	}{
		"pod":                                {gr: Pods, object: "redis-1", metric: source.OpsPerSecond, want: 50, kind: "Pod"},
		"sub-millisecond response time kept": {gr: Pods, object: "redis-0", metric: source.ResponseTime, want: 0.00025, kind: "Pod"},
		"statefulset ops: sum":               {gr: StatefulSets, object: "redis", metric: source.OpsPerSecond, want: 150, kind: "StatefulSet"},
		"statefulset memory: max":            {gr: StatefulSets, object: "redis", metric: source.MemoryFraction, want: 0.7, kind: "StatefulSet"},
		"group response time: max":           {gr: RedisReplicationGroups, object: "group", metric: source.ResponseTime, want: 0.004, kind: "RedisReplicationGroup"},
		// redis-0 is the cluster's master: memory is per shard, so the
		// replica's (redis-1) larger value does not count.
		"cluster memory: max over masters": {gr: RedisClusters, object: "cluster", metric: source.MemoryFraction, want: 0.2, kind: "RedisCluster"},
		"cluster ops: sum over every pod":  {gr: RedisClusters, object: "cluster", metric: source.OpsPerSecond, want: 150, kind: "RedisCluster"},
		"cluster response time: max":       {gr: RedisClusters, object: "cluster", metric: source.ResponseTime, want: 0.004, kind: "RedisCluster"},
		"pod without value: NotFound":      {gr: Pods, object: "redis-0", metric: source.ConnectedClients, notFound: true},
		"unknown pod: NotFound":            {gr: Pods, object: "redis-9", metric: source.OpsPerSecond, notFound: true},
		"unknown statefulset: NotFound":    {gr: StatefulSets, object: "nope", metric: source.OpsPerSecond, notFound: true},
		"object without values: NotFound":  {gr: StatefulSets, object: "redis", metric: source.ReplicationLag, notFound: true},
	} {
		t.Run(name, func(t *testing.T) {
			v, err := p.GetMetricByName(context.Background(), types.NamespacedName{Namespace: "ns", Name: tc.object}, info(tc.gr, tc.metric), labels.Everything())
			if tc.notFound {
				assert.True(t, apierrors.IsNotFound(err), "%v", err)
				return
			}
			require.NoError(t, err)
			assert.InDelta(t, tc.want, v.Value.AsApproximateFloat64(), 1e-9)
			assert.Equal(t, tc.kind, v.DescribedObject.Kind)
			assert.Equal(t, tc.object, v.DescribedObject.Name)
		})
	}
}

func TestListAllMetricsIsWhatIsServed(t *testing.T) {
	p := newProvider(t, 1, fakeSource{})
	all := p.ListAllMetrics()
	assert.Len(t, all, 4*len(source.Names))
	for _, i := range all {
		assert.True(t, p.served(i), "%v listed but not served", i)
	}
}

func BenchmarkGetMetricBySelector(b *testing.B) {
	for _, n := range []int{1, 50, 500} {
		b.Run(fmt.Sprintf("pods=%d", n), func(b *testing.B) {
			vals := map[string]float64{}
			for i := 0; i < n; i++ {
				vals[fmt.Sprintf("redis-%d", i)] = float64(i)
			}
			p := newProvider(b, n, fakeSource{source.OpsPerSecond: vals})
			sel := labels.SelectorFromSet(labels.Set{"app": "redis"})
			in := info(Pods, source.OpsPerSecond)
			b.ReportAllocs()
			for b.Loop() {
				l, err := p.GetMetricBySelector(context.Background(), "ns", sel, in, labels.Everything())
				if err != nil || len(l.Items) != n {
					b.Fatal(err)
				}
			}
		})
	}
}

// The provider's own metrics: every request timed, errors counted by
// reason, and label values only from what we serve, whatever callers ask.
func TestRequestMetrics(t *testing.T) {
	p := newProvider(t, 2, fakeSource{source.OpsPerSecond: {"redis-0": 100}})
	p.Metrics = NewMetrics()
	ctx := context.Background()
	_, err := p.GetMetricByName(ctx, types.NamespacedName{Namespace: "ns", Name: "redis-0"}, info(Pods, source.OpsPerSecond), labels.Everything())
	require.NoError(t, err)
	_, err = p.GetMetricByName(ctx, types.NamespacedName{Namespace: "ns", Name: "redis-1"}, info(Pods, source.OpsPerSecond), labels.Everything())
	require.Error(t, err)
	for i := range 5 { // callers' made-up names
		_, err = p.GetMetricBySelector(ctx, "ns", labels.Everything(), info(schema.GroupResource{Resource: fmt.Sprintf("r%d", i)}, fmt.Sprintf("m%d", i)), labels.Everything())
		require.Error(t, err)
	}
	assert.Equal(t, 2, testutil.CollectAndCount(p.Metrics.Requests), "pods/redis_ops_per_second and other/other")
	want := `
# HELP redis_autoscaler_adapter_request_errors_total Custom-metrics requests the provider answered with an error, by reason (NotFound: no fresh value or unknown object).
# TYPE redis_autoscaler_adapter_request_errors_total counter
redis_autoscaler_adapter_request_errors_total{metric="other",reason="NotFound",resource="other"} 5
redis_autoscaler_adapter_request_errors_total{metric="other",reason="ServiceUnavailable",resource="other"} 0
redis_autoscaler_adapter_request_errors_total{metric="redis_ops_per_second",reason="NotFound",resource="pods"} 1
redis_autoscaler_adapter_request_errors_total{metric="redis_ops_per_second",reason="ServiceUnavailable",resource="pods"} 0
`
	require.NoError(t, testutil.CollectAndCompare(p.Metrics.Errors, strings.NewReader(want)))
	assert.Equal(t, 1, testutil.CollectAndCount(p.Metrics.ValueAge))
}
