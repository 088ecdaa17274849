package engine

import (
	"strings"
	"time"

	"github.com/redis-autoscaler/redis-autoscaler/exporter/redisinfo"
)

// minRateWindow is the shortest interval a rate is computed over; two
// scrapes closer than this (two Prometheus servers, a retry) reuse the last
// value rather than divide a handful of commands by a few milliseconds.
const minRateWindow = time.Second

// commandsPerScrape is what the exporter itself adds to
// total_commands_processed between two scrapes (its INFO), subtracted so the
// rate is the clients' load, not ours.
const commandsPerScrape = 1

// opsRate turns the commands-processed counter into ops/s between this
// exporter's scrapes.
type opsRate struct {
	valid    bool
	runID    string
	commands float64
	at       time.Time
	last     float64
}

// update returns the ops/s for a new sample. The first sample of a server
// (and the first after a restart or counter reset) uses Redis' own
// instantaneous_ops_per_sec, so the value is never negative or a spike.
func (r *opsRate) update(info *redisinfo.Info, at time.Time) (float64, bool) {
	commands, ok := info.Float("total_commands_processed")
	if !ok {
		return 0, false
	}
	runID := info.Fields["run_id"]
	instant, hasInstant := info.Float("instantaneous_ops_per_sec")
	if !r.valid || runID != r.runID || commands < r.commands {
		// A copy: INFO's strings share the reply, which must not stay
		// alive until the next scrape (about 10 KB per target).
		*r = opsRate{valid: true, runID: strings.Clone(runID), commands: commands, at: at, last: instant}
		return instant, hasInstant
	}
	dt := at.Sub(r.at)
	if dt < minRateWindow {
		return r.last, true
	}
	delta := commands - r.commands - commandsPerScrape
	if delta < 0 {
		delta = 0
	}
	r.last = delta / dt.Seconds()
	r.commands, r.at = commands, at
	return r.last, true
}
