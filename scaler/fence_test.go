package scaler_test

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/redis-autoscaler/redis-autoscaler/scaler/api/v1alpha1"
	"github.com/redis-autoscaler/redis-autoscaler/scaler/controller"
)

// Issue 25 case 9: a scaler frozen past its Lease must not act when it
// wakes. Scaler A switches the master of a group over (its pod is being
// deleted, preStop 30 s) and freezes for 20 s right after promoting the
// target, nothing re-pointed. Scaler B, a second install watching the same
// namespace, waits out the group's Lease (15 s) and takes over. When A
// wakes, its switchover proves it still holds the Lease before re-pointing
// anything, finds B does, and stops. One master, every acknowledged write
// kept, the history linearizable.
func TestFrozenScalerIsFenced(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "fenced")
	e.createExample(3, func(sts *appsv1.StatefulSet, _ *v1alpha1.RedisReplicationGroup) {
		sts.Spec.Template.Spec.Containers[0].Lifecycle.PreStop.Sleep.Seconds = 30
		sts.Spec.Template.Spec.TerminationGracePeriodSeconds = ptr.To(int64(40))
	})
	promoted := make(chan struct{})
	var once sync.Once
	e.startScalerOpts(e.ctx, func(o *scalerOpts) {
		o.afterPromote = func() {
			once.Do(func() {
				close(promoted)
				time.Sleep(20 * time.Second) // frozen, past the group's Lease
			})
		}
	})
	m := e.waitConverged("cache", 3, 60*time.Second)
	w := e.startWorkload("cache", 4, uint64(time.Now().UnixNano()))
	require.Eventually(t, func() bool { return w.ackedCount() > 100 }, 30*time.Second, 10*time.Millisecond)

	var lease coordinationv1.Lease
	key := controller.LeaseKey("RedisReplicationGroup", clientKey(e.ns, "cache"))
	require.NoError(t, e.cl.Get(e.ctx, key, &lease), "the group has a Lease in its own namespace")
	a := ptr.Deref(lease.Spec.HolderIdentity, "")
	require.NotEmpty(t, a)

	uid := m.UID
	require.NoError(t, e.cl.Delete(e.ctx, &m, client.Preconditions{UID: &uid}))
	select {
	case <-promoted:
	case <-time.After(30 * time.Second):
		t.Fatal("no switchover promoted")
	}
	frozen := time.Now()
	e.startScaler(nil) // B
	require.EventuallyWithT(t, func(ct *assert.CollectT) {
		var l coordinationv1.Lease
		require.NoError(ct, e.cl.Get(e.ctx, key, &l))
		require.NotEqual(ct, a, ptr.Deref(l.Spec.HolderIdentity, ""))
	}, 30*time.Second, 100*time.Millisecond, "B takes the Lease once A's has run out")
	t.Logf("B holds the Lease %v after A froze", time.Since(frozen).Round(100*time.Millisecond))
	msg := e.requireEventWithin(30*time.Second, "SwitchoverFailed")
	t.Logf("event %s", msg)
	assert.Contains(t, msg, "another scaler holds this object's Lease", "A stops when it wakes")

	e.waitConverged("cache", 3, 90*time.Second)
	w.finish()
	v := e.settleAndCheck(w, "cache", 3)
	t.Logf("%d keys, %d writes acknowledged, %d unknown, %d refused; lost %d; history %s; longest gap %v",
		v.keys, v.acked, v.unknown, v.refused, len(v.lost), v.linearizable, v.maxGap.Round(time.Millisecond))
	assert.Empty(t, v.lost, "acknowledged writes lost")
	assert.Empty(t, v.replicaDiffs)
	assert.Equal(t, porcupine.Ok, v.linearizable, "history not linearizable per key:\n%s", strings.Join(v.illegal, "\n"))
}
