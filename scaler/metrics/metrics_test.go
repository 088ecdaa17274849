package metrics

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestNewTwiceSharesCollectors(t *testing.T) {
	reg := prometheus.NewRegistry()
	a := New(reg)
	b := New(reg) // a scaler restarted in the same process
	a.Reconciles.WithLabelValues("ok").Inc()
	b.Reconciles.WithLabelValues("ok").Inc()
	assert.InDelta(t, 2, testutil.ToFloat64(a.Reconciles.WithLabelValues("ok")), 0)
}

func TestLint(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := New(reg)
	m.Reconciles.WithLabelValues("ok").Inc()
	m.Switchovers.WithLabelValues("ok").Inc()
	m.Commands.WithLabelValues("replicaof").Inc()
	m.Errors.WithLabelValues("observe").Inc()
	m.WritePauseSeconds.Observe(0.002)
	m.AttachSeconds.Observe(0.8)
	m.ReconcileSeconds.Observe(0.008)
	problems, err := testutil.GatherAndLint(reg)
	require.NoError(t, err)
	assert.Empty(t, problems)
}
