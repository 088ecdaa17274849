package e2e

import (
	"context"
	"fmt"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// Load sends a bounded rate of commands to the group, loopback only:
// writes (SET, a tenth of the commands) to the master, reads (GET) spread
// over every pod. The rate can change while it runs; it stops with Stop or
// its context.
type Load struct {
	e       *Env
	rate    atomic.Uint64 // float64 bits, commands per second
	sent    atomic.Int64
	errs    atomic.Int64
	clients map[string]*redis.Client
	stop    context.CancelFunc
	done    chan struct{}
}

// MaxRate bounds SetRate: a loop on a laptop, not a benchmark.
const MaxRate = 50000

// StartLoad starts at rate 0.
func (e *Env) StartLoad(ctx context.Context) *Load {
	ctx, cancel := context.WithCancel(ctx)
	l := &Load{e: e, clients: map[string]*redis.Client{}, stop: cancel, done: make(chan struct{})}
	go l.run(ctx)
	return l
}

// SetRate sets commands per second (0 pauses).
func (l *Load) SetRate(r float64) {
	l.rate.Store(math.Float64bits(math.Max(0, math.Min(r, MaxRate))))
}

// Rate is the rate asked.
func (l *Load) Rate() float64 { return math.Float64frombits(l.rate.Load()) }

// Sent and Errors count commands sent and failed.
func (l *Load) Sent() int64   { return l.sent.Load() }
func (l *Load) Errors() int64 { return l.errs.Load() }

// Stop stops the load and closes its connections.
func (l *Load) Stop() {
	l.stop()
	<-l.done
}

func (l *Load) client(addr string) *redis.Client {
	c, ok := l.clients[addr]
	if !ok {
		c = redis.NewClient(&redis.Options{Addr: addr, Password: l.e.Password, PoolSize: 4,
			DialTimeout: time.Second, ReadTimeout: time.Second, WriteTimeout: time.Second, MaxRetries: -1})
		l.clients[addr] = c
	}
	return c
}

func (l *Load) run(ctx context.Context) {
	defer close(l.done)
	defer func() {
		for _, c := range l.clients {
			c.Close()
		}
	}()
	const tick = 50 * time.Millisecond
	t := time.NewTicker(tick)
	defer t.Stop()
	var master string
	var readers []string
	refreshed := time.Time{}
	carry := 0.0
	var wg sync.WaitGroup
	for i := 0; ; i++ {
		select {
		case <-ctx.Done():
			wg.Wait()
			return
		case <-t.C:
		}
		if time.Since(refreshed) > time.Second {
			if pods, err := l.e.Pods(ctx); err == nil {
				m, synced, _ := Roles(pods)
				master, readers = "", nil
				if m != nil {
					master = podAddr(m)
					readers = append(readers, master)
				}
				for _, p := range synced {
					readers = append(readers, podAddr(p))
				}
			}
			refreshed = time.Now()
		}
		carry += l.Rate() * tick.Seconds()
		n := int(carry)
		carry -= float64(n)
		if n == 0 || master == "" {
			continue
		}
		writes := n / 10
		perReader := (n - writes) / len(readers)
		batches := map[string][2]int{master: {writes, 0}}
		for _, r := range readers {
			b := batches[r]
			b[1] += perReader
			batches[r] = b
		}
		for addr, b := range batches {
			c := l.client(addr)
			wg.Add(1)
			go func(c *redis.Client, sets, gets int) {
				defer wg.Done()
				cctx, cancel := context.WithTimeout(ctx, time.Second)
				defer cancel()
				_, err := c.Pipelined(cctx, func(p redis.Pipeliner) error {
					for j := 0; j < sets; j++ {
						p.Set(cctx, fmt.Sprintf("load:%d", j%1000), j, 0)
					}
					for j := 0; j < gets; j++ {
						p.Get(cctx, fmt.Sprintf("load:%d", j%1000))
					}
					return nil
				})
				l.sent.Add(int64(sets + gets))
				if err != nil && err != redis.Nil {
					l.errs.Add(1)
				}
			}(c, b[0], b[1])
		}
		// Bound the goroutines in flight: a stalled pod must not pile
		// them up.
		if i%20 == 0 {
			wg.Wait()
		}
	}
}
