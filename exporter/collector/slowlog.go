package collector

import "github.com/redis-autoscaler/redis-autoscaler/exporter/engine"

// slowlogDescs are SLOWLOG's families (--include-slowlog-metrics).
type slowlogDescs struct {
	slowlogLength, slowlogLastID, lastSlowDuration *family
}

func newSlowlogDescs(d familyMaker) (ds slowlogDescs) {
	ds.slowlogLength = d.family("slowlog_length", "Entries in the slow log (SLOWLOG LEN; with --include-slowlog-metrics).")
	ds.slowlogLastID = d.family("slowlog_last_id", "ID of the newest slow log entry (with --include-slowlog-metrics).")
	ds.lastSlowDuration = d.family("last_slow_execution_duration_seconds", "Execution time of the newest slow log entry (with --include-slowlog-metrics).")
	return ds
}

// emitSlowlog exports SLOWLOG LEN and the newest entry of SLOWLOG GET.
func (rs *Results) emitSlowlog(e emitter, r *engine.Result) {
	d := rs.descs
	if sl := r.Sample.Slowlog; sl != nil {
		e.gauge(d.slowlogLength, sl.Length)
		e.gauge(d.slowlogLastID, sl.LastID)
		e.gauge(d.lastSlowDuration, sl.LastDurationSeconds)
	}
}
