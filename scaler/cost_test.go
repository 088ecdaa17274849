package scaler_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/redis-autoscaler/redis-autoscaler/scaler/api/v1alpha1"
	"github.com/redis-autoscaler/redis-autoscaler/test/cluster"
)

// reconcileHistogram reads the scaler's reconcile duration histogram from
// the registry of the in-process scaler.
func reconcileHistogram(t *testing.T, reg prometheus.Gatherer) (sum float64, count uint64) {
	mfs, err := reg.Gather()
	require.NoError(t, err)
	for _, mf := range mfs {
		if mf.GetName() == "redis_autoscaler_scaler_reconcile_duration_seconds" {
			var h *dto.Histogram = mf.GetMetric()[0].GetHistogram()
			return h.GetSampleSum(), h.GetSampleCount()
		}
	}
	return 0, 0
}

// The cost of one reconcile of a settled group of 50 pods (50 INFOs over
// kept connections, no writes), and how long 1 -> 50 takes with 10
// concurrent syncs. Reported, not asserted: the machine is shared.
func TestReconcileCost50Pods(t *testing.T) {
	if testing.Short() {
		t.Skip("50 redis-servers")
	}
	t.Parallel()
	e := newEnv(t, "cost")
	e.startScaler(nil)
	sts := cluster.RedisStatefulSet("big", 1)
	sts.Namespace = e.ns
	require.NoError(t, e.cl.Create(e.ctx, sts))
	one, syncs := int32(1), int32(10)
	require.NoError(t, e.cl.Create(e.ctx, &v1alpha1.RedisReplicationGroup{
		ObjectMeta: metav1.ObjectMeta{Name: "big", Namespace: e.ns},
		Spec: v1alpha1.RedisReplicationGroupSpec{StatefulSetName: "big", Replicas: &one,
			Addressing: v1alpha1.AddressingIP, MaxConcurrentSyncs: syncs},
	}))
	m := e.waitConverged("big", 1, 60*time.Second)
	for i := range 1000 {
		require.NoError(t, e.redis(m.Status.PodIP).Set(e.ctx, fmt.Sprintf("k%d", i), i, 0).Err())
	}
	start := time.Now()
	e.scale("big", 50)
	e.waitConverged("big", 50, 150*time.Second)
	t.Logf("1 -> 50 pods attached and in sync in %v (maxConcurrentSyncs %d)", time.Since(start).Round(time.Millisecond), syncs)

	// Settled: trigger reconciles by touching the group.
	sum0, count0 := reconcileHistogram(t, e.metrics)
	for i := range 20 {
		g := e.group("big")
		patch := client.MergeFrom(g.DeepCopy())
		if g.Annotations == nil {
			g.Annotations = map[string]string{}
		}
		g.Annotations["test/touch"] = fmt.Sprint(i)
		require.NoError(t, e.cl.Patch(e.ctx, g, patch))
		time.Sleep(20 * time.Millisecond) // let each patch be its own reconcile
	}
	require.Eventually(t, func() bool { _, c := reconcileHistogram(t, e.metrics); return c >= count0+20 }, 30*time.Second, 50*time.Millisecond)
	sum1, count1 := reconcileHistogram(t, e.metrics)
	t.Logf("settled 50-pod group: %d reconciles, mean %v each (all scalers of this test process share the histogram)",
		count1-count0, time.Duration((sum1-sum0)/float64(count1-count0)*float64(time.Second)).Round(10*time.Microsecond))
}
