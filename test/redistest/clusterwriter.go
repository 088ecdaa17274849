package redistest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"
)

// ClusterWriter writes unique keys to a Redis Cluster with SET + WAIT 1,
// in a loop, and keeps those a replica acknowledged. A go-redis
// ClusterClient routes each key to its master (its slot map), but the
// SET and its WAIT are sent together on one connection of that master
// (WAIT covers only its own connection's writes, and a keyless WAIT sent
// through the ClusterClient would go to any node). MOVED and ASK replies
// are followed as the ClusterClient would: MOVED reloads the slot map,
// ASK retries on the importing node after ASKING. Anything else is an
// error the test can count.
type ClusterWriter struct {
	cc      *redis.ClusterClient
	prefix  string
	wait    time.Duration
	mu      sync.Mutex
	acked   []string
	errs    []error
	nacked  int
	moved   int
	asked   int
	refused int
	lat     []time.Duration
	lastAck time.Time
	maxGap  time.Duration
	clients map[string]*redis.Client
	opts    *redis.ClusterOptions
	stop    chan struct{}
	done    chan struct{}
}

// StartClusterWriter starts writing <prefix><n> through a client on o.
func StartClusterWriter(o *redis.ClusterOptions, prefix string, wait time.Duration) *ClusterWriter {
	w := &ClusterWriter{
		cc: redis.NewClusterClient(o), prefix: prefix, wait: wait, opts: o,
		clients: map[string]*redis.Client{}, stop: make(chan struct{}), done: make(chan struct{}),
	}
	go w.run()
	return w
}

func (w *ClusterWriter) run() {
	defer close(w.done)
	ctx := context.Background()
	for i := 0; ; i++ {
		select {
		case <-w.stop:
			return
		default:
		}
		key := fmt.Sprintf("%s%d", w.prefix, i)
		start := time.Now()
		acked, err := w.write(ctx, key)
		d := time.Since(start)
		w.mu.Lock()
		switch {
		case err != nil:
			if len(w.errs) < 100 {
				w.errs = append(w.errs, fmt.Errorf("%s: %w", key, err))
			}
		case acked:
			w.acked = append(w.acked, key)
			w.lat = append(w.lat, d)
			if now := time.Now(); !w.lastAck.IsZero() && now.Sub(w.lastAck) > w.maxGap {
				w.maxGap = now.Sub(w.lastAck)
			}
			w.lastAck = time.Now()
		default:
			w.nacked++
		}
		w.mu.Unlock()
		if err != nil {
			time.Sleep(10 * time.Millisecond)
		}
	}
}

func (w *ClusterWriter) client(addr string) *redis.Client {
	if c, ok := w.clients[addr]; ok {
		return c
	}
	c := redis.NewClient(&redis.Options{Addr: addr, Username: w.opts.Username, Password: w.opts.Password,
		TLSConfig: w.opts.TLSConfig, MaxRetries: -1})
	w.clients[addr] = c
	return c
}

// write sends SET + WAIT 1 to the key's master, following redirections;
// acked: a replica has the write.
func (w *ClusterWriter) write(ctx context.Context, key string) (acked bool, _ error) {
	node, err := w.cc.MasterForKey(ctx, key)
	if err != nil {
		return false, err
	}
	asking := false
	var last error
	for range 10 {
		var set *redis.StatusCmd
		var wait *redis.Cmd
		_, _ = node.Pipelined(ctx, func(p redis.Pipeliner) error {
			if asking {
				p.Do(ctx, "ASKING")
			}
			set = p.Set(ctx, key, key, 0)
			wait = p.Do(ctx, "WAIT", 1, w.wait.Milliseconds())
			return nil
		})
		err := set.Err()
		last = err
		if isRefused(err) || isTimeout(err) {
			// A node gone since the slot map was loaded: nothing was
			// sent, so retrying is safe; go-redis's own loop does the same.
			// A timeout on a pooled connection to a pod that was deleted
			// (on a pod network its address just goes silent) leaves the
			// SET's outcome unknown, and SET k k is idempotent: retrying
			// on the slot's owner is safe too.
			w.count(&w.refused)
			w.cc.ReloadState(ctx)
			if node, err = w.cc.MasterForKey(ctx, key); err != nil {
				return false, err
			}
			asking = false
			time.Sleep(5 * time.Millisecond)
			continue
		}
		if err == nil {
			n, werr := wait.Int()
			if werr != nil && strings.HasPrefix(werr.Error(), "UNBLOCKED") {
				// The master became a replica (a CLUSTER FAILOVER) while
				// WAIT waited: the SET happened, its acknowledgement is
				// unknown, as for a WAIT that timed out.
				return false, nil
			}
			return werr == nil && n >= 1, werr
		}
		msg := err.Error()
		f := strings.Fields(msg)
		switch {
		case strings.HasPrefix(msg, "MOVED ") && len(f) == 3:
			w.count(&w.moved)
			w.cc.ReloadState(ctx)
			node, asking = w.client(f[2]), false
		case strings.HasPrefix(msg, "ASK ") && len(f) == 3:
			w.count(&w.asked)
			node, asking = w.client(f[2]), true
		case strings.HasPrefix(msg, "TRYAGAIN"):
			time.Sleep(5 * time.Millisecond)
		case strings.HasPrefix(msg, "CLUSTERDOWN"):
			// Not executed; go-redis retries it too. A node that lost
			// its shard's master (or a new, empty node at an address a
			// stale slot map still names) says so until the slot is
			// served again: a gap, which the caller measures.
			w.count(&w.refused)
			w.cc.ReloadState(ctx)
			if node, err = w.cc.MasterForKey(ctx, key); err != nil {
				return false, err
			}
			asking = false
			time.Sleep(10 * time.Millisecond)
		default:
			return false, err
		}
	}
	return false, fmt.Errorf("10 tries, the last: %w", last)
}

func (w *ClusterWriter) count(n *int) { w.mu.Lock(); *n++; w.mu.Unlock() }

// isRefused: the connection to the node was never made, so nothing was
// sent. On loopback a removed node refuses at once; on a pod network its
// address has no host any more and the dial times out (found on the real
// node, where a slot map loaded before a scale-in still named a deleted
// pod).
func isRefused(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.EHOSTUNREACH) {
		return true
	}
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}

// isTimeout: the node went away with the request in flight: a timeout
// (its address went silent) or the connection closed (EOF, reset: a
// removed pod's Redis shutting down). Seen on the real node in scale-in.
func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET) || (errors.As(err, &ne) && ne.Timeout())
}

// MaxGap is the longest time between two acknowledged writes: one writer
// goes round every shard, so a shard that takes no write stalls it.
func (w *ClusterWriter) MaxGap() time.Duration { w.mu.Lock(); defer w.mu.Unlock(); return w.maxGap }

// Count is how many writes were acknowledged so far.
func (w *ClusterWriter) Count() int { w.mu.Lock(); defer w.mu.Unlock(); return len(w.acked) }

// Redirections followed so far: MOVED, ASK, and connections refused by
// a node gone since the slot map was loaded (retried elsewhere).
func (w *ClusterWriter) Redirections() (moved, asked, refused int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.moved, w.asked, w.refused
}

// Latencies returns and forgets the acknowledged writes' latencies since
// the last call.
func (w *ClusterWriter) Latencies() []time.Duration {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := w.lat
	w.lat = nil
	return out
}

// Percentile of ds (sorted in place), p in [0, 1].
func Percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	slices.Sort(ds)
	return ds[min(len(ds)-1, int(p*float64(len(ds))))]
}

// Finish stops the writer and returns the acknowledged keys, the number
// not acknowledged by a replica in time, and the errors (other than
// redirections) it saw, at most 100.
func (w *ClusterWriter) Finish() (acked []string, nacked int, errs []error) {
	close(w.stop)
	<-w.done
	for _, c := range w.clients {
		_ = c.Close()
	}
	_ = w.cc.Close()
	return w.acked, w.nacked, w.errs
}
