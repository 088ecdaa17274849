package collector

import (
	"strings"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

// kind is a metric family's type.
type kind uint8

const (
	kindGauge kind = iota
	kindCounter
	kindHistogram
	kindSummary
)

func (k kind) String() string {
	return [...]string{"gauge", "counter", "histogram", "summary"}[k]
}

// family is a metric family of the per-target output: its name, help and
// label names. The text path writes it directly; the prometheus.Collector
// path builds a prometheus.Desc once, when first needed.
type family struct {
	name, help string
	labels     []string

	once sync.Once
	desc *prometheus.Desc
}

func newFamily(name, help string, labels []string) *family {
	return &family{name: name, help: help, labels: labels}
}

func (f *family) promDesc() *prometheus.Desc {
	f.once.Do(func() { f.desc = prometheus.NewDesc(f.name, f.help, f.labels, nil) })
	return f.desc
}

// sample is one series of a family in one scrape. Kept small: a
// 1,000-target scrape holds ~300,000 of them.
type sample struct {
	fam    *family
	labels []string // values, in fam.labels order
	value  float64
	dist   *distribution // histograms and summaries
	kind   kind
}

// distribution is a histogram's or a summary's data.
type distribution struct {
	count     uint64
	sum       float64
	buckets   map[float64]uint64  // upper bound -> cumulative count
	quantiles map[float64]float64 // quantile -> value
}

// sink receives samples in target order; startTarget marks where one
// target's samples begin (series of two targets never collide: their
// target labels differ).

// add returns false when a sample cannot be used (the emitter counts it
// as dropped).
type sink interface {
	startTarget()
	add(s sample) bool
}

// seriesSet refuses a second series with the same family and label
// values, which would make the whole exposition invalid: two different
// texts from Redis can become one label value once made valid UTF-8
// (both "\xff\xfeX" and "\xfeX" become "\uFFFDX"). Only one target's series
// can collide, so the check is per target, and only for series with
// labels beyond the target's (a field's series is once per target by
// construction).
type seriesSet struct {
	base int // label values every series starts with (the target's)
	seen map[seenKey]struct{}
}

type seenKey struct {
	fam    *family
	labels string
}

func (ss *seriesSet) startTarget() { clear(ss.seen) }

// first reports whether s is well-formed and the first of its series.
func (ss *seriesSet) first(s sample) bool {
	if len(s.labels) != len(s.fam.labels) {
		return false
	}
	if len(s.labels) > ss.base {
		if ss.seen == nil {
			ss.seen = map[seenKey]struct{}{}
		}
		k := seenKey{s.fam, strings.Join(s.labels[ss.base:], "\xff")}
		if _, dup := ss.seen[k]; dup {
			return false
		}
		ss.seen[k] = struct{}{}
	}
	return true
}

// channelSink turns samples into client_golang metrics (the Collector
// path: tests, embedding, formats other than text).
type channelSink struct {
	seriesSet
	ch chan<- prometheus.Metric
}

func (cs *channelSink) add(s sample) bool {
	if !cs.first(s) {
		return false
	}
	var m prometheus.Metric
	var err error
	d := s.fam.promDesc()
	switch s.kind {
	case kindGauge:
		m, err = prometheus.NewConstMetric(d, prometheus.GaugeValue, s.value, s.labels...)
	case kindCounter:
		m, err = prometheus.NewConstMetric(d, prometheus.CounterValue, s.value, s.labels...)
	case kindHistogram:
		m, err = prometheus.NewConstHistogram(d, s.dist.count, s.dist.sum, s.dist.buckets, s.labels...)
	case kindSummary:
		m, err = prometheus.NewConstSummary(d, s.dist.count, s.dist.sum, s.dist.quantiles, s.labels...)
	}
	if err != nil {
		return false
	}
	cs.ch <- m
	return true
}
