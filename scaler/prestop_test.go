package scaler_test

import (
	"context"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/redis-autoscaler/redis-autoscaler/scaler/api/v1alpha1"
	"github.com/redis-autoscaler/redis-autoscaler/scaler/topology"
)

// Issue 25 case 8: a master whose pod is being deleted and whose process
// stalls (SIGSTOP) inside its preStop window is not replaced while the
// process lives: a replica promoted then would face an old master that
// answers again and takes writes. The scaler waits, saying why; when the
// process answers (SIGCONT after 3 s) it hands the master over with paused
// writes, as for any deleted master. The clients stay on the old master
// throughout (connections a client library holds): the history is
// linearizable, nothing acknowledged is lost, and nothing was failed over.
func TestDeletedMasterStalledInPreStopIsNotReplaced(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "stalled")
	e.startScaler(nil)
	e.createExample(3, func(sts *appsv1.StatefulSet, _ *v1alpha1.RedisReplicationGroup) {
		// Room for the switchover after the 3 s stall.
		sts.Spec.Template.Spec.Containers[0].Lifecycle.PreStop.Sleep.Seconds = 12
	})
	m := e.waitConverged("cache", 3, 60*time.Second)
	w := e.startWorkloadOn("cache", m.Status.PodIP, 4, uint64(time.Now().UnixNano()))
	require.Eventually(t, func() bool { return w.ackedCount() > 100 }, 30*time.Second, 10*time.Millisecond)

	promotions := len(e.eventsWith("Promoted")) // the first election's
	e.signal(m.Name, syscall.SIGSTOP)
	uid := m.UID
	require.NoError(t, e.cl.Delete(e.ctx, &m, client.Preconditions{UID: &uid}))
	stopped := time.Now()
	require.EventuallyWithT(t, func(ct *assert.CollectT) {
		c := meta.FindStatusCondition(e.group("cache").Status.Conditions, v1alpha1.ConditionDegraded)
		require.NotNil(ct, c)
		require.Contains(ct, c.Message, "master "+m.Name+" is being deleted, its container still running, but does not answer")
	}, 6*time.Second, 20*time.Millisecond, "the group says it waits for the stalled master")
	time.Sleep(3*time.Second - time.Since(stopped))
	assert.Len(t, e.eventsWith("Promoted"), promotions, "nothing promoted while the old master's process lives")
	acked := w.ackedCount()
	e.signal(m.Name, syscall.SIGCONT)
	t.Logf("event %s", e.requireEventWithin(20*time.Second, "Switchover"))
	w.finish()
	v := e.settleAndCheck(w, "cache", 3)

	t.Logf("%d keys, %d writes acknowledged (%d before SIGCONT), %d unknown, %d refused, %d reads; lost %d; history %s; longest gap %v",
		v.keys, v.acked, acked, v.unknown, v.refused, v.reads, len(v.lost), v.linearizable, v.maxGap.Round(time.Millisecond))
	assert.Zero(t, e.eventCount(topology.ReasonMasterDown), "the master was handed over, never failed over")
	assert.Len(t, e.eventsWith("Promoted"), promotions)
	assert.Empty(t, v.lost, "acknowledged writes lost")
	assert.Empty(t, v.replicaDiffs)
	assert.Equal(t, porcupine.Ok, v.linearizable, "history not linearizable per key:\n%s", strings.Join(v.illegal, "\n"))
}

// Issue 25 case 7: a switchover paused the old master, promoted the
// target, and its scaler died before re-pointing anything. The pause
// lifts while the old master's pod is in its preStop window (10 s): the
// clients still on it write, and its replica, never re-pointed,
// acknowledges WAIT 1. The next scaler starts only after the old pod is
// gone and finds the promoted target the only master, with no replica,
// behind the other replica in the history it was promoted from. Keeping
// it would resync that replica down to the promotion point and drop those
// acknowledged writes; the replica ahead is promoted instead.
func TestSwitchoverInterruptedAfterPromotionKeepsLaterWrites(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "interrupted")
	e.createExample(3, func(sts *appsv1.StatefulSet, _ *v1alpha1.RedisReplicationGroup) {
		sts.Spec.Template.Spec.Containers[0].Lifecycle.PreStop.Sleep.Seconds = 10
	})
	dying, kill := context.WithCancel(context.Background())
	promoted := make(chan struct{})
	var once sync.Once
	stop := e.startScalerWith(dying, func() {
		once.Do(func() { close(promoted); kill() })
		panic("scaler dies mid-switchover")
	})
	m := e.waitConverged("cache", 3, 60*time.Second)
	w := e.startWorkloadOn("cache", m.Status.PodIP, 4, uint64(time.Now().UnixNano()))
	require.Eventually(t, func() bool { return w.ackedCount() > 100 }, 30*time.Second, 10*time.Millisecond)

	uid := m.UID
	require.NoError(t, e.cl.Delete(e.ctx, &m, client.Preconditions{UID: &uid}))
	select {
	case <-promoted:
	case <-time.After(30 * time.Second):
		t.Fatal("the switchover never promoted")
	}
	stop()
	atPromotion := w.ackedCount()
	require.EventuallyWithT(t, func(ct *assert.CollectT) {
		var p corev1.Pod
		err := e.cl.Get(e.ctx, clientKey(e.ns, m.Name), &p)
		require.True(ct, apierrors.IsNotFound(err) || err == nil && p.UID != uid, "old pod still there")
	}, 60*time.Second, 100*time.Millisecond)
	w.finish()
	later := w.ackedCount() - atPromotion
	t.Logf("%d writes acknowledged by the old master's replica after the promotion", later)
	require.Positive(t, later, "the case under test: the old master served on after the pause lifted")

	e.startScaler(nil)
	v := e.settleAndCheck(w, "cache", 3)
	t.Logf("%d keys, %d writes acknowledged, %d unknown, %d refused, %d reads; lost %d; history %s",
		v.keys, v.acked, v.unknown, v.refused, v.reads, len(v.lost), v.linearizable)
	t.Logf("event %s", e.requireEvent(topology.ReasonPromotedBehind))
	assert.Empty(t, v.lost, "acknowledged writes lost")
	assert.Empty(t, v.replicaDiffs)
	assert.Equal(t, porcupine.Ok, v.linearizable, "history not linearizable per key:\n%s", strings.Join(v.illegal, "\n"))
}
