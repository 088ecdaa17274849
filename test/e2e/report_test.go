package e2e

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestReactions(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	ops := func(cur float64) map[string]Metric {
		return map[string]Metric{"redis_ops_per_second": {Current: cur, Target: 1000}}
	}
	samples := []Sample{
		{T: at(0), Spec: 2, Pods: 2, Ready: 2, Synced: 2, Metrics: ops(100)},
		{T: at(1), Spec: 2, Pods: 2, Ready: 2, Synced: 2, Metrics: ops(500)},
		{T: at(3), Spec: 2, Pods: 2, Ready: 2, Synced: 2, Metrics: ops(1500)},
		{T: at(5), Spec: 4, Pods: 4, Ready: 2, Synced: 2, Metrics: ops(1500)},
		{T: at(6), Spec: 4, Pods: 4, Ready: 4, Synced: 2, Metrics: ops(800)},
		{T: at(8), Spec: 4, Pods: 4, Ready: 4, Synced: 4, Metrics: ops(800)},
		{T: at(10), Spec: 4, Pods: 4, Ready: 4, Synced: 4, Metrics: ops(1200)},
		{T: at(12), Spec: 4, Pods: 4, Ready: 4, Synced: 4, Metrics: ops(300)},
		{T: at(20), Spec: 2, Pods: 3, Ready: 3, Synced: 3, Metrics: ops(300)},
		{T: at(22), Spec: 2, Pods: 2, Ready: 2, Synced: 2, Metrics: ops(300)},
	}
	got := Reactions(samples, []Change{{at(1), true}, {at(10), false}}, "redis_ops_per_second")
	require.Len(t, got, 2)
	require.Equal(t, Reaction{Direction: "up", From: 2, To: 4, Stages: []Stage{
		{"metric crosses target", 2 * time.Second},
		{"HPA decision (spec.replicas)", 4 * time.Second},
		{"pods Running and Ready", 5 * time.Second},
		{"all attached and in sync", 7 * time.Second},
	}}, got[0])
	require.Equal(t, Reaction{Direction: "down", From: 4, To: 2, Stages: []Stage{
		{"metric crosses target", 2 * time.Second},
		{"HPA decision (spec.replicas)", 10 * time.Second},
		{"pods removed", 12 * time.Second},
		{"all attached and in sync", 12 * time.Second},
	}}, got[1])
	// A change after the last sample, or one nothing followed, is left out.
	require.Empty(t, Reactions(samples, []Change{{at(30), true}}, "redis_ops_per_second"))
}

func TestWritePauses(t *testing.T) {
	events := []Event{
		{Reason: "Switchover", Message: "CLIENT PAUSE WRITE on cache-3, REPLICAOF NO ONE on cache-1 at offset 812, 3 pods re-pointed; writes paused 4.21ms (scale-down)"},
		{Reason: "ScaledDown", Message: "statefulset cache: 4 -> 3 replicas"},
		{Reason: "Switchover", Message: "CLIENT PAUSE WRITE on cache-1, REPLICAOF NO ONE on cache-0 at offset 9, 1 pods re-pointed; writes paused 850µs (pod deleted)"},
		{Reason: "Switchover", Message: "SENTINEL FAILOVER mymaster: master cache-2 is removed by the scale-down"},
	}
	require.Equal(t, []time.Duration{4210 * time.Microsecond, 850 * time.Microsecond}, WritePauses(events))
}
