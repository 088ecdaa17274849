package web

import (
	"compress/gzip"
	"io"
	"net/http"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"

	"github.com/redis-autoscaler/redis-autoscaler/exporter/collector"
)

// gzipWriters are reused across requests: a new gzip writer allocates
// about 70 KB, more than the rest of a one-target scrape. A small free list
// rather than a sync.Pool, which the garbage collector empties: a
// one-target exporter collects every few scrapes, so the pool was mostly
// empty. promhttp pools them per handler, but our handler gathers
// request-scoped results, so the encoding is done here.
var gzipWriters = make(chan *gzip.Writer, 2)

func getGzip() *gzip.Writer {
	select {
	case w := <-gzipWriters:
		return w
	default:
		w, _ := gzip.NewWriterLevel(nil, gzip.BestSpeed)
		return w
	}
}

func putGzip(w *gzip.Writer) {
	select {
	case gzipWriters <- w:
	default:
	}
}

// writeMetrics encodes what g gathers in the format the client asked for,
// gzip-compressed when it accepts that. Metrics that failed to gather are
// logged by the caller; the rest are still served.
func writeMetrics(w http.ResponseWriter, r *http.Request, g prometheus.Gatherer) error {
	mfs, gatherErr := g.Gather()
	format := expfmt.NegotiateAccept(r.Header, expfmt.DefaultAcceptedFormats()...)
	w.Header().Set("Content-Type", string(format))
	out, done := compressed(w, r)
	defer done()
	enc := expfmt.NewEncoder(out, format)
	for _, mf := range mfs {
		if err := enc.Encode(mf); err != nil {
			return err
		}
	}
	if closer, ok := enc.(expfmt.Closer); ok {
		if err := closer.Close(); err != nil {
			return err
		}
	}
	return gatherErr
}

// compressed returns where to write the body: w, or a pooled gzip writer
// over it when the client accepts gzip; done flushes and returns it.
func compressed(w http.ResponseWriter, r *http.Request) (io.Writer, func()) {
	if !acceptsGzip(r) {
		return w, func() {}
	}
	gz := getGzip()
	gz.Reset(w)
	w.Header().Set("Content-Encoding", "gzip")
	return gz, func() {
		_ = gz.Close()
		gz.Reset(io.Discard) // drop the response writer
		putGzip(gz)
	}
}

func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		if enc, _, _ := strings.Cut(strings.TrimSpace(part), ";"); enc == "gzip" {
			return true
		}
	}
	return false
}

// acceptsText reports whether the client takes the text format (Prometheus
// always does; a missing Accept header means anything).
func acceptsText(r *http.Request) bool {
	accept := r.Header.Get("Accept")
	return accept == "" || strings.Contains(accept, "text/plain") || strings.Contains(accept, "*/*")
}

// writeText writes text, then what self gathers,
// as text/plain version 0.0.4, gzip-compressed when accepted.
func writeText(w http.ResponseWriter, r *http.Request, text *collector.Text, self prometheus.Gatherer) error {
	format := expfmt.NewFormat(expfmt.TypeTextPlain)
	w.Header().Set("Content-Type", string(format))
	out, done := compressed(w, r)
	defer done()
	if err := text.Write(out); err != nil {
		return err
	}
	if self == nil {
		return nil
	}
	mfs, gatherErr := self.Gather()
	enc := expfmt.NewEncoder(out, format)
	for _, mf := range mfs {
		if err := enc.Encode(mf); err != nil {
			return err
		}
	}
	return gatherErr
}
