package collector

import (
	"slices"
	"strings"

	"github.com/redis-autoscaler/redis-autoscaler/exporter/redisinfo"
)

// commandDescs are INFO commandstats', errorstats' and latencystats'
// families, keyed by names a server reports.
type commandDescs struct {
	commands, commandsDuration, commandsRejected, commandsFailed, errs *family
	commandLatency, latencyPercentiles                                 *family
}

func newCommandDescs(d familyMaker) (ds commandDescs) {
	ds.latencyPercentiles = d.family("latency_percentiles_usec", "Per-command latency percentiles from INFO latencystats in microseconds, as redis_exporter exports them (command_latency_seconds is the same in seconds).", "cmd")
	ds.commandLatency = d.family("command_latency_seconds", "Per-command latency from INFO latencystats (Redis >= 7): quantiles as Redis tracks them, sum and count from INFO commandstats.", "cmd")
	ds.commands = d.family("commands_total", "Total number of calls per command.", "cmd")
	ds.commandsDuration = d.family("commands_duration_seconds_total", "Total time spent per command in seconds.", "cmd")
	ds.commandsRejected = d.family("commands_rejected_calls_total", "Total number of rejected calls per command.", "cmd")
	ds.commandsFailed = d.family("commands_failed_calls_total", "Total number of failed calls per command.", "cmd")
	ds.errs = d.family("errors_total", "Total number of error replies per error prefix.", "err")
	return ds
}

// overflowLabel is where values beyond MaxLabelValues are summed.
const overflowLabel = "other"

// emitCommands exports per-command and per-error series. Both are keyed by
// names a server reports (module commands, error prefixes a Lua script
// chooses), so at most maxLabels distinct names are exported per family
// and target, the first in name order; the rest are summed into "other"
// (latency quantiles of the rest are left out: they do not add up).
func (rs *Results) emitCommands(e emitter, info *redisinfo.Info) {
	d := rs.descs
	limit := rs.opts.MaxLabelValues
	commands := sortedBy(info.Commands, func(c redisinfo.CommandStat) string { return c.Name })
	stats := make(map[string]redisinfo.CommandStat, len(commands))
	var other redisinfo.CommandStat
	for i, c := range commands {
		if limit > 0 && i >= limit {
			other.Calls += c.Calls
			other.Usec += c.Usec
			other.RejectedCalls += c.RejectedCalls
			other.FailedCalls += c.FailedCalls
			continue
		}
		stats[c.Name] = c
		rs.emitCommand(e, c.Name, c)
	}
	if limit > 0 && len(commands) > limit {
		rs.emitCommand(e, overflowLabel, other)
	}
	for _, l := range info.Latencies {
		c, ok := stats[l.Name]
		if !ok {
			continue // beyond the limit, or no commandstats line
		}
		q := make(map[float64]float64, len(l.Percentiles))
		for _, p := range l.Percentiles {
			q[p.Quantile] = p.Usec / 1e6
		}
		e.summary(d.commandLatency, uint64(c.Calls), c.Usec/1e6, q, l.Name)
		qUsec := make(map[float64]float64, len(l.Percentiles))
		for _, p := range l.Percentiles {
			qUsec[p.Quantile] = p.Usec
		}
		e.summary(d.latencyPercentiles, uint64(c.Calls), c.Usec, qUsec, l.Name)
	}
	errs := sortedBy(info.Errors, func(er redisinfo.ErrorStat) string { return er.Prefix })
	var otherErrs float64
	for i, er := range errs {
		if limit > 0 && i >= limit {
			otherErrs += er.Count
			continue
		}
		e.counter(d.errs, er.Count, er.Prefix)
	}
	if limit > 0 && len(errs) > limit {
		e.counter(d.errs, otherErrs, overflowLabel)
	}
}

func (rs *Results) emitCommand(e emitter, name string, c redisinfo.CommandStat) {
	d := rs.descs
	e.counter(d.commands, c.Calls, name)
	e.counter(d.commandsDuration, c.Usec/1e6, name)
	e.counter(d.commandsRejected, c.RejectedCalls, name)
	e.counter(d.commandsFailed, c.FailedCalls, name)
}

// sortedBy returns a copy of items sorted by key.
func sortedBy[T any](items []T, key func(T) string) []T {
	out := slices.Clone(items)
	slices.SortFunc(out, func(a, b T) int { return strings.Compare(key(a), key(b)) })
	return out
}
