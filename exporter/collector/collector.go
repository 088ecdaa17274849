// Package collector turns the engine's scrapes (exporter/engine) into
// Prometheus metrics, redis_exporter-compatible where redis_exporter has
// the metric: as client_golang metrics (Collect) or written straight as
// text (WriteText).
package collector

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/singleflight"

	"github.com/redis-autoscaler/redis-autoscaler/exporter/engine"
	"github.com/redis-autoscaler/redis-autoscaler/exporter/target"
)

// Options tune a Collector.
type Options struct {
	// Namespace prefixes every metric name ("redis" gives redis_up).
	Namespace string
	// KubernetesLabels adds namespace and pod labels to every target metric.
	KubernetesLabels bool
	// Concurrency bounds how many targets are scraped at once.
	Concurrency int
	// Timeout bounds one target's scrape (dial and reply).
	Timeout time.Duration
	// Deadline bounds a whole scrape of all targets.
	Deadline time.Duration
	// SystemMetrics adds total_system_memory_bytes (redis_exporter's
	// --include-system-metrics).
	SystemMetrics bool
	// InstanceRoleLabel adds instance_role to every per-target metric.
	InstanceRoleLabel bool
	// SentinelPeerInfo exports sentinel_peer_info
	// (--include-sentinel-peer-info).
	SentinelPeerInfo bool
	// ClientPortLabel fills the port label of connected_client_info
	// (--export-client-port).
	ClientPortLabel bool
	// MaxLabelValues bounds the distinct cmd and err label values exported
	// per target and family (the rest are summed into "other"); 0: 1000.
	MaxLabelValues int
	Logger         *slog.Logger
}

// defaults fills unset options. The engine's options take the engine's
// defaults (engine.Options.Defaults, the one place they are written), so
// that Collect's deadline is the one the engine scrapes with.
func (o *Options) defaults() {
	if o.Namespace == "" {
		o.Namespace = "redis"
	}
	if o.MaxLabelValues <= 0 {
		o.MaxLabelValues = 1000
	}
	eo := o.engineOptions()
	eo.Defaults()
	o.Concurrency, o.Timeout, o.Deadline, o.Logger = eo.Concurrency, eo.Timeout, eo.Deadline, eo.Logger
}

// engineOptions are the options the collector passes on to its engine.
func (o *Options) engineOptions() engine.Options {
	return engine.Options{Concurrency: o.Concurrency, Timeout: o.Timeout, Deadline: o.Deadline, Logger: o.Logger}
}

// Collector turns the engine's scrapes into Prometheus metrics.
type Collector struct {
	eng   *engine.Engine
	opts  Options
	descs *descs

	// textFlight shares text scrapes among concurrent requests.
	textFlight singleflight.Group

	scrapes        prometheus.Counter
	scrapeDuration prometheus.Summary
	lastDuration   prometheus.Gauge
}

// New builds a collector over the targets returned by targets; pool keeps
// their connections (shared with /scrape requests when desired).
func New(targets func() []target.Target, pool *engine.Pool, opts Options) *Collector {
	opts.defaults()
	c := &Collector{
		opts:  opts,
		descs: newDescs(opts.Namespace, opts.KubernetesLabels, opts.InstanceRoleLabel),
		scrapes: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: opts.Namespace, Name: "exporter_scrapes_total",
			Help: "Scrapes of all targets started by this exporter (concurrent requests share one).",
		}),
		scrapeDuration: prometheus.NewSummary(prometheus.SummaryOpts{
			Namespace: opts.Namespace, Name: "exporter_scrape_duration_seconds",
			Help: "Duration of the exporter's scrapes (all targets of /metrics, or one /scrape target), as redis_exporter's.",
		}),
		lastDuration: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: opts.Namespace, Name: "exporter_last_scrape_duration_seconds",
			Help: "Duration of the exporter's last scrape, as redis_exporter's.",
		}),
	}
	eo := opts.engineOptions()
	eo.OnScrape = func(d time.Duration) {
		c.scrapes.Inc()
		c.scrapeDuration.Observe(d.Seconds())
		c.lastDuration.Set(d.Seconds())
	}
	c.eng = engine.New(targets, pool, eo)
	return c
}

// SelfMetrics are the collector's own metrics, for the exporter's registry.
func (c *Collector) SelfMetrics() []prometheus.Collector {
	return []prometheus.Collector{c.scrapes, c.scrapeDuration, c.lastDuration}
}

// HasTarget reports whether t is a configured or discovered target.
func (c *Collector) HasTarget(t target.Target) bool { return c.eng.HasTarget(t) }

// Results is one scrape ready to be emitted: a prometheus.Collector, and
// WriteText for the HTTP handler.
type Results struct {
	Results []*engine.Result
	descs   *descs
	kube    bool
	opts    *Options
}

func (c *Collector) results(r *engine.Results) *Results {
	return &Results{Results: r.Results, descs: c.descs, kube: c.opts.KubernetesLabels, opts: &c.opts}
}

// Scrape scrapes every current target once (concurrent callers share one
// scrape).
func (c *Collector) Scrape(ctx context.Context) *Results {
	return c.results(c.eng.Scrape(ctx))
}

// ScrapeOne scrapes a single target through pool (/scrape?target=).
func (c *Collector) ScrapeOne(ctx context.Context, pool *engine.Pool, t target.Target) *Results {
	return c.results(c.eng.ScrapeOne(ctx, pool, t))
}

// ScrapeText scrapes every current target once, rendering each as text
// as soon as it is scraped and letting its Sample go (see Text);
// concurrent callers share one scrape. The exporter's HTTP handler serves
// text this way.
func (c *Collector) ScrapeText(ctx context.Context) *Text {
	v, _, _ := c.textFlight.Do("all", func() (any, error) {
		return c.render(func(each func(int, *engine.Result)) []*engine.Result { return c.eng.ScrapeEach(ctx, each) }), nil
	})
	return v.(*Text)
}

// ScrapeOneText is ScrapeText for one target through pool
// (/scrape?target=).
func (c *Collector) ScrapeOneText(ctx context.Context, pool *engine.Pool, t target.Target) *Text {
	v, _, _ := c.textFlight.Do("one|"+t.String()+"|"+t.Namespace+"/"+t.Pod, func() (any, error) {
		return c.render(func(each func(int, *engine.Result)) []*engine.Result { return c.eng.ScrapeOneEach(ctx, pool, t, each) }), nil
	})
	return v.(*Text)
}

// render runs scrape, rendering each result in its scraping worker, then
// the replicas' lag once it is known.
func (c *Collector) render(scrape func(each func(int, *engine.Result)) []*engine.Result) *Text {
	rs := c.results(&engine.Results{})
	scratch := sync.Pool{New: func() any { return &textSink{seriesSet: seriesSet{base: rs.baseLabels()}} }}
	var mu sync.Mutex
	parts := map[int]*targetText{}
	results := scrape(func(i int, r *engine.Result) {
		ts := scratch.Get().(*textSink)
		tt := rs.renderTarget(r, ts)
		scratch.Put(ts)
		r.Sample = nil
		mu.Lock()
		parts[i] = tt
		mu.Unlock()
	})
	t := &Text{targets: make([]*targetText, len(results))}
	ts := &textSink{seriesSet: seriesSet{base: rs.baseLabels()}}
	for i, r := range results {
		t.targets[i] = parts[i]
		if r.Lag != nil {
			rs.renderLag(t.targets[i], r, ts)
		}
	}
	return t
}

// Describe sends nothing: the metric set depends on what each Redis
// reports, so this is an unchecked collector.
func (c *Collector) Describe(chan<- *prometheus.Desc) {}

// Collect scrapes with the configured deadline and emits the metrics; it
// lets a Collector be registered directly (tests, embedding).
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), c.opts.Deadline)
	defer cancel()
	c.Scrape(ctx).Collect(ch)
}

// Deadline is the configured whole-scrape deadline.
func (c *Collector) Deadline() time.Duration { return c.opts.Deadline }
