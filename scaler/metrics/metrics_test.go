package metrics

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLint(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := New(reg)
	m.Reconciles.WithLabelValues("ok").Inc()
	m.Switchovers.WithLabelValues("cache", "redis", "ok").Inc()
	m.ScaleEvents.WithLabelValues("cache", "redis", "up").Inc()
	m.Commands.WithLabelValues("replicaof").Inc()
	m.Errors.WithLabelValues("observe").Inc()
	m.WritePauseSeconds.WithLabelValues("cache", "redis").Observe(0.002)
	m.AttachSeconds.WithLabelValues("cache", "redis").Observe(0.8)
	m.ReconcileSeconds.Observe(0.008)
	problems, err := testutil.GatherAndLint(reg)
	require.NoError(t, err)
	assert.Empty(t, problems)
}

// A deleted group's series go; the other groups' stay.
func TestForgetGroup(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := New(reg)
	for _, g := range []string{"a", "b"} {
		m.Switchovers.WithLabelValues("cache", g, "ok").Inc()
		m.WritePauseSeconds.WithLabelValues("cache", g).Observe(0.002)
		m.AttachSeconds.WithLabelValues("cache", g).Observe(0.8)
		m.ScaleEvents.WithLabelValues("cache", g, "down").Inc()
	}
	m.ForgetGroup("cache", "a")
	for _, c := range []prometheus.Collector{m.Switchovers, m.WritePauseSeconds, m.AttachSeconds, m.ScaleEvents} {
		assert.Equal(t, 1, testutil.CollectAndCount(c), "only group b is left")
	}
}

// A group's series exist at zero before anything happened to it.
func TestInitGroup(t *testing.T) {
	m := New(prometheus.NewRegistry())
	m.InitGroup("cache", "redis")
	m.InitGroup("cache", "redis") // every reconcile calls it
	assert.Equal(t, 3, testutil.CollectAndCount(m.Switchovers))
	assert.Equal(t, 2, testutil.CollectAndCount(m.ScaleEvents))
	assert.Equal(t, 1, testutil.CollectAndCount(m.WritePauseSeconds))
	assert.Equal(t, 1, testutil.CollectAndCount(m.AttachSeconds))
	assert.Zero(t, testutil.ToFloat64(m.Switchovers.WithLabelValues("cache", "redis", "ok")))
}
