package engine

import (
	"context"
	"errors"
	"fmt"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/redis-autoscaler/redis-autoscaler/exporter/scraper"
	"github.com/redis-autoscaler/redis-autoscaler/exporter/target"
)

// Result is one target's outcome in one scrape.
type Result struct {
	Target   target.Target
	Sample   *scraper.Sample // nil when Err is set
	Err      error
	Duration time.Duration
	// ConnectTime is the time this scrape spent connecting (0: reused).
	ConnectTime time.Duration

	OpsPerSecond    float64
	HasOpsPerSecond bool
	Lag             *Lag // replicas whose master's offset was known

	// RTT is a copy of the target's probe histogram after this scrape.
	RTT Histogram
	// Stalled is, for a target that was reached but did not answer in
	// time (a timeout) or answered BUSY, the response time its clients
	// see at least: the scrape's duration, not less than the timeout. 0
	// otherwise (answered, refused, or never reached).
	Stalled time.Duration

	// repl is what the lag of replicas needs of this target's INFO.
	repl *replState
}

// Results is one scrape of a set of targets, in the targets' order.
type Results struct {
	Results []*Result
}

// scrapeTargets scrapes targets, at most Concurrency at once. Each target
// gets the per-target timeout, cut short by the whole-scrape deadline; a
// target still queued when the deadline passes is reported down without
// being contacted, so one slow target never delays the others beyond its
// timeout. A target's failure is its Result's Err, never the group's: the
// group has no context to cancel, so no target stops another.
//
// each, when set, is called with each result as it arrives (see
// ScrapeEach).
func (c *Engine) scrapeTargets(ctx context.Context, pool *Pool, targets []target.Target, each func(int, *Result)) *Results {
	ctx, cancel := detach(ctx, c.opts.Deadline)
	defer cancel()

	out := &Results{Results: make([]*Result, len(targets))}
	var g errgroup.Group
	g.SetLimit(c.opts.Concurrency)
	for i := range targets {
		g.Go(func() error {
			r := c.scrapeOne(ctx, pool.get(targets[i]))
			if each != nil {
				each(i, r)
			}
			out.Results[i] = r
			return nil
		})
	}
	_ = g.Wait() // every func returns nil

	c.attachLag(ctx, out.Results)
	return out
}

func (c *Engine) scrapeOne(ctx context.Context, e *entry) *Result {
	r := &Result{Target: e.target}
	start := time.Now()
	if err := ctx.Err(); err != nil {
		r.Err = fmt.Errorf("scrape %s: whole-scrape deadline passed before it was reached", e.target)
		r.Duration = 0
		e.mu.Lock()
		r.RTT = e.rtt.clone()
		e.mu.Unlock()
		return r
	}
	tctx, cancel := context.WithTimeout(ctx, c.opts.Timeout)
	defer cancel()
	r.Sample, r.Err = e.client.Scrape(tctx)
	r.Duration = time.Since(start)
	r.ConnectTime = e.client.ConnectTime()

	e.mu.Lock()
	defer e.mu.Unlock()
	switch {
	case r.Err == nil:
		e.rtt.observe(r.Sample.RTT)
		r.repl = replStateOf(r.Sample.Info)
		r.OpsPerSecond, r.HasOpsPerSecond = e.rate.update(r.Sample.Info, r.Sample.At)
	case errors.Is(r.Err, scraper.ErrTimeout) || errors.Is(tctx.Err(), context.DeadlineExceeded) || errors.Is(r.Err, scraper.ErrBusy):
		// A Redis that does not answer within the timeout, or answers
		// BUSY, is the slowest response a client sees; record it (a lower
		// bound) so a stalled server shows in the response-time histogram,
		// not only in redis_up.
		r.Stalled = max(r.Duration, c.opts.Timeout)
		e.rtt.observe(r.Stalled)
	}
	r.RTT = e.rtt.clone()
	if r.Err != nil {
		c.opts.Logger.Warn("scrape failed", "target", e.target.String(), "namespace", e.target.Namespace, "pod", e.target.Pod, "err", r.Err)
	}
	return r
}

func (h Histogram) clone() Histogram {
	h.counts = append([]uint64(nil), h.counts...)
	return h
}

// detach keeps the caller's deadline (capped at max) but not its
// cancellation: a scrape shared by several requests must not fail for all of
// them because the first requester went away.
func detach(ctx context.Context, max time.Duration) (context.Context, context.CancelFunc) {
	deadline := time.Now().Add(max)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	return context.WithDeadline(context.WithoutCancel(ctx), deadline)
}
