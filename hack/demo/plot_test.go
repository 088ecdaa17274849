package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/redis-autoscaler/redis-autoscaler/test/e2e"
)

func TestWritePlot(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	ops := func(cur float64) map[string]e2e.Metric {
		return map[string]e2e.Metric{"redis_ops_per_second": {Current: cur, Target: 1000}}
	}
	tests := []struct {
		name    string
		report  e2e.Report
		wantErr string
	}{
		{"no samples", e2e.Report{}, "no samples"},
		{"a run", e2e.Report{
			Samples: []e2e.Sample{
				{T: at(0), Load: 200, Spec: 2, Pods: 2, Ready: 2, Synced: 2, Metrics: ops(200)},
				{T: at(5), Load: 3000, Spec: 4, Pods: 4, Ready: 2, Synced: 2, Metrics: ops(1500)},
				{T: at(10), Load: 3000, Spec: 4, Pods: 4, Ready: 4, Synced: 4, Metrics: ops(800)},
			},
			Events: []e2e.Event{
				{T: at(-5), Reason: "ScaledUp"}, // before the run: left out
				{T: at(5), Reason: "SuccessfulRescale"},
				{T: at(6), Reason: "ScaledUp"},
				{T: at(9), Reason: "Switchover"},
			},
		}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "plot.png")
			err := writePlot(&tc.report, path)
			if tc.wantErr != "" {
				require.ErrorContains(t, err, tc.wantErr)
				return
			}
			require.NoError(t, err)
			png, err := os.ReadFile(path)
			require.NoError(t, err)
			require.True(t, strings.HasPrefix(string(png), "\x89PNG"))
		})
	}
}
