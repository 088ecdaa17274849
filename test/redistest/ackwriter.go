package redistest

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// AckWriterOptions configure an AckWriter.
type AckWriterOptions struct {
	// Ctx bounds every write (default: none).
	Ctx context.Context
	// Prefix of the keys: <prefix><n>, n counting from 0.
	Prefix string
	// Wait is WAIT's timeout.
	Wait time.Duration
	// OpTimeout bounds one SET + WAIT (0: only Ctx).
	OpTimeout time.Duration
	// Target is the client to write to, asked before every write; nil
	// when no master is known now (tried again 10 ms later).
	Target func() *redis.Client
	// OnFail, when set, runs after a write that was not acknowledged
	// (to look the master up again).
	OnFail func()
	// Interval between the starts of two writes (0: as fast as the
	// round trips allow). A bounded writer leaves the load to measure.
	Interval time.Duration
}

// AckWriter writes keys with SET + WAIT 1 in one pipeline, in a loop, and
// keeps those a replica acknowledged: the writes a test may then require
// on every server. Target and OnFail run on the writer's goroutine only.
type AckWriter struct {
	o       AckWriterOptions
	mu      sync.Mutex
	acked   []string
	failed  int
	lastAck time.Time
	maxGap  time.Duration
	gapEnd  time.Time
	stop    chan struct{}
	done    chan struct{}
}

// StartAckWriter starts writing; Finish stops it.
func StartAckWriter(o AckWriterOptions) *AckWriter {
	if o.Ctx == nil {
		o.Ctx = context.Background()
	}
	w := &AckWriter{o: o, stop: make(chan struct{}), done: make(chan struct{})}
	go w.run()
	return w
}

func (w *AckWriter) run() {
	defer close(w.done)
	var tick <-chan time.Time
	if w.o.Interval > 0 {
		t := time.NewTicker(w.o.Interval)
		defer t.Stop()
		tick = t.C
	}
	for i := 0; ; i++ {
		select {
		case <-w.stop:
			return
		default:
		}
		if tick != nil {
			select {
			case <-w.stop:
				return
			case <-tick:
			}
		}
		c := w.o.Target()
		if c == nil {
			time.Sleep(10 * time.Millisecond)
			continue
		}
		key := fmt.Sprintf("%s%07d", w.o.Prefix, i)
		ctx, cancel := w.o.Ctx, context.CancelFunc(func() {})
		if w.o.OpTimeout > 0 {
			ctx, cancel = context.WithTimeout(w.o.Ctx, w.o.OpTimeout)
		}
		// WAIT in the same pipeline: acknowledged = stored on the master
		// and on at least one replica.
		cmds, err := c.Pipelined(ctx, func(p redis.Pipeliner) error {
			p.Set(ctx, key, i, 0)
			p.Do(ctx, "WAIT", 1, w.o.Wait.Milliseconds())
			return nil
		})
		cancel()
		acked := err == nil && cmds[1].(*redis.Cmd).Val().(int64) >= 1
		w.mu.Lock()
		if acked {
			w.acked = append(w.acked, key)
			now := time.Now()
			if !w.lastAck.IsZero() && now.Sub(w.lastAck) > w.maxGap {
				w.maxGap, w.gapEnd = now.Sub(w.lastAck), now
			}
			w.lastAck = now
		} else {
			w.failed++
		}
		w.mu.Unlock()
		if !acked && w.o.OnFail != nil {
			w.o.OnFail()
		}
	}
}

// Count is how many writes were acknowledged so far.
func (w *AckWriter) Count() int { w.mu.Lock(); defer w.mu.Unlock(); return len(w.acked) }

// Failed is how many writes were not acknowledged.
func (w *AckWriter) Failed() int { w.mu.Lock(); defer w.mu.Unlock(); return w.failed }

// MaxGap is the longest time between two acknowledged writes: what a
// client sees of a master change.
func (w *AckWriter) MaxGap() time.Duration { w.mu.Lock(); defer w.mu.Unlock(); return w.maxGap }

// MaxGapEnd is when the longest gap ended (the acknowledgement after it),
// to find what happened during it in logs and Events.
func (w *AckWriter) MaxGapEnd() time.Time { w.mu.Lock(); defer w.mu.Unlock(); return w.gapEnd }

// Finish stops the writer and returns the acknowledged keys.
func (w *AckWriter) Finish() []string {
	close(w.stop)
	<-w.done
	return w.acked
}
