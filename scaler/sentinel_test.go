package scaler_test

import (
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/redis-autoscaler/redis-autoscaler/scaler/api/v1alpha1"
	"github.com/redis-autoscaler/redis-autoscaler/scaler/controller/group"
	"github.com/redis-autoscaler/redis-autoscaler/scaler/redisops"
	"github.com/redis-autoscaler/redis-autoscaler/test/redistest"
)

// With spec.sentinel the scaler follows Sentinel's master (Sentinel with
// a password), scales down through SENTINEL FAILOVER when the master would
// be removed, gives replica-priority back when a scale-down is cancelled,
// resets Sentinel's stale replica list afterwards, and has Sentinel fail
// over at once when the master crashes and restarts (as a replica of the
// placeholder) without losing an acknowledged write.
func TestSentinelMode(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "sentinel")
	e.startScaler(nil)
	// Replicas connect from 127.0.0.1 here; announcing the pod IP lets
	// Sentinel tell them apart (as on hosts with several addresses). Pods
	// start as replicas of a placeholder, as the shipped example does.
	e.createGroup("cache", 4, "--replica-announce-ip", "$(POD_IP)", "--replicaof", "127.0.0.1", "1")
	m := e.waitConverged("cache", 4, 60*time.Second)
	require.Equal(t, "cache-0", m.Name)
	for i := range 100 {
		require.NoError(t, e.redis(m.Status.PodIP).Set(e.ctx, fmt.Sprintf("s%d", i), i, 0).Err())
	}
	const sentinelPassword = "sentinel-s3cret"
	addr, sc := redistest.StartSentinel(t, m.Status.PodIP, 6379, sentinelPassword)
	require.Eventually(t, func() bool {
		n, err := redisops.SentinelReplicaCount(e.ctx, sc, "mymaster")
		return err == nil && n == 3
	}, 60*time.Second, 100*time.Millisecond, "sentinel discovers the replicas (it reads the master's INFO every 10 s)")

	require.NoError(t, e.cl.Create(e.ctx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "sentinel-auth", Namespace: e.ns},
		Data:       map[string][]byte{"password": []byte(sentinelPassword)},
	}))
	g := e.group("cache")
	patch := client.MergeFrom(g.DeepCopy())
	g.Spec.Sentinel = &v1alpha1.SentinelSpec{Address: addr, MasterName: "mymaster",
		PasswordSecretRef: &v1alpha1.SecretKeyRef{Name: "sentinel-auth", Key: "password"}}
	require.NoError(t, e.cl.Patch(e.ctx, g, patch))

	// Sentinel moves the master to cache-2 (cache-1 and cache-3 made
	// ineligible); the scaler follows Sentinel.
	// priority is "" while the pod is away (it may be re-created).
	priority := func(pod string) string {
		var p corev1.Pod
		if err := e.cl.Get(e.ctx, clientKey(e.ns, pod), &p); err != nil || p.Status.PodIP == "" {
			return ""
		}
		prio, _ := redisops.ReplicaPriority(e.ctx, e.redis(p.Status.PodIP))
		return prio
	}
	setPriority := func(pod, p string) {
		require.NoError(t, redisops.SetReplicaPriority(e.ctx, e.redis(e.pod(pod).Status.PodIP), p))
	}
	setPriority("cache-1", "0")
	setPriority("cache-3", "0")
	require.Eventually(t, func() bool {
		prios, err := redisops.SentinelReplicaPriorities(e.ctx, sc, "mymaster")
		return err == nil && prios[e.pod("cache-1").Status.PodIP+":6379"] == 0 && prios[e.pod("cache-3").Status.PodIP+":6379"] == 0
	}, 60*time.Second, 200*time.Millisecond, "sentinel sees the priorities (it reads replicas' INFO every 10 s)")
	require.NoError(t, redisops.SentinelFailover(e.ctx, sc, "mymaster"))
	require.EventuallyWithT(t, func(ct *assert.CollectT) {
		require.Equal(ct, "cache-2", e.converged(ct, "cache", 4).Name)
	}, 60*time.Second, 100*time.Millisecond)
	setPriority("cache-1", "100")
	setPriority("cache-3", "100")

	// Case 5 of issue 11: scale to 2 removes the master, so cache-3 is made
	// ineligible first; cancelling the scale-down gives its priority back.
	e.scale("cache", 2)
	require.Eventually(t, func() bool { return priority("cache-3") == "0" }, 30*time.Second, 20*time.Millisecond)
	e.scale("cache", 4)
	require.Eventually(t, func() bool {
		return priority("cache-3") == "100" && e.pod("cache-3").Annotations[group.AnnotationReplicaPriority] == ""
	}, 30*time.Second, 50*time.Millisecond, "replica-priority restored after the cancelled scale-down")
	t.Logf("event %s", e.requireEvent("ReplicaPriorityRestored"))
	e.waitConverged("cache", 4, 60*time.Second)

	// Scale to 2: the master is removed, so Sentinel fails over first.
	e.scale("cache", 2)
	m = e.waitConverged("cache", 2, 90*time.Second)
	require.Contains(t, []string{"cache-0", "cache-1"}, m.Name)
	host, _, err := redisops.SentinelMaster(e.ctx, sc, "mymaster")
	require.NoError(t, err)
	require.Equal(t, m.Status.PodIP, host)
	e.requireEvent("Switchover")
	require.NotNil(t, e.group("cache").Status.LastSwitchoverTime, "the failover the scaler asked for is recorded")
	keys := make([]string, 100)
	for i := range keys {
		keys[i] = fmt.Sprintf("s%d", i)
	}
	e.requireKeys(m.Status.PodIP, keys)
	require.Eventually(t, func() bool {
		replicas, err := sc.Do(e.ctx, "SENTINEL", "REPLICAS", "mymaster").Slice()
		if err != nil || len(replicas) != 1 {
			return false
		}
		fields, _ := replicas[0].([]any)
		f := map[string]string{}
		for i := 0; i+1 < len(fields); i += 2 {
			k, _ := fields[i].(string)
			f[k], _ = fields[i+1].(string)
		}
		return f["flags"] == "slave" && f["master-link-status"] == "ok"
	}, 90*time.Second, 200*time.Millisecond, "sentinel forgets the removed pods and knows the replica that stays, link up "+
		"(a Sentinel that does not know a replica cannot promote it)")

	// The master crashes under writes and restarts as a replica of the
	// placeholder: Sentinel is asked to fail over at once, the scaler
	// follows, and every acknowledged write survives.
	w := e.startWriter("cache", "crash-")
	require.Eventually(t, func() bool { return w.Count() > 100 }, 20*time.Second, 10*time.Millisecond)
	e.signal(m.Name, syscall.SIGKILL)
	crashed := m.Name
	require.EventuallyWithT(t, func(ct *assert.CollectT) {
		m = e.converged(ct, "cache", 2)
		require.NotEqual(ct, crashed, m.Name)
	}, 90*time.Second, 100*time.Millisecond)
	n := w.Count()
	require.Eventually(t, func() bool { return w.Count() > n+50 }, 20*time.Second, 10*time.Millisecond, "writes resume on the new master")
	acked := w.Finish()
	t.Logf("master %s crashed: Sentinel promoted %s; %d writes acknowledged, %d not", crashed, m.Name, len(acked), w.Failed())
	for _, p := range e.pods("cache") {
		e.requireKeys(p.Status.PodIP, append(acked, keys...))
	}
}
