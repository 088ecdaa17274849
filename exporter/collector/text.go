package collector

import (
	"encoding/binary"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/redis-autoscaler/redis-autoscaler/exporter/engine"
)

// textSink keeps one target's samples while it is rendered.
type textSink struct {
	seriesSet
	samples []sample
	line    []byte
}

func (ts *textSink) startTarget() {
	ts.seriesSet.startTarget()
	ts.samples = ts.samples[:0]
}

func (ts *textSink) add(s sample) bool {
	if !ts.first(s) {
		return false
	}
	ts.samples = append(ts.samples, s)
	return true
}

// Text is a scrape's per-target metrics rendered as text lines, each
// target's grouped by family, written out family by family by Write.
// Rendering a target as soon as it is scraped lets its Sample (the INFO
// reply and its parse, twice the size of the text) go at once: a
// 1,000-target scrape holds about 15 MB of text instead of the replies,
// their parses and 300,000 samples.
type Text struct {
	targets []*targetText
}

// targetText is one target's lines: buf holds them in the compact form
// of appendSample, segs say where each family's are, in family name
// order. The target's labels, a third of a line's bytes and the same on
// all of them, are kept once (targetLabels) and written into every line
// by Write.
type targetText struct {
	labels       []string // the target's label values, for lines added later
	targetLabels []byte   // addr="...",... as written
	buf          []byte
	segs         []segment
}

type segment struct {
	fam        *family
	start, end int32
	kind       kind
}

// renderTarget renders r's samples with ts as scratch.
func (rs *Results) renderTarget(r *engine.Result, ts *textSink) *targetText {
	ts.startTarget()
	labels := rs.targetLabels(r)
	rs.emitTarget(ts, r, labels)
	tt := &targetText{labels: labels}
	for i, v := range labels {
		if i > 0 {
			tt.targetLabels = append(tt.targetLabels, ',')
		}
		tt.targetLabels = appendLabel(tt.targetLabels, rs.descs.dropped.labels[i], v)
	}
	tt.add(ts)
	return tt
}

// renderLag adds r's replication lag, known only once every target is
// scraped (see engine.ScrapeEach).
func (rs *Results) renderLag(tt *targetText, r *engine.Result, ts *textSink) {
	ts.startTarget()
	dropped := 0
	rs.emitLag(emitter{out: ts, labels: tt.labels, dropped: &dropped}, r)
	tt.add(ts)
}

// add renders ts' samples into t, family by family.
func (tt *targetText) add(ts *textSink) {
	if len(ts.samples) == 0 {
		return
	}
	slices.SortStableFunc(ts.samples, func(a, b sample) int { return strings.Compare(a.fam.name, b.fam.name) })
	line := ts.line[:0]
	for i := range ts.samples {
		s := &ts.samples[i]
		if i == 0 || s.fam != ts.samples[i-1].fam {
			tt.segs = append(tt.segs, segment{fam: s.fam, kind: s.kind, start: int32(len(tt.buf) + len(line))})
		}
		line = appendSample(line, s, ts.base)
		tt.segs[len(tt.segs)-1].end = int32(len(tt.buf) + len(line))
	}
	// An exact-size copy: the scratch is reused, the copy is kept.
	tt.buf = append(slices.Clip(tt.buf), line...)
	ts.line = line
	ts.samples = ts.samples[:0]
	slices.SortStableFunc(tt.segs, func(a, b segment) int { return strings.Compare(a.fam.name, b.fam.name) })
}

// Write writes every family once, sorted by name, with the series of
// each target in target order, in the Prometheus text format (0.0.4).
func (t *Text) Write(w io.Writer) error {
	var fams []*family
	seen := map[*family]bool{}
	for _, tt := range t.targets {
		for _, sg := range tt.segs {
			if !seen[sg.fam] {
				seen[sg.fam] = true
				fams = append(fams, sg.fam)
			}
		}
	}
	slices.SortStableFunc(fams, func(a, b *family) int { return strings.Compare(a.name, b.name) })
	out := writeBuffers.get()
	defer writeBuffers.put(out)
	next := make([]int, len(t.targets)) // each target's next segment
	for _, f := range fams {
		first := true
		for i, tt := range t.targets {
			if next[i] >= len(tt.segs) || tt.segs[next[i]].fam != f {
				continue
			}
			sg := tt.segs[next[i]]
			next[i]++
			if first {
				first = false
				*out = appendHeader(*out, f, sg.kind)
			}
			*out = appendLines(*out, f.name, tt.targetLabels, tt.buf[sg.start:sg.end])
			if len(*out) >= writeChunk {
				if _, err := w.Write(*out); err != nil {
					return err
				}
				*out = (*out)[:0]
			}
		}
	}
	_, err := w.Write(*out)
	return err
}

// writeChunk is how much text Write gathers before writing it out.
const writeChunk = 16 << 10

// writeBuffers keeps a few chunk buffers between requests (a free list:
// a sync.Pool is emptied by every garbage collection, which a small
// exporter runs every few scrapes).
var writeBuffers = bufferList{free: make(chan *[]byte, 4)}

type bufferList struct{ free chan *[]byte }

func (l bufferList) get() *[]byte {
	select {
	case b := <-l.free:
		return b
	default:
		b := make([]byte, 0, writeChunk+4096)
		return &b
	}
}

func (l bufferList) put(b *[]byte) {
	if cap(*b) > 4*writeChunk {
		return // grown by a huge line: let it go
	}
	*b = (*b)[:0]
	select {
	case l.free <- b:
	default:
	}
}

func appendHeader(b []byte, f *family, k kind) []byte {
	b = append(b, "# HELP "...)
	b = append(b, f.name...)
	b = append(b, ' ')
	b = appendEscaped(b, f.help, false)
	b = append(b, "\n# TYPE "...)
	b = append(b, f.name...)
	b = append(b, ' ')
	b = append(b, k.String()...)
	return append(b, '\n')
}

// WriteText writes every target's metrics in the Prometheus text format
// (version 0.0.4) straight from the scrape, without building client_golang
// metrics: a 200-target scrape is about 60,000 series, and the metric
// objects, their consistency checks and the protobuf conversion were most
// of the exporter's garbage. Families are sorted by name, series keep the
// targets' order. (The exporter's handler renders while it scrapes
// instead: Collector.ScrapeText.)
func (rs *Results) WriteText(w io.Writer) error {
	ts := &textSink{seriesSet: seriesSet{base: rs.baseLabels()}}
	t := &Text{targets: make([]*targetText, len(rs.Results))}
	for i, r := range rs.Results {
		t.targets[i] = rs.renderTarget(r, ts)
	}
	return t.Write(w)
}

// Line suffixes of the compact form.
const (
	suffixNone byte = iota
	suffixBucket
	suffixSum
	suffixCount
)

var suffixes = [...]string{"", "_bucket", "_sum", "_count"}

// appendSample appends one series' lines in compact form, without the
// family name and the target's labels (the first base label values):
// per line a suffix byte, the other labels as written (name="value",...)
// after their length (4 bytes, little-endian), and the value after its
// length (1 byte).
func appendSample(b []byte, s *sample, base int) []byte {
	f := s.fam
	names, values := f.labels[base:], s.labels[base:]
	switch s.kind {
	case kindGauge, kindCounter:
		return appendCompact(b, suffixNone, names, values, "", "", s.value)
	case kindHistogram:
		bounds := make([]float64, 0, len(s.dist.buckets))
		for ub := range s.dist.buckets {
			bounds = append(bounds, ub)
		}
		slices.Sort(bounds)
		for _, ub := range bounds {
			if math.IsInf(ub, 1) {
				continue
			}
			b = appendCompact(b, suffixBucket, names, values, "le", formatFloat(ub), float64(s.dist.buckets[ub]))
		}
		b = appendCompact(b, suffixBucket, names, values, "le", "+Inf", float64(s.dist.count))
	case kindSummary:
		qs := make([]float64, 0, len(s.dist.quantiles))
		for q := range s.dist.quantiles {
			qs = append(qs, q)
		}
		slices.Sort(qs)
		for _, q := range qs {
			b = appendCompact(b, suffixNone, names, values, "quantile", formatFloat(q), s.dist.quantiles[q])
		}
	}
	b = appendCompact(b, suffixSum, names, values, "", "", s.dist.sum)
	return appendCompact(b, suffixCount, names, values, "", "", float64(s.dist.count))
}

func appendCompact(b []byte, suffix byte, names, values []string, extraName, extraValue string, v float64) []byte {
	b = append(b, suffix, 0, 0, 0, 0) // the labels' length, set below
	at := len(b)
	for i, n := range names {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendLabel(b, n, values[i])
	}
	if extraName != "" {
		if len(b) > at {
			b = append(b, ',')
		}
		b = appendLabel(b, extraName, extraValue)
	}
	binary.LittleEndian.PutUint32(b[at-4:at], uint32(len(b)-at))
	b = append(b, 0) // the value's length, set below
	at = len(b)
	b = strconv.AppendFloat(b, v, 'g', -1, 64)
	if math.IsInf(v, 0) || math.IsNaN(v) {
		b = append(b[:at], formatFloat(v)...)
	}
	b[at-1] = byte(len(b) - at)
	return b
}

func appendLabel(b []byte, name, value string) []byte {
	b = append(b, name...)
	b = append(b, '=', '"')
	b = appendEscaped(b, value, true)
	return append(b, '"')
}

// appendLines appends compact lines of family name as text lines, with
// the target's labels first.
func appendLines(out []byte, name string, target, compact []byte) []byte {
	for len(compact) > 0 {
		suffix := compact[0]
		n := int(binary.LittleEndian.Uint32(compact[1:5]))
		labels := compact[5 : 5+n]
		compact = compact[5+n:]
		m := int(compact[0])
		value := compact[1 : 1+m]
		compact = compact[1+m:]
		out = append(out, name...)
		out = append(out, suffixes[suffix]...)
		if len(target) > 0 || len(labels) > 0 {
			out = append(out, '{')
			out = append(out, target...)
			if len(target) > 0 && len(labels) > 0 {
				out = append(out, ',')
			}
			out = append(out, labels...)
			out = append(out, '}')
		}
		out = append(out, ' ')
		out = append(out, value...)
		out = append(out, '\n')
	}
	return out
}

// appendEscaped escapes as the text format asks: backslash and newline
// everywhere, double quotes in label values.
func appendEscaped(b []byte, s string, quote bool) []byte {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\':
			b = append(b, '\\', '\\')
		case c == '\n':
			b = append(b, '\\', 'n')
		case c == '"' && quote:
			b = append(b, '\\', '"')
		default:
			b = append(b, c)
		}
	}
	return b
}

func formatFloat(v float64) string {
	switch {
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	case math.IsNaN(v):
		return "NaN"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}
