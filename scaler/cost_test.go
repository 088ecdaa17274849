package scaler_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/redis-autoscaler/redis-autoscaler/exporter/redisinfo"
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

// The cost of one reconcile of a settled group of 50 pods, asserted in
// Redis commands (one INFO per pod over a kept connection, no writes), not
// in time: the machine is shared. How long 1 -> 50 takes with 10
// concurrent syncs and the mean reconcile time are reported.
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

	// Settled: trigger reconciles by touching the group, one at a time (the
	// next touch after pod 0 has seen the reconcile's INFO), and count what
	// every pod received from the scaler over those reconciles.
	pods := e.pods("big")
	require.Len(t, pods, 50)
	before := make([]map[string]float64, len(pods))
	for i := range pods {
		before[i] = commandCalls(t, e.redis(pods[i].Status.PodIP))
	}
	ours := make([]float64, len(pods)) // INFOs this test sent, per pod
	for i := range ours {
		ours[i] = 1 // the snapshot above
	}
	const touches = 20
	sum0, count0 := reconcileHistogram(t, e.metrics)
	seen := before[0]["info"] + 1
	for i := range touches {
		g := e.group("big")
		patch := client.MergeFrom(g.DeepCopy())
		if g.Annotations == nil {
			g.Annotations = map[string]string{}
		}
		g.Annotations["test/touch"] = fmt.Sprint(i)
		require.NoError(t, e.cl.Patch(e.ctx, g, patch))
		require.Eventually(t, func() bool {
			calls := commandCalls(t, e.redis(pods[0].Status.PodIP))["info"]
			ours[0]++
			if calls > seen {
				seen = calls + 1 // + this very INFO
				return true
			}
			seen = calls + 1
			return false
		}, 30*time.Second, 20*time.Millisecond, "touch %d: no reconcile reached pod %s", i, pods[0].Name)
	}
	sum1, count1 := reconcileHistogram(t, e.metrics)
	t.Logf("settled 50-pod group: %d reconciles, mean %v each",
		count1-count0, time.Duration((sum1-sum0)/float64(count1-count0)*float64(time.Second)).Round(10*time.Microsecond))

	// The bounds: a settled reconcile sends each pod one INFO over a kept
	// connection and nothing else. Fewer than two INFOs per pod per touch
	// leaves room for the resyncs in between (10 s apart); a second INFO
	// per reconcile, a new connection (HELLO) or any other command (a
	// write, a CONFIG, a REPLICAOF) fails.
	total := 0.0
	for i := range pods {
		after := commandCalls(t, e.redis(pods[i].Status.PodIP))
		info := after["info"] - before[i]["info"] - ours[i]
		total += info
		assert.GreaterOrEqual(t, info, 1.0, "pod %s: INFOs from the scaler", pods[i].Name)
		assert.Less(t, info, 2.0*touches, "pod %s: INFOs from the scaler over %d settled reconciles", pods[i].Name, touches)
		for name, calls := range after {
			if scalerFree[name] || name == "info" {
				continue
			}
			assert.Equal(t, before[i][name], calls, "pod %s: %s calls during settled reconciles", pods[i].Name, name)
		}
	}
	t.Logf("settled 50-pod group: %.0f INFOs from the scaler over %d touches (%.1f per pod per touch)", total, touches, total/float64(len(pods))/touches)
}

// scalerFree are the commands a pod receives from others than the scaler
// while the group is settled: the pod runner's readiness probe (PING, AUTH)
// and replication (REPLCONF ACK from replicas, the master's PING to them).
var scalerFree = map[string]bool{"ping": true, "auth": true, "replconf": true}

// commandCalls is the calls of every command a Redis has served
// (INFO commandstats); the INFO itself is counted after its reply.
func commandCalls(t *testing.T, rc *redis.Client) map[string]float64 {
	t.Helper()
	text, err := rc.Info(context.Background(), "commandstats").Result()
	require.NoError(t, err)
	info, err := redisinfo.Parse(text)
	require.NoError(t, err)
	calls := make(map[string]float64, len(info.Commands))
	for _, c := range info.Commands {
		calls[c.Name] = c.Calls
	}
	return calls
}
