package promsource

import (
	"math"
	"time"

	"github.com/prometheus/common/model"

	"github.com/redis-autoscaler/redis-autoscaler/adapter/source"
)

// podLabel is the label every query result must carry.
const podLabel model.LabelName = "pod"

// toValues turns a query result into per-pod values. It keeps only pods
// asked for, drops NaN and ±Inf (a histogram_quantile over no requests, a
// division by zero: no measurement, not a value), and drops values whose
// newest sample is older than maxStaleness. stamps, from the timestamp
// query, hold the real sample times; without one the result's own
// timestamp (the evaluation time) stands.
func toValues(vector model.Vector, stamps map[string]time.Time, want map[string]bool, now time.Time, window, maxStaleness time.Duration) map[string]source.Value {
	out := make(map[string]source.Value, len(vector))
	for _, sample := range vector {
		pod := string(sample.Metric[podLabel])
		if !want[pod] {
			continue
		}
		v := float64(sample.Value)
		if math.IsNaN(v) || math.IsInf(v, 0) {
			continue
		}
		ts := sample.Timestamp.Time()
		if stamp, ok := stamps[pod]; ok {
			ts = stamp
		}
		if now.Sub(ts) > maxStaleness {
			continue
		}
		// A custom query not aggregated by pod can return several series
		// for one pod: the newest wins.
		if prev, ok := out[pod]; ok && !ts.After(prev.Timestamp) {
			continue
		}
		out[pod] = source.Value{Value: v, Timestamp: ts, Window: window}
	}
	return out
}

// sampleTimes reads a timestamp query's result: per pod, Unix seconds.
func sampleTimes(vector model.Vector) map[string]time.Time {
	out := make(map[string]time.Time, len(vector))
	for _, sample := range vector {
		sec := float64(sample.Value)
		if math.IsNaN(sec) || math.IsInf(sec, 0) {
			continue
		}
		pod := string(sample.Metric[podLabel])
		out[pod] = time.UnixMilli(int64(math.Round(sec * 1000)))
	}
	return out
}
