package embedded

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/redis-autoscaler/redis-autoscaler/adapter/source"
	"github.com/redis-autoscaler/redis-autoscaler/exporter/target"
	"github.com/redis-autoscaler/redis-autoscaler/test/redistest"
)

func redisPod(name string, port int, memLimit string) *corev1.Pod {
	c := corev1.Container{Name: "redis", Image: "redis:7", Ports: []corev1.ContainerPort{{Name: "redis", ContainerPort: int32(port)}}}
	if memLimit != "" {
		c.Resources.Limits = corev1.ResourceList{corev1.ResourceMemory: resource.MustParse(memLimit)}
	}
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns"},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{c}},
		Status:     corev1.PodStatus{Phase: corev1.PodRunning, PodIP: "127.0.0.1"},
	}
}

// Pods whose Redis is down or wrongly authenticated are omitted and counted;
// the others are served; memory fraction falls back to the container limit.
func TestSourceServesGoodPodsOnly(t *testing.T) {
	const password = "adapter-pw"
	good := redistest.StartWith(t, redistest.Options{Password: password})
	limited := redistest.StartWith(t, redistest.Options{Password: password})
	other := redistest.StartWith(t, redistest.Options{Password: "another-pw"})
	downPort, err := redistest.FreePort()
	require.NoError(t, err)
	pods := []*corev1.Pod{
		redisPod("good", good.Port, ""),
		redisPod("limited", limited.Port, "1Gi"),
		redisPod("wrong-password", other.Port, ""),
		redisPod("down", downPort, ""),
	}
	require.NoError(t, good.Client(t).ConfigSet(context.Background(), "maxmemory", "100mb").Err())
	src := New(func(context.Context) []*corev1.Pod { return pods }, Options{
		Interval: time.Second, Timeout: 500 * time.Millisecond, Credentials: target.Credentials{Password: password},
	})
	ctx := context.Background()
	src.Round(ctx)

	ops, err := src.PodValues(ctx, source.OpsPerSecond, pods)
	require.NoError(t, err)
	assert.Contains(t, ops, "good")
	assert.Contains(t, ops, "limited")
	assert.NotContains(t, ops, "wrong-password")
	assert.NotContains(t, ops, "down")
	assert.Equal(t, 2.0, testutil.ToFloat64(src.scrapeErrors.WithLabelValues("ns")), "failed pods counted")

	mem, err := src.PodValues(ctx, source.MemoryFraction, pods)
	require.NoError(t, err)
	require.Contains(t, mem, "good")
	require.Contains(t, mem, "limited")
	assert.Greater(t, mem["good"].Value, 0.0)
	assert.Less(t, mem["good"].Value, 0.1, "used / 100mb maxmemory")
	assert.Less(t, mem["limited"].Value, mem["good"].Value, "used / 1Gi container limit")

	lag, err := src.PodValues(ctx, source.ReplicationLag, pods)
	require.NoError(t, err)
	assert.Equal(t, 0.0, lag["good"].Value, "a master has no lag")

	// Values older than the maximum staleness are not served.
	src.opts.MaxStaleness = time.Nanosecond
	time.Sleep(time.Millisecond)
	ops, err = src.PodValues(ctx, source.OpsPerSecond, pods)
	require.NoError(t, err)
	assert.Empty(t, ops)
}
