package collector

import (
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

// channelSink turns samples into client_golang metrics (the Collector
// path: tests, embedding, formats other than text).
type channelSink struct{ ch chan<- prometheus.Metric }

func (cs channelSink) startTarget() {}

func (cs channelSink) add(s sample) bool {
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
