// Package engine scrapes a set of Redis targets concurrently: one kept
// connection and one INFO per target (plus the extra commands asked for),
// the probe round trip, the ops rate between scrapes and the replicas'
// lag. It knows nothing of Prometheus: the exporter's collector package
// turns its results into metrics, and the adapter reads them directly.
package engine

import (
	"context"
	"log/slog"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/redis-autoscaler/redis-autoscaler/exporter/target"
)

// Options tune an Engine.
type Options struct {
	// Concurrency bounds how many targets are scraped at once.
	Concurrency int
	// Timeout bounds one target's scrape (dial and reply).
	Timeout time.Duration
	// Deadline bounds a whole scrape of all targets.
	Deadline time.Duration
	Logger   *slog.Logger
	// OnScrape, when set, is told of each scrape actually made (requests
	// sharing one count once) and how long it took.
	OnScrape func(time.Duration)
}

// Defaults fills unset options.
func (o *Options) Defaults() {
	if o.Concurrency <= 0 {
		o.Concurrency = 64
	}
	if o.Timeout <= 0 {
		o.Timeout = 5 * time.Second
	}
	if o.Deadline <= 0 {
		o.Deadline = 10 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
}

// Engine scrapes the targets a source lists.
type Engine struct {
	opts    Options
	targets func() []target.Target
	pool    *Pool
	// aux holds connections to masters that are not targets themselves but
	// whose offset is needed for a replica's lag.
	aux      *Pool
	inflight singleflight.Group
}

// auxLimit bounds connections to masters that are not targets (one per
// distinct master a replica reports).
const auxLimit = 1000

// New builds an engine over the targets returned by targets; pool keeps
// their connections.
func New(targets func() []target.Target, pool *Pool, opts Options) *Engine {
	opts.Defaults()
	return &Engine{
		opts:    opts,
		targets: targets,
		pool:    pool,
		aux:     NewPool(pool.tlsConfig, opts.Timeout).WithLimit(auxLimit),
	}
}

// HasTarget reports whether t is one of the configured or discovered
// targets (by address and scheme), whose credentials it may use.
func (c *Engine) HasTarget(t target.Target) bool {
	for _, known := range c.targets() {
		if known.String() == t.String() {
			return true
		}
	}
	return false
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

// Scrape scrapes every current target once and returns the results.
// Concurrent callers share one in-flight scrape instead of queueing; pool
// entries of targets that disappeared are closed.
func (c *Engine) Scrape(ctx context.Context) *Results {
	v, _, _ := c.inflight.Do("all", func() (any, error) {
		return &Results{Results: c.ScrapeEach(ctx, nil)}, nil
	})
	return v.(*Results)
}

// ScrapeOne scrapes a single target through pool (used by /scrape?target=);
// concurrent requests for the same target share one scrape.
func (c *Engine) ScrapeOne(ctx context.Context, pool *Pool, t target.Target) *Results {
	v, _, _ := c.inflight.Do("one|"+entryKey(t), func() (any, error) {
		return &Results{Results: c.ScrapeOneEach(ctx, pool, t, nil)}, nil
	})
	return v.(*Results)
}

// ScrapeEach scrapes every current target once, as Scrape, and calls each
// from the scraping worker as soon as a target's result is in, before
// the replicas' lag is known (it is attached to the returned results
// afterwards). each may turn the Sample into its output and drop it
// (r.Sample = nil): what the lag needs is kept apart. Callers that may
// run concurrently share scrapes themselves.
func (c *Engine) ScrapeEach(ctx context.Context, each func(i int, r *Result)) []*Result {
	targets := dedupe(c.targets())
	c.pool.retain(targets)
	c.aux.Expire(10 * time.Minute)
	start := time.Now()
	r := c.scrapeTargets(ctx, c.pool, targets, each)
	c.scraped(time.Since(start))
	return r.Results
}

// ScrapeOneEach is ScrapeEach for a single target through pool.
func (c *Engine) ScrapeOneEach(ctx context.Context, pool *Pool, t target.Target, each func(i int, r *Result)) []*Result {
	// In /scrape-only setups ScrapeEach never runs: expire here too.
	c.aux.Expire(10 * time.Minute)
	start := time.Now()
	r := c.scrapeTargets(ctx, pool, []target.Target{t}, each)
	c.scraped(time.Since(start))
	return r.Results
}

func (c *Engine) scraped(d time.Duration) {
	if c.opts.OnScrape != nil {
		c.opts.OnScrape(d)
	}
}

// Deadline is the configured whole-scrape deadline.
func (c *Engine) Deadline() time.Duration { return c.opts.Deadline }
