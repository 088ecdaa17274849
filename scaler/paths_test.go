package scaler_test

import (
	"context"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/redis-autoscaler/redis-autoscaler/scaler/api/v1alpha1"
)

// A scale-down that would remove the master waits while no replica that
// stays is in sync (here: stopped), says so in the Scaling condition, and
// proceeds once one is.
func TestScaleDownBlockedUntilASurvivorIsInSync(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "blocked")
	e.startScaler(nil)
	e.createGroup("cache", 2)
	e.waitConverged("cache", 2, 60*time.Second)
	e.makeMaster("cache", "cache-1", 2)
	pid := e.signal("cache-0", syscall.SIGSTOP)
	stopped := true
	defer func() {
		if stopped {
			_ = syscall.Kill(pid, syscall.SIGCONT)
		}
	}()
	e.scale("cache", 1)
	require.EventuallyWithT(t, func(ct *assert.CollectT) {
		g := e.group("cache")
		c := meta.FindStatusCondition(g.Status.Conditions, v1alpha1.ConditionScaling)
		require.NotNil(ct, c)
		require.Equal(ct, "ScaleDownBlocked", c.Reason, "%s; spec %+v status %+v", c.Message, g.Spec, g.Status)
	}, 30*time.Second, 50*time.Millisecond)
	var sts appsv1.StatefulSet
	require.NoError(t, e.cl.Get(e.ctx, clientKey(e.ns, "cache"), &sts))
	require.EqualValues(t, 2, *sts.Spec.Replicas, "the master's pod is not removed while blocked")
	require.NoError(t, syscall.Kill(pid, syscall.SIGCONT))
	stopped = false
	require.Equal(t, "cache-0", e.waitConverged("cache", 1, 60*time.Second).Name)
}

// A Redis that refuses REPLICAOF: attaching a replica fails (AttachFailed,
// Degraded), and so does promoting a master (PromoteFailed); nothing else
// is touched and the reasons are in Events and conditions.
func TestAttachAndPromoteFailuresAreReported(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "refuse")
	e.startScaler(nil)
	refuse := []string{"--rename-command", "replicaof", "", "--rename-command", "slaveof", ""}
	// Pods start as empty masters: cache-0 is kept, attaching cache-1 fails.
	e.createGroup("attach", 2, refuse...)
	t.Logf("event %s", e.requireEvent("AttachFailed"))
	require.EventuallyWithT(t, func(ct *assert.CollectT) {
		g := e.group("attach")
		c := meta.FindStatusCondition(g.Status.Conditions, v1alpha1.ConditionDegraded)
		require.NotNil(ct, c)
		require.Equal(ct, metav1.ConditionTrue, c.Status)
		require.Equal(ct, "AttachFailed", c.Reason, c.Message)
		require.Equal(ct, "attach-0", g.Status.Master)
		require.False(ct, meta.IsStatusConditionTrue(g.Status.Conditions, v1alpha1.ConditionReady))
	}, 30*time.Second, 50*time.Millisecond)

	// Pods start as replicas of the placeholder: electing needs a
	// promotion, which fails.
	e.createGroup("promote", 1, append([]string{"--replicaof", "127.0.0.1", "1"}, refuse...)...)
	require.EventuallyWithT(t, func(ct *assert.CollectT) {
		var list = e.eventsWith("PromoteFailed")
		require.NotEmpty(ct, list)
		g := e.group("promote")
		require.Empty(ct, g.Status.Master)
		require.False(ct, meta.IsStatusConditionTrue(g.Status.Conditions, v1alpha1.ConditionReady))
	}, 30*time.Second, 50*time.Millisecond)
}

// A switchover whose target stalls (kept busy by DEBUG SLEEP: it cannot
// catch up, or be promoted, within the write pause) is aborted: writes
// resume on the old master, nothing acknowledged is lost, and a later
// attempt succeeds.
func TestSwitchoverToAStalledTargetAborts(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "catchup")
	e.startScaler(nil)
	e.createGroup("cache", 2, "--enable-debug-command", "yes")
	g := e.group("cache")
	patch := client.MergeFrom(g.DeepCopy())
	g.Spec.Switchover.WritePauseTimeout = &metav1.Duration{Duration: 100 * time.Millisecond}
	require.NoError(t, e.cl.Patch(e.ctx, g, patch))
	e.waitConverged("cache", 2, 60*time.Second)
	e.makeMaster("cache", "cache-1", 2)
	w := e.startWriter("cache", "w-")
	require.Eventually(t, func() bool { return w.Count() > 100 }, 20*time.Second, 10*time.Millisecond)

	// Keep the target asleep most of the time: 0.8 s sleeps, back to back.
	target := e.redis(e.pod("cache-0").Status.PodIP)
	ctx, cancel := context.WithCancel(e.ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for ctx.Err() == nil {
			_ = target.Do(ctx, "DEBUG", "SLEEP", "0.8").Err()
		}
	}()
	// Scale only once the target is asleep (a PING does not answer).
	require.Eventually(t, func() bool {
		pctx, pcancel := context.WithTimeout(ctx, 100*time.Millisecond)
		defer pcancel()
		return e.redis(e.pod("cache-0").Status.PodIP).Ping(pctx).Err() != nil
	}, 10*time.Second, 10*time.Millisecond)
	e.scale("cache", 1)
	t.Logf("event %s", e.requireEventWithin(30*time.Second, "SwitchoverFailed"))
	cancel()
	wg.Wait()
	m := e.waitConverged("cache", 1, 60*time.Second)
	require.Equal(t, "cache-0", m.Name)
	acked := w.Finish()
	t.Logf("%d writes acknowledged, %d not", len(acked), w.Failed())
	e.requireKeys(m.Status.PodIP, acked)
}
