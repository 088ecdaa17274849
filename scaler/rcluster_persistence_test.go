package scaler_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/redis-autoscaler/redis-autoscaler/scaler/api/v1alpha1"
)

// Issue 25 case 3: a master killed and restarted within the node timeout
// keeps its slots, and its replica resyncs to what the restart loaded. The
// cluster says so up front, from each master's own configuration: with
// persistence off (as these test pods run) Guaranteed is False and names
// the masters and the fix, with a Warning event; once every master runs
// appendonly yes with appendfsync always it turns True.
func TestClusterSaysWhenARestartLosesWrites(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "cpersist")
	e.startScaler(nil)
	e.createCluster("rc", 2, 1)
	e.waitClusterBalanced("rc", 2, 1, 90*time.Second)
	guaranteed := func() *metav1.Condition {
		return meta.FindStatusCondition(e.rcluster("rc").Status.Conditions, v1alpha1.ConditionGuaranteed)
	}
	require.EventuallyWithT(t, func(ct *assert.CollectT) {
		c := guaranteed()
		require.NotNil(ct, c)
		require.Equal(ct, metav1.ConditionFalse, c.Status)
		require.Equal(ct, "RestartLosesWrites", c.Reason)
		require.Contains(ct, c.Message, "appendonly no")
		require.Contains(ct, c.Message, "appendfsync always")
	}, 10*time.Second, 100*time.Millisecond)
	t.Logf("condition: %s", guaranteed().Message)
	t.Logf("event %s", e.requireEvent("RestartLosesWrites"))

	for _, p := range e.pods("rc") {
		c := e.redis(p.Status.PodIP)
		require.NoError(t, c.ConfigSet(e.ctx, "appendonly", "yes").Err())
		require.NoError(t, c.ConfigSet(e.ctx, "appendfsync", "always").Err())
	}
	require.EventuallyWithT(t, func(ct *assert.CollectT) {
		c := guaranteed()
		require.NotNil(ct, c)
		require.Equal(ct, metav1.ConditionTrue, c.Status, c.Message)
	}, 30*time.Second, 100*time.Millisecond)
}
