// Package web serves the exporter over HTTP: /metrics for the configured
// targets, /scrape?target= for Prometheus multi-target setups, /healthz and
// a landing page. Listening (TLS, basic auth) is exporter-toolkit's.
package web

import (
	"context"
	"log/slog"
	"net/http"
	"regexp"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/exporter-toolkit/web"

	"github.com/redis-autoscaler/redis-autoscaler/exporter/collector"
	"github.com/redis-autoscaler/redis-autoscaler/exporter/engine"
	"github.com/redis-autoscaler/redis-autoscaler/exporter/target"
)

// Config wires the handlers.
type Config struct {
	Collector   *collector.Collector
	ScrapePool  *engine.Pool       // connections of /scrape targets
	Credentials target.Credentials // applied to /scrape targets the operator named
	// AllowedTargets, when set, is the only /scrape targets accepted (a
	// full match of the target as redis://host:port); they count as named.
	AllowedTargets *regexp.Regexp
	// DisableScrape serves no /scrape endpoint.
	DisableScrape bool
	// Cluster serves /discover-cluster-nodes (nil: answered with 400)
	// through ClusterPool, the pool of the --redis.addr targets.
	Cluster     *ClusterDiscovery
	ClusterPool *engine.Pool
	// ScrapeErrors counts /scrape requests refused (no or a bad target,
	// not allowed), as redis_exporter's target_scrape_request_errors_total.
	ScrapeErrors prometheus.Counter
	// Self is the exporter's own registry (Go, process, scrape counters).
	Self          prometheus.Gatherer
	MetricsPath   string
	Logger        *slog.Logger
	Version       string
	ScrapeTimeout time.Duration
}

// NewHandler returns the exporter's HTTP handler.
func NewHandler(cfg Config) (http.Handler, error) {
	if cfg.MetricsPath == "" {
		cfg.MetricsPath = "/metrics"
	}
	mux := http.NewServeMux()
	mux.HandleFunc(cfg.MetricsPath, cfg.metrics)
	if !cfg.DisableScrape {
		mux.HandleFunc("/scrape", cfg.scrape)
	}
	mux.HandleFunc("/discover-cluster-nodes", cfg.discoverClusterNodes)
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte("ok\n"))
	})
	landing, err := web.NewLandingPage(web.LandingConfig{
		Name:        "redis-autoscaler exporter",
		Description: "Prometheus exporter for Redis: one connection and one INFO per target per scrape.",
		Version:     cfg.Version,
		Links: []web.LandingLinks{
			{Address: cfg.MetricsPath, Text: "Metrics"},
			{Address: "/scrape?target=redis://localhost:6379", Text: "Scrape one target"},
			{Address: "/healthz", Text: "Health"},
		},
	})
	if err != nil {
		return nil, err
	}
	mux.Handle("/", landing)
	return mux, nil
}

// metrics scrapes every configured target; concurrent requests share one
// scrape (see collector.Scrape).
func (cfg Config) metrics(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := cfg.requestContext(r)
	defer cancel()
	if acceptsText(r) {
		cfg.serveText(w, r, cfg.Collector.ScrapeText(ctx), cfg.Self)
		return
	}
	cfg.serve(w, r, cfg.Collector.Scrape(ctx), cfg.Self)
}

// scrape serves one target named in the query, as redis_exporter's /scrape
// does, but over a connection kept between requests.
func (cfg Config) scrape(w http.ResponseWriter, r *http.Request) {
	raw := r.URL.Query().Get("target")
	if raw == "" {
		cfg.refused()
		http.Error(w, "missing target parameter", http.StatusBadRequest)
		return
	}
	t, err := target.Parse(raw)
	if err != nil {
		cfg.refused()
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	allowed := cfg.AllowedTargets != nil && cfg.AllowedTargets.MatchString(t.String())
	if cfg.AllowedTargets != nil && !allowed {
		cfg.refused()
		http.Error(w, "target "+t.String()+" is not allowed by --scrape.allowed-targets", http.StatusForbidden)
		return
	}
	// The global password goes only to targets the operator named: a
	// configured or discovered target, or one the allow-list admits.
	// Anyone else gets only what the per-target password map holds.
	if allowed || cfg.Collector.HasTarget(t) {
		t = cfg.Credentials.Apply(t)
	} else {
		t = cfg.Credentials.ApplyPerTarget(t)
	}
	ctx, cancel := cfg.requestContext(r)
	defer cancel()
	if acceptsText(r) {
		cfg.serveText(w, r, cfg.Collector.ScrapeOneText(ctx, cfg.ScrapePool, t), nil)
		return
	}
	cfg.serve(w, r, cfg.Collector.ScrapeOne(ctx, cfg.ScrapePool, t), nil)
}

func (cfg Config) refused() {
	if cfg.ScrapeErrors != nil {
		cfg.ScrapeErrors.Inc()
	}
}

// serveText is the fast path: per-target metrics rendered as text while
// scraping, the exporter's own (few) through client_golang.
func (cfg Config) serveText(w http.ResponseWriter, r *http.Request, text *collector.Text, self prometheus.Gatherer) {
	if err := writeText(w, r, text, self); err != nil {
		cfg.Logger.Error("serving metrics", "err", err)
	}
}

// serve encodes through client_golang, for formats other than text.
func (cfg Config) serve(w http.ResponseWriter, r *http.Request, results *collector.Results, self prometheus.Gatherer) {
	reg := prometheus.NewRegistry()
	if err := reg.Register(results); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	gatherers := prometheus.Gatherers{reg}
	if self != nil {
		gatherers = append(gatherers, self)
	}
	if err := writeMetrics(w, r, gatherers); err != nil {
		cfg.Logger.Error("serving metrics", "err", err)
	}
}

// requestContext honours Prometheus' scrape timeout header, leaving a
// margin to write the response, so Prometheus gets partial results with
// redis_up 0 for slow targets rather than a timed-out scrape.
func (cfg Config) requestContext(r *http.Request) (context.Context, context.CancelFunc) {
	timeout := cfg.ScrapeTimeout
	if h := r.Header.Get("X-Prometheus-Scrape-Timeout-Seconds"); h != "" {
		if s, err := strconv.ParseFloat(h, 64); err == nil && s > 0 {
			d := time.Duration(s*float64(time.Second)) - 250*time.Millisecond
			if d > 0 && (timeout <= 0 || d < timeout) {
				timeout = d
			}
		}
	}
	if timeout <= 0 {
		return context.WithCancel(r.Context())
	}
	return context.WithTimeout(r.Context(), timeout)
}
