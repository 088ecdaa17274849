package scaler_test

import (
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/api/meta"

	"github.com/redis-autoscaler/redis-autoscaler/scaler/api/v1alpha1"
)

// Issue 25 case 11: a scale-down never removes the last in-sync replica.
// A group of 3 under SET + WAIT 1; the replica that would stay (pod 1)
// is stalled (SIGSTOP), so only pod 2, which a scale to 2 removes, has
// the writes. The scale-down waits (ScaleDownBlocked) instead of
// removing it; the master is then killed (kill -9) and pod 1 resumes:
// the in-sync pod 2 takes over and no acknowledged write is lost. Before
// the fix the scale-down was "safe" whenever the master stayed, pod 2
// went, and the writes acknowledged by it alone went with it.
func TestScaleDownKeepsAnInSyncReplica(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "scaledown-sync")
	e.startScaler(nil)
	e.createGroup("sd", 3, "--replicaof", "127.0.0.1", "1")
	e.waitConverged("sd", 3, 60*time.Second)
	e.makeMaster("sd", "sd-0", 3)
	w := e.startWriter("sd", "w:")
	require.Eventually(t, func() bool { return w.Count() > 200 }, 30*time.Second, 10*time.Millisecond)

	e.signal("sd-1", syscall.SIGSTOP)
	e.scale("sd", 2)
	require.EventuallyWithT(t, func(ct *assert.CollectT) {
		c := meta.FindStatusCondition(e.group("sd").Status.Conditions, v1alpha1.ConditionScaling)
		require.NotNil(ct, c)
		require.Equal(ct, "ScaleDownBlocked", c.Reason, c.Message)
	}, 30*time.Second, 100*time.Millisecond)
	assert.Len(t, e.pods("sd"), 3, "the in-sync replica was removed")
	before := w.Count()
	require.Eventually(t, func() bool { return w.Count() > before+100 }, 30*time.Second, 10*time.Millisecond)

	e.signal("sd-0", syscall.SIGKILL)
	e.signal("sd-1", syscall.SIGCONT)
	m := e.waitConverged("sd", 2, 90*time.Second)
	before = w.Count()
	require.Eventually(t, func() bool { return w.Count() > before+100 }, 30*time.Second, 10*time.Millisecond)
	acked := w.Finish()
	t.Logf("%d writes acknowledged, %d not; master now %s", len(acked), w.Failed(), m.Name)
	e.requireKeys(m.Status.PodIP, acked)
}
