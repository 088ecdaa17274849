package engine

import (
	"context"
	"crypto/tls"
	"sync"
	"time"

	"github.com/redis-autoscaler/redis-autoscaler/exporter/scraper"
	"github.com/redis-autoscaler/redis-autoscaler/exporter/target"
)

// Pool keeps one scraper client, and the state derived across scrapes (ops
// rate, probe histogram), per target. State must outlive a single HTTP
// request, so /scrape?target= requests share a pool too.
type Pool struct {
	tlsConfig *tls.Config
	timeout   time.Duration
	// max bounds the entries (0: no bound); beyond it the least recently
	// used is closed, so callers naming ever new targets (/scrape) cannot
	// grow memory or open connections without limit.
	max int
	// extras are the commands sent besides INFO by this pool's clients.
	extras scraper.Extras

	mu      sync.Mutex
	entries map[string]*entry
}

// entry is one target's connection and running state.
type entry struct {
	target target.Target
	client *scraper.Client

	mu       sync.Mutex // guards the fields below
	rate     opsRate
	rtt      Histogram
	lastUsed time.Time
}

// NewPool makes an empty pool; clients use tlsConfig for rediss:// targets
// and timeout for dialling and replies.
func NewPool(tlsConfig *tls.Config, timeout time.Duration) *Pool {
	return &Pool{tlsConfig: tlsConfig, timeout: timeout, entries: map[string]*entry{}}
}

// WithExtras makes the pool's clients send extra commands (see
// scraper.Extras); set before the first scrape.
func (p *Pool) WithExtras(x scraper.Extras) *Pool {
	p.extras = x
	return p
}

// WithLimit bounds the pool to max entries (least recently used evicted).
func (p *Pool) WithLimit(max int) *Pool {
	p.max = max
	return p
}

func entryKey(t target.Target) string { return t.Key() + "|" + t.Namespace + "/" + t.Pod }

// get returns the entry for t, creating it (without dialling) if needed.
func (p *Pool) get(t target.Target) *entry {
	k := entryKey(t)
	p.mu.Lock()
	defer p.mu.Unlock()
	e, ok := p.entries[k]
	if !ok {
		if p.max > 0 && len(p.entries) >= p.max {
			p.evictOldestLocked()
		}
		e = &entry{target: t, client: scraper.NewWithExtras(t, p.tlsConfig, p.timeout, p.extras), rtt: NewHistogram()}
		p.entries[k] = e
	}
	e.mu.Lock()
	e.lastUsed = time.Now()
	e.mu.Unlock()
	return e
}

// evictOldestLocked closes the least recently used entry; p.mu is held.
// A linear scan: it runs only when a bounded pool is full.
func (p *Pool) evictOldestLocked() {
	var oldestKey string
	var oldest time.Time
	for k, e := range p.entries {
		e.mu.Lock()
		used := e.lastUsed
		e.mu.Unlock()
		if oldestKey == "" || used.Before(oldest) {
			oldestKey, oldest = k, used
		}
	}
	if e, ok := p.entries[oldestKey]; ok {
		_ = e.client.Close()
		delete(p.entries, oldestKey)
	}
}

// retain closes and forgets every entry whose target is not in keep, so a
// pod that went away leaves no connection or series behind.
func (p *Pool) retain(keep []target.Target) {
	want := make(map[string]bool, len(keep))
	for _, t := range keep {
		want[entryKey(t)] = true
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for k, e := range p.entries {
		if !want[k] {
			_ = e.client.Close()
			delete(p.entries, k)
		}
	}
}

// Expire closes entries unused for longer than idle; /scrape targets that
// Prometheus stopped asking for are dropped this way.
func (p *Pool) Expire(idle time.Duration) {
	cutoff := time.Now().Add(-idle)
	p.mu.Lock()
	defer p.mu.Unlock()
	for k, e := range p.entries {
		e.mu.Lock()
		old := e.lastUsed.Before(cutoff)
		e.mu.Unlock()
		if old {
			_ = e.client.Close()
			delete(p.entries, k)
		}
	}
}

// Close closes every connection.
func (p *Pool) Close() {
	p.retain(nil)
}

// Len is the number of targets with a client.
func (p *Pool) Len() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.entries)
}

// ClusterNodes lists t's Redis Cluster nodes as host:port over t's kept
// connection (see scraper.Client.ClusterNodes).
func (p *Pool) ClusterNodes(ctx context.Context, t target.Target, hostnames bool) ([]string, error) {
	return p.get(t).client.ClusterNodes(ctx, hostnames)
}
