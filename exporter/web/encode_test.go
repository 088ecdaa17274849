package web

import (
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestAcceptsGzip(t *testing.T) {
	for header, want := range map[string]bool{
		"":                    false,
		"gzip":                true,
		"deflate, gzip;q=1.0": true,
		"identity":            false,
		"xgzip":               false,
	} {
		r := httptest.NewRequest(http.MethodGet, "/metrics", nil)
		r.Header.Set("Accept-Encoding", header)
		assert.Equal(t, want, acceptsGzip(r), header)
	}
}

func TestWriteMetricsGzipAndPlain(t *testing.T) {
	reg := prometheus.NewRegistry()
	g := prometheus.NewGauge(prometheus.GaugeOpts{Name: "test_gauge", Help: "h"})
	g.Set(42)
	reg.MustRegister(g)
	for _, gz := range []bool{false, true, true} { // twice: a pooled writer is reused
		r := httptest.NewRequest(http.MethodGet, "/metrics", nil)
		if gz {
			r.Header.Set("Accept-Encoding", "gzip")
		}
		w := httptest.NewRecorder()
		require.NoError(t, writeMetrics(w, r, reg))
		var body io.Reader = w.Body
		if gz {
			assert.Equal(t, "gzip", w.Header().Get("Content-Encoding"))
			zr, err := gzip.NewReader(w.Body)
			require.NoError(t, err)
			body = zr
		}
		b, err := io.ReadAll(body)
		require.NoError(t, err)
		assert.Contains(t, string(b), "test_gauge 42")
		assert.Contains(t, w.Header().Get("Content-Type"), "text/plain")
	}
}
