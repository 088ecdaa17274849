package engine

import (
	"sort"
	"time"
)

// rttBuckets span a loopback round trip (~50 µs) to a Redis stalled for
// seconds by a slow script or fork.
var rttBuckets = []float64{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5}

// Histogram accumulates probe round trips of one target; it is emitted
// as a const histogram, since the collector builds metrics per scrape.
type Histogram struct {
	counts []uint64 // per bucket, not cumulative
	// Count and Sum of the observations.
	Count uint64
	Sum   float64
}

func NewHistogram() Histogram {
	return Histogram{counts: make([]uint64, len(rttBuckets))}
}

func (h *Histogram) observe(d time.Duration) {
	v := d.Seconds()
	h.Count++
	h.Sum += v
	if i := sort.SearchFloat64s(rttBuckets, v); i < len(rttBuckets) {
		h.counts[i]++
	}
}

// cumulative returns bucket upper bound -> cumulative count, as
// prometheus.MustNewConstHistogram wants.
func (h *Histogram) Cumulative() map[float64]uint64 {
	out := make(map[float64]uint64, len(rttBuckets))
	var acc uint64
	for i, b := range rttBuckets {
		acc += h.counts[i]
		out[b] = acc
	}
	return out
}
