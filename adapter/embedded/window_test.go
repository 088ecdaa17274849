package embedded

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func at(sec int, runID string, commands float64) sample {
	return sample{At: t0.Add(time.Duration(sec) * time.Second), RunID: runID, Commands: commands, Instant: 7}
}

func TestOpsPerSecond(t *testing.T) {
	for name, tc := range map[string]struct {
		w    window
		want float64
		span time.Duration
	}{
		"single sample uses instantaneous": {w: window{at(0, "a", 100)}, want: 7},
		"rate over the window, own INFO excluded": {
			w: window{at(0, "a", 100), at(5, "a", 601), at(10, "a", 1102)}, want: 100, span: 10 * time.Second},
		"restart: only samples since": {
			w: window{at(0, "a", 100000), at(5, "b", 10), at(10, "b", 511)}, want: 100, span: 5 * time.Second},
		"restart, one sample: instantaneous": {
			w: window{at(0, "a", 100000), at(5, "b", 10)}, want: 7},
		"counter reset without run_id change": {
			w: window{at(0, "a", 500), at(5, "a", 10), at(10, "a", 1011)}, want: 200, span: 5 * time.Second},
		"idle server never negative": {
			w: window{at(0, "a", 100), at(5, "a", 100)}, want: 0, span: 5 * time.Second},
	} {
		t.Run(name, func(t *testing.T) {
			got, span, ok := tc.w.opsPerSecond()
			assert.True(t, ok)
			assert.InDelta(t, tc.want, got, 1e-9)
			assert.Equal(t, tc.span, span)
		})
	}
	_, _, ok := window{}.opsPerSecond()
	assert.False(t, ok)
}

func TestResponseTime(t *testing.T) {
	var w window
	for i := 1; i <= 100; i++ {
		w = append(w, sample{At: t0.Add(time.Duration(i) * time.Second), RTT: time.Duration(i) * time.Millisecond})
	}
	for q, want := range map[float64]float64{0.5: 0.050, 0.99: 0.099, 1: 0.100, 0: 0.001} {
		got, _, ok := w.responseTime(q)
		assert.True(t, ok)
		assert.InDelta(t, want, got, 1e-9, "q=%v", q)
	}
	got, _, _ := window{{RTT: 3 * time.Millisecond}}.responseTime(0.99)
	assert.InDelta(t, 0.003, got, 1e-9)
}

func TestWindowAddTrims(t *testing.T) {
	var w window
	for i := 0; i <= 20; i++ {
		w = w.add(at(i*5, "a", float64(i)), time.Minute)
	}
	assert.Len(t, w, 13, "60s of 5s samples, both ends included")
	assert.Equal(t, t0.Add(40*time.Second), w[0].At)
}

func TestMemoryFraction(t *testing.T) {
	for name, tc := range map[string]struct {
		s     sample
		limit float64
		want  float64
		ok    bool
	}{
		"maxmemory":                {s: sample{Used: 25, Max: 100}, limit: 1000, want: 0.25, ok: true},
		"container limit fallback": {s: sample{Used: 25}, limit: 50, want: 0.5, ok: true},
		"neither":                  {s: sample{Used: 25}},
	} {
		got, ok := memoryFraction(tc.s, tc.limit)
		assert.Equal(t, tc.ok, ok, name)
		assert.InDelta(t, tc.want, got, 1e-9, name)
	}
}
