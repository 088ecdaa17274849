// Package collector scrapes a set of Redis targets concurrently and turns
// the samples into Prometheus metrics, redis_exporter-compatible where
// redis_exporter has the metric.
package collector

import (
	"context"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/singleflight"

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
	// ClientPortLabel fills the port label of connected_client_info
	// (--export-client-port).
	ClientPortLabel bool
	// MaxLabelValues bounds the distinct cmd and err label values exported
	// per target and family (the rest are summed into "other"); 0: 1000.
	MaxLabelValues int
	Logger         *slog.Logger
}

func (o *Options) defaults() {
	if o.Namespace == "" {
		o.Namespace = "redis"
	}
	if o.Concurrency <= 0 {
		o.Concurrency = 64
	}
	if o.Timeout <= 0 {
		o.Timeout = 5 * time.Second
	}
	if o.Deadline <= 0 {
		o.Deadline = 10 * time.Second
	}
	if o.MaxLabelValues <= 0 {
		o.MaxLabelValues = 1000
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
}

// Collector scrapes the targets a source lists.
type Collector struct {
	opts    Options
	targets func() []target.Target
	pool    *Pool
	// aux holds connections to masters that are not targets themselves but
	// whose offset is needed for a replica's lag.
	aux   *Pool
	descs *descs

	inflight       singleflight.Group
	scrapes        prometheus.Counter
	scrapeDuration prometheus.Summary
}

// New builds a collector over the targets returned by targets; pool keeps
// their connections (shared with /scrape requests when desired).
func New(targets func() []target.Target, pool *Pool, opts Options) *Collector {
	opts.defaults()
	return &Collector{
		opts:    opts,
		targets: targets,
		pool:    pool,
		aux:     NewPool(pool.tlsConfig, opts.Timeout).WithLimit(auxLimit),
		descs:   newDescs(opts.Namespace, opts.KubernetesLabels, opts.InstanceRoleLabel),
		scrapes: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: opts.Namespace, Name: "exporter_scrapes_total",
			Help: "Scrapes of all targets started by this exporter (concurrent requests share one).",
		}),
		scrapeDuration: prometheus.NewSummary(prometheus.SummaryOpts{
			Namespace: opts.Namespace, Name: "exporter_scrape_duration_seconds",
			Help: "Duration of the exporter's scrapes (all targets of /metrics, or one /scrape target), as redis_exporter's.",
		}),
	}
}

// SelfMetrics are the collector's own metrics, for the exporter's registry.
func (c *Collector) SelfMetrics() []prometheus.Collector {
	return []prometheus.Collector{c.scrapes, c.scrapeDuration}
}

// dedupe drops targets listed twice (same address, database and
// discovered pod): their series would collide and invalidate each other.
func dedupe(targets []target.Target) []target.Target {
	seen := make(map[string]bool, len(targets))
	out := targets[:0:0]
	for _, t := range targets {
		k := t.String() + "|" + t.Namespace + "/" + t.Pod
		if !seen[k] {
			seen[k] = true
			out = append(out, t)
		}
	}
	return out
}

// auxLimit bounds connections to masters that are not targets (one per
// distinct master a replica reports).
const auxLimit = 1000

// HasTarget reports whether t is one of the configured or discovered
// targets (by address and scheme), whose credentials it may use.
func (c *Collector) HasTarget(t target.Target) bool {
	for _, known := range c.targets() {
		if known.String() == t.String() {
			return true
		}
	}
	return false
}

// Scrape scrapes every current target once and returns the results.
// Concurrent callers share one in-flight scrape instead of queueing; pool
// entries of targets that disappeared are closed.
func (c *Collector) Scrape(ctx context.Context) *Results {
	v, _, _ := c.inflight.Do("all", func() (any, error) {
		c.scrapes.Inc()
		start := time.Now()
		targets := dedupe(c.targets())
		c.pool.retain(targets)
		c.aux.Expire(10 * time.Minute)
		rs := c.scrapeTargets(ctx, c.pool, targets)
		c.scrapeDuration.Observe(time.Since(start).Seconds())
		return rs, nil
	})
	return v.(*Results)
}

// ScrapeOne scrapes a single target through pool (used by /scrape?target=);
// concurrent requests for the same target share one scrape.
func (c *Collector) ScrapeOne(ctx context.Context, pool *Pool, t target.Target) *Results {
	v, _, _ := c.inflight.Do("one|"+entryKey(t), func() (any, error) {
		c.scrapes.Inc()
		// In /scrape-only setups Scrape never runs: expire here too.
		c.aux.Expire(10 * time.Minute)
		start := time.Now()
		rs := c.scrapeTargets(ctx, pool, []target.Target{t})
		c.scrapeDuration.Observe(time.Since(start).Seconds())
		return rs, nil
	})
	return v.(*Results)
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
