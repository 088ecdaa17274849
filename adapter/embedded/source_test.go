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

	"github.com/redis-autoscaler/redis-autoscaler/adapter/podcache"
	"github.com/redis-autoscaler/redis-autoscaler/adapter/source"
	"github.com/redis-autoscaler/redis-autoscaler/exporter/discovery"
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

// A Redis blocked by a busy script reads as slow, not as missing: within
// two intervals its served response time rises past the target (at least
// the scrape timeout), while the healthy pod keeps its own. Both ways a
// busy Redis looks to a client: no answer (before busy-reply-threshold)
// and BUSY replies (after it).
func TestStalledRedisReadsAsSlow(t *testing.T) {
	for _, tc := range []struct {
		name      string
		threshold string // busy-reply-threshold, ms
	}{{"no answer", "60000"}, {"BUSY replies", "50"}} {
		t.Run(tc.name, func(t *testing.T) {
			healthy := redistest.Start(t)
			stalled := redistest.Start(t, "--busy-reply-threshold", tc.threshold)
			pods := []*corev1.Pod{redisPod("healthy", healthy.Port, "1Gi"), redisPod("stalled", stalled.Port, "1Gi")}
			const interval, timeout, target = 300 * time.Millisecond, 200 * time.Millisecond, 0.05
			src := New(func(context.Context) []*corev1.Pod { return pods }, Options{Interval: interval, Timeout: timeout})
			ctx := context.Background()
			for range 3 {
				src.Round(ctx)
			}
			rt, err := src.PodValues(ctx, source.ResponseTime, pods)
			require.NoError(t, err)
			require.Less(t, rt["stalled"].Value, target, "at rest")

			// A script busy for 2 s, from its own connection.
			done := make(chan error, 1)
			go func() {
				done <- stalled.Client(t).Eval(ctx, `local s = redis.call('TIME')[1]
while tonumber(redis.call('TIME')[1]) < tonumber(s) + 2 do end
return 1`, nil).Err()
			}()
			time.Sleep(50 * time.Millisecond) // the script has started
			for range 2 {
				src.Round(ctx)
				time.Sleep(interval)
			}
			rt, err = src.PodValues(ctx, source.ResponseTime, pods)
			require.NoError(t, err)
			require.Contains(t, rt, "stalled", "served, not missing")
			assert.GreaterOrEqual(t, rt["stalled"].Value, timeout.Seconds(), "at least the timeout")
			assert.Less(t, rt["healthy"].Value, target, "the other pod keeps its own")
			ops, err := src.PodValues(ctx, source.OpsPerSecond, pods)
			require.NoError(t, err)
			assert.Contains(t, ops, "healthy")
			require.NoError(t, <-done)
		})
	}
}

// The adapter's pod cache strips pods (adapter/podcache); what the source
// reads of a pod gives the same answers from a stripped one.
func TestStrippedPodsGiveTheSameAnswers(t *testing.T) {
	multi := redisPod("multi", 7000, "512Mi")
	multi.Spec.Containers = append([]corev1.Container{{Name: "proxy", Image: "envoy", Ports: []corev1.ContainerPort{{ContainerPort: 8080}}}}, multi.Spec.Containers...)
	byImage := redisPod("by-image", 6380, "")
	byImage.Spec.Containers[0].Name = "cache"
	byImage.Spec.Containers = append(byImage.Spec.Containers, corev1.Container{Name: "exporter", Image: "redis-exporter",
		Resources: corev1.ResourceRequirements{Limits: corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("64Mi")}}})
	plain := redisPod("plain", 0, "1Gi")
	plain.Spec.Containers[0].Ports = []corev1.ContainerPort{{ContainerPort: 6379}, {ContainerPort: 9121}}
	for _, p := range []*corev1.Pod{multi, byImage, plain, redisPod("one", 6400, "")} {
		s, err := podcache.Strip(p)
		require.NoError(t, err)
		stripped := s.(*corev1.Pod)
		want, wantOK := discovery.TargetFor(podOf(p), discovery.Options{})
		got, gotOK := discovery.TargetFor(podOf(stripped), discovery.Options{})
		assert.Equal(t, wantOK, gotOK, p.Name)
		assert.Equal(t, want, got, p.Name)
		assert.Equal(t, containerMemoryLimit(p), containerMemoryLimit(stripped), p.Name)
	}
}
