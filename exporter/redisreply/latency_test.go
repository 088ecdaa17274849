package redisreply

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestParseLatencyHistogram(t *testing.T) {
	for _, tc := range []struct {
		name  string
		reply any
		want  map[string]LatencyHistogram
	}{
		{"not an array", "x", nil},
		{"one command", []any{"set", []any{"calls", int64(3), "histogram_usec", []any{int64(16), int64(2), int64(33), int64(3)}}},
			map[string]LatencyHistogram{"set": {Calls: 3, Buckets: map[float64]uint64{16: 2, 33: 3}}}},
		{"bad buckets and calls left out", []any{"get", []any{"calls", int64(-1), "histogram_usec", []any{int64(0), int64(1), int64(8), int64(-2), "16", int64(1)}}},
			map[string]LatencyHistogram{"get": {Buckets: map[float64]uint64{}}}},
		{"entries of another shape skipped", []any{int64(1), []any{}, "del", "x", "get"}, map[string]LatencyHistogram{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, ParseLatencyHistogram(tc.reply))
		})
	}
}

func TestParseLatencyHistogramRealReply(t *testing.T) {
	got := ParseLatencyHistogram(realReply(t, "latency-histogram-7.0.resp"))
	assert.Equal(t, map[string]LatencyHistogram{
		"set": {Calls: 3, Buckets: map[float64]uint64{16: 2, 33: 3}},
		"get": {Calls: 3, Buckets: map[float64]uint64{8: 3}},
	}, got)
}

// Whatever the reply, buckets have positive bounds and the parser never
// panics.
func FuzzParseLatencyHistogram(f *testing.F) {
	fuzzReplies(f, "latency-histogram-*.resp", func(t *testing.T, v any) {
		for name, h := range ParseLatencyHistogram(v) {
			for bound := range h.Buckets {
				if bound <= 0 {
					t.Fatalf("%s: bound %v", name, bound)
				}
			}
		}
	})
}
