package collector

import (
	"bufio"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
)

// textSink keeps samples for WriteText, refusing a second series with the
// same family and label values (which would make the exposition invalid).
// Only one target's series can collide, so the check is per target, and
// only for series with labels beyond the target's (a field's series is
// once per target by construction).
type textSink struct {
	samples []sample
	base    int // label values every series starts with (the target's)
	seen    map[seenKey]struct{}
}

type seenKey struct {
	fam    *family
	labels string
}

func (ts *textSink) startTarget() { clear(ts.seen) }

func (ts *textSink) add(s sample) bool {
	if len(s.labels) != len(s.fam.labels) {
		return false
	}
	if len(s.labels) > ts.base {
		if ts.seen == nil {
			ts.seen = map[seenKey]struct{}{}
		}
		k := seenKey{s.fam, strings.Join(s.labels[ts.base:], "\xff")}
		if _, dup := ts.seen[k]; dup {
			return false
		}
		ts.seen[k] = struct{}{}
	}
	ts.samples = append(ts.samples, s)
	return true
}

// WriteText writes every target's metrics in the Prometheus text format
// (version 0.0.4) straight from the scrape, without building client_golang
// metrics: a 200-target scrape is about 60,000 series, and the metric
// objects, their consistency checks and the protobuf conversion were most
// of the exporter's garbage. Families are sorted by name, series keep the
// targets' order.
func (rs *Results) WriteText(w io.Writer) error {
	ts := &textSink{base: rs.baseLabels(), samples: make([]sample, 0, 320*len(rs.Results))}
	rs.emitAll(ts)
	slices.SortStableFunc(ts.samples, func(a, b sample) int { return strings.Compare(a.fam.name, b.fam.name) })
	bw := bufio.NewWriterSize(w, 64<<10)
	var last *family
	var line []byte
	for i := range ts.samples {
		s := &ts.samples[i]
		if s.fam != last {
			last = s.fam
			line = append(line[:0], "# HELP "...)
			line = append(line, s.fam.name...)
			line = append(line, ' ')
			line = appendEscaped(line, s.fam.help, false)
			line = append(line, "\n# TYPE "...)
			line = append(line, s.fam.name...)
			line = append(line, ' ')
			line = append(line, s.kind.String()...)
			line = append(line, '\n')
			if _, err := bw.Write(line); err != nil {
				return err
			}
		}
		line = appendSample(line[:0], s)
		if _, err := bw.Write(line); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// appendSample writes one series' lines.
func appendSample(b []byte, s *sample) []byte {
	f := s.fam
	switch s.kind {
	case kindGauge, kindCounter:
		return appendLine(b, f.name, "", f.labels, s.labels, "", "", s.value)
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
			b = appendLine(b, f.name, "_bucket", f.labels, s.labels, "le", formatFloat(ub), float64(s.dist.buckets[ub]))
		}
		b = appendLine(b, f.name, "_bucket", f.labels, s.labels, "le", "+Inf", float64(s.dist.count))
	case kindSummary:
		qs := make([]float64, 0, len(s.dist.quantiles))
		for q := range s.dist.quantiles {
			qs = append(qs, q)
		}
		slices.Sort(qs)
		for _, q := range qs {
			b = appendLine(b, f.name, "", f.labels, s.labels, "quantile", formatFloat(q), s.dist.quantiles[q])
		}
	}
	b = appendLine(b, f.name, "_sum", f.labels, s.labels, "", "", s.dist.sum)
	return appendLine(b, f.name, "_count", f.labels, s.labels, "", "", float64(s.dist.count))
}

func appendLine(b []byte, name, suffix string, names, values []string, extraName, extraValue string, v float64) []byte {
	b = append(b, name...)
	b = append(b, suffix...)
	if len(names) > 0 || extraName != "" {
		b = append(b, '{')
		for i, n := range names {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, n...)
			b = append(b, '=', '"')
			b = appendEscaped(b, values[i], true)
			b = append(b, '"')
		}
		if extraName != "" {
			if len(names) > 0 {
				b = append(b, ',')
			}
			b = append(b, extraName...)
			b = append(b, '=', '"')
			b = append(b, extraValue...)
			b = append(b, '"')
		}
		b = append(b, '}')
	}
	b = append(b, ' ')
	b = append(b, formatFloat(v)...)
	return append(b, '\n')
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
