package collector

import (
	"slices"

	"github.com/redis-autoscaler/redis-autoscaler/exporter/engine"
)

// latencyDescs are LATENCY HISTOGRAM's family
// (--include-latency-histogram-metrics).
type latencyDescs struct {
	latencyHistogram *family
}

func newLatencyDescs(d familyMaker) (ds latencyDescs) {
	ds.latencyHistogram = d.family("commands_latencies_usec", "Per-command latency histogram from LATENCY HISTOGRAM, in microseconds (Redis >= 7; with --include-latency-histogram-metrics).", "cmd")
	return ds
}

// emitLatencyHistograms exports LATENCY HISTOGRAM per command, at most
// MaxLabelValues commands, with INFO commandstats' time as the sum.
func (rs *Results) emitLatencyHistograms(e emitter, r *engine.Result) {
	d := rs.descs
	if len(r.Sample.LatencyHistograms) == 0 {
		return
	}
	usec := make(map[string]float64, len(r.Sample.Info.Commands))
	for _, c := range r.Sample.Info.Commands {
		usec[c.Name] = c.Usec
	}
	names := make([]string, 0, len(r.Sample.LatencyHistograms))
	for name := range r.Sample.LatencyHistograms {
		names = append(names, name)
	}
	slices.Sort(names)
	for i, name := range names {
		if rs.opts.MaxLabelValues > 0 && i >= rs.opts.MaxLabelValues {
			break // histograms of the rest do not add up into "other"
		}
		h := r.Sample.LatencyHistograms[name]
		e.histogram(d.latencyHistogram, h.Calls, usec[name], h.Buckets, name)
	}
}
