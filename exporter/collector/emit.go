package collector

import (
	"strings"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/redis-autoscaler/redis-autoscaler/exporter/engine"
)

// Describe sends nothing: see Collector.Describe.
func (rs *Results) Describe(chan<- *prometheus.Desc) {}

// Collect emits every target's metrics as client_golang metrics (the
// exporter's HTTP handler writes text with WriteText instead). A metric
// that cannot be built is left out and counted in
// redis_exporter_dropped_metrics; it never costs the rest of the scrape.
func (rs *Results) Collect(ch chan<- prometheus.Metric) {
	rs.emitAll(&channelSink{seriesSet: seriesSet{base: rs.baseLabels()}, ch: ch})
}

// emitAll emits every target's samples into out.
func (rs *Results) emitAll(out sink) {
	for _, r := range rs.Results {
		out.startTarget()
		rs.emitTarget(out, r, rs.targetLabels(r))
	}
}

// emitTarget emits r's samples with the target's labels, then how many
// could not be built.
func (rs *Results) emitTarget(out sink, r *engine.Result, labels []string) {
	dropped := 0
	e := emitter{out: out, labels: labels, dropped: &dropped}
	rs.emit(e, r)
	e.gauge(rs.descs.dropped, float64(dropped))
}

// baseLabels is how many label values every per-target series starts with.
func (rs *Results) baseLabels() int {
	n := 1
	if rs.kube {
		n += 2
	}
	if rs.opts.InstanceRoleLabel {
		n++
	}
	return n
}

func (rs *Results) targetLabels(r *engine.Result) []string {
	l := []string{r.Target.String()}
	if rs.kube {
		l = append(l, r.Target.Namespace, r.Target.Pod)
	}
	if rs.opts.InstanceRoleLabel {
		role := ""
		if r.Sample != nil {
			role = r.Sample.Info.Role()
		}
		l = append(l, role)
	}
	for i, v := range l {
		l[i] = labelValue(v)
	}
	return l
}

// emitter sends samples with the target's labels first.
type emitter struct {
	out    sink
	labels []string
	// dropped counts metrics that could not be built; they are left out,
	// never allowed to abort the collection (client_golang would lose
	// every metric after a panic, other targets' included).
	dropped *int
}

func (e emitter) with(extra []string) []string {
	out := make([]string, 0, len(e.labels)+len(extra))
	out = append(out, e.labels...)
	for _, v := range extra {
		out = append(out, labelValue(v))
	}
	return out
}

// labelValue makes text from Redis (error prefixes from Lua scripts,
// master_host, client and command names) a valid label value: invalid
// UTF-8 bytes become U+FFFD.
func labelValue(v string) string {
	if utf8.ValidString(v) {
		return v
	}
	return strings.ToValidUTF8(v, "\uFFFD")
}

func (e emitter) send(s sample) {
	if !e.out.add(s) {
		*e.dropped++
	}
}

func (e emitter) gauge(f *family, v float64, extra ...string) {
	e.send(sample{fam: f, kind: kindGauge, labels: e.with(extra), value: v})
}

func (e emitter) counter(f *family, v float64, extra ...string) {
	e.send(sample{fam: f, kind: kindCounter, labels: e.with(extra), value: v})
}

func (e emitter) histogram(f *family, count uint64, sum float64, buckets map[float64]uint64, extra ...string) {
	e.send(sample{fam: f, kind: kindHistogram, labels: e.with(extra), dist: &distribution{count: count, sum: sum, buckets: buckets}})
}

func (e emitter) summary(f *family, count uint64, sum float64, quantiles map[float64]float64, extra ...string) {
	e.send(sample{fam: f, kind: kindSummary, labels: e.with(extra), dist: &distribution{count: count, sum: sum, quantiles: quantiles}})
}

func (rs *Results) emit(e emitter, r *engine.Result) {
	d := rs.descs
	e.gauge(d.scrapeDuration, r.Duration.Seconds())
	e.gauge(d.connectTime, r.ConnectTime.Seconds())
	if r.RTT.Count > 0 {
		e.histogram(d.probeRTT, r.RTT.Count, r.RTT.Sum, r.RTT.Cumulative())
	}
	if r.Err != nil {
		e.gauge(d.up, 0)
		e.gauge(d.lastError, 1, r.Err.Error())
		return
	}
	e.gauge(d.up, 1)
	e.gauge(d.lastError, 0, "")
	info := r.Sample.Info
	rs.emitFields(e, info)
	rs.emitServer(e, r, info)
	rs.emitReplication(e, r, info)
	rs.emitLag(e, r)
	rs.emitCommands(e, info)
	rs.emitKeyspace(e, info, r.Sample.Databases)
	if info.Fields["redis_mode"] == "sentinel" {
		rs.emitSentinel(e, info.Fields)
		rs.emitSentinelMasters(e, r.Sample.SentinelMasters)
	}
	rs.emitExtras(e, r)
}

func boolFloat(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
