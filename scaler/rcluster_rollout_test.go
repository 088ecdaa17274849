package scaler_test

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"

	"github.com/redis-autoscaler/redis-autoscaler/scaler/topology/clusterplan"
)

// Issue 25 case 2: `kubectl rollout restart` of a cluster's StatefulSet
// (RollingUpdate) three times under a cluster client writing with SET +
// WAIT 1, then once more while it reshards from 2 to 3 shards. The scaler
// paces the StatefulSet controller through the partition: a pod at a time
// from a settled cluster, each master's slots handed to its in-sync
// replica with a CLUSTER FAILOVER before its pod goes. Every acknowledged
// write stays readable, the client sees nothing but redirections, the
// cluster is ok and balanced after each rollout.
func TestClusterRolloutRestartsLoseNoAcknowledgedWrite(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "crollout")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	t.Cleanup(cancel)
	e.ctx = ctx
	w := e.startLoadedCluster(2, 2000)
	handovers := 0
	for i := range 3 {
		start := time.Now()
		rev := e.rolloutRestart("rc")
		e.waitClusterRolledOut("rc", rev, 2, 1, 3*time.Minute)
		n := commandsSent(t, e.metrics, "CLUSTER FAILOVER")
		t.Logf("rollout %d: %v, %d handovers, %d writes acknowledged so far, longest gap so far %v",
			i+1, time.Since(start).Round(time.Millisecond), n-handovers, w.Count(), w.MaxGap().Round(time.Millisecond))
		assert.LessOrEqual(t, n-handovers, 2*2, "at most two master changes per shard")
		handovers = n
	}
	start := time.Now()
	e.scaleCluster("rc", 3)
	rev := e.rolloutRestart("rc")
	addrs := e.waitClusterRolledOut("rc", rev, 3, 1, 4*time.Minute)
	t.Logf("rollout during 2 -> 3 shards: %v, %d handovers", time.Since(start).Round(time.Millisecond), commandsSent(t, e.metrics, "CLUSTER FAILOVER")-handovers)
	before := w.Count()
	require.Eventually(t, func() bool { return w.Count() > before+200 }, 30*time.Second, 10*time.Millisecond)

	gap := w.MaxGap()
	acked := finishWriter(t, w, false)
	requireAllKeys(t, addrs, keysOf("pre:", 2000))
	requireAllKeys(t, addrs, acked)
	t.Logf("longest gap between acknowledged writes %v", gap.Round(time.Millisecond))
	var sts appsv1.StatefulSet
	require.NoError(t, e.cl.Get(e.ctx, clientKey(e.ns, "rc"), &sts))
	assert.EqualValues(t, clusterplan.PartitionHold, *sts.Spec.UpdateStrategy.RollingUpdate.Partition, "held for the next update")
}

// commandsSent is how many of a topology command the in-process scaler
// sent (its metric: Events are rate-limited per object by client-go).
func commandsSent(t testing.TB, reg prometheus.Gatherer, command string) int {
	mfs, err := reg.Gather()
	require.NoError(t, err)
	n := 0.0
	for _, mf := range mfs {
		if mf.GetName() != "redis_autoscaler_scaler_topology_commands_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetValue() == command {
					n += m.GetCounter().GetValue()
				}
			}
		}
	}
	return int(n)
}

// waitClusterRolledOut waits until every pod of the cluster runs revision
// rev and the cluster is balanced; it returns the pods' addresses.
func (e *env) waitClusterRolledOut(name, rev string, shards, perShard int, timeout time.Duration) []string {
	var addrs []string
	require.EventuallyWithT(e.t, func(ct *assert.CollectT) {
		for _, p := range e.pods(name) {
			require.Equal(ct, rev, p.Labels[appsv1.ControllerRevisionHashLabelKey], p.Name)
		}
		addrs = e.clusterBalanced(ct, name, shards, perShard)
	}, timeout, 100*time.Millisecond)
	return addrs
}
