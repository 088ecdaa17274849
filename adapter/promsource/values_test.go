package promsource

import (
	"math"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/assert"

	"github.com/redis-autoscaler/redis-autoscaler/adapter/source"
)

func TestToValues(t *testing.T) {
	now := time.UnixMilli(1_700_000_000_000)
	sample := func(pod string, v float64, at time.Time) *model.Sample {
		return &model.Sample{Metric: model.Metric{"pod": model.LabelValue(pod)}, Value: model.SampleValue(v), Timestamp: model.TimeFromUnixNano(at.UnixNano())}
	}
	want := map[string]bool{"a": true, "b": true}
	tests := []struct {
		name   string
		vector model.Vector
		stamps map[string]time.Time
		want   map[string]source.Value
	}{
		{"plain", model.Vector{sample("a", 1.5, now)}, nil,
			map[string]source.Value{"a": {Value: 1.5, Timestamp: now, Window: time.Minute}}},
		{"pod not asked for", model.Vector{sample("z", 1, now)}, nil, map[string]source.Value{}},
		{"no pod label", model.Vector{{Metric: model.Metric{}, Value: 1, Timestamp: model.TimeFromUnixNano(now.UnixNano())}}, nil, map[string]source.Value{}},
		{"NaN and Inf dropped", model.Vector{sample("a", math.NaN(), now), sample("b", math.Inf(1), now)}, nil, map[string]source.Value{}},
		{"sample time from timestamp query", model.Vector{sample("a", 2, now)}, map[string]time.Time{"a": now.Add(-10 * time.Second)},
			map[string]source.Value{"a": {Value: 2, Timestamp: now.Add(-10 * time.Second), Window: time.Minute}}},
		{"stale by timestamp query", model.Vector{sample("a", 2, now), sample("b", 3, now)}, map[string]time.Time{"a": now.Add(-3 * time.Minute)},
			map[string]source.Value{"b": {Value: 3, Timestamp: now, Window: time.Minute}}},
		{"stale by result time", model.Vector{sample("a", 2, now.Add(-5*time.Minute))}, nil, map[string]source.Value{}},
		{"newest of duplicates", model.Vector{sample("a", 1, now.Add(-time.Second)), sample("a", 2, now), sample("a", 3, now.Add(-2*time.Second))}, nil,
			map[string]source.Value{"a": {Value: 2, Timestamp: now, Window: time.Minute}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := toValues(tt.vector, tt.stamps, want, now, time.Minute, 2*time.Minute)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestSampleTimes(t *testing.T) {
	vector := model.Vector{
		{Metric: model.Metric{"pod": "a"}, Value: 1700000000.123},
		{Metric: model.Metric{"pod": "b"}, Value: model.SampleValue(math.NaN())},
	}
	got := sampleTimes(vector)
	assert.Equal(t, map[string]time.Time{"a": time.UnixMilli(1700000000123)}, got)
}
