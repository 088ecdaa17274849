package collector

import (
	"sort"
	"time"
)

// rttBuckets span a loopback round trip (~50 µs) to a Redis stalled for
// seconds by a slow script or fork.
var rttBuckets = []float64{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5}

// rttHistogram accumulates probe round trips of one target; it is emitted
// as a const histogram, since the collector builds metrics per scrape.
type rttHistogram struct {
	counts []uint64 // per bucket, not cumulative
	count  uint64
	sum    float64
}

func newRTTHistogram() rttHistogram {
	return rttHistogram{counts: make([]uint64, len(rttBuckets))}
}

func (h *rttHistogram) observe(d time.Duration) {
	v := d.Seconds()
	h.count++
	h.sum += v
	if i := sort.SearchFloat64s(rttBuckets, v); i < len(rttBuckets) {
		h.counts[i]++
	}
}

// cumulative returns bucket upper bound -> cumulative count, as
// prometheus.MustNewConstHistogram wants.
func (h *rttHistogram) cumulative() map[float64]uint64 {
	out := make(map[float64]uint64, len(rttBuckets))
	var acc uint64
	for i, b := range rttBuckets {
		acc += h.counts[i]
		out[b] = acc
	}
	return out
}
