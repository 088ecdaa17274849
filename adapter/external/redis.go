package external

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"

	"github.com/redis-autoscaler/redis-autoscaler/exporter/target"
)

// badKey is an answer about the key itself (wrong type, no such group):
// the HPA's status shows it, and asking again soon will not change it.
type badKey struct{ msg string }

func (e *badKey) Error() string { return e.msg }

// read sends TYPE and the metric's command in one pipeline. A key that
// does not exist is 0: an empty queue, whose producer deletes it when
// drained.
func read(ctx context.Context, c *redis.Client, q query) (float64, error) {
	pipe := c.Pipeline()
	typ := pipe.Type(ctx, q.key)
	var n *redis.IntCmd
	var groups *redis.XInfoGroupsCmd
	want := "list"
	switch q.metric {
	case ListLength:
		n = pipe.LLen(ctx, q.key)
	case StreamLength:
		want = "stream"
		n = pipe.XLen(ctx, q.key)
	case GroupLag:
		want = "stream"
		groups = pipe.XInfoGroups(ctx, q.key)
	}
	_, _ = pipe.Exec(ctx)
	t, err := typ.Result()
	if err != nil {
		return 0, err
	}
	switch t {
	case "none":
		return 0, nil
	case want:
	default:
		return 0, &badKey{fmt.Sprintf("key %q is a %s, not a %s", q.key, t, want)}
	}
	if n != nil {
		v, err := n.Result()
		return float64(v), err
	}
	gs, err := groups.Result()
	if err != nil {
		return 0, err
	}
	for _, g := range gs {
		if g.Name != q.consumerGroup {
			continue
		}
		// Redis >= 7 reports the lag; -1 when it cannot tell (entries
		// deleted from the stream's middle). Then the group's pending
		// messages are the best lower bound there is.
		if g.Lag >= 0 {
			return float64(g.Lag), nil
		}
		return float64(g.Pending), nil
	}
	return 0, &badKey{fmt.Sprintf("stream %q has no consumer group %q", q.key, q.consumerGroup)}
}

// clients keeps one small client per Redis, at most max (the least
// recently used is closed).
type clients struct {
	tlsConfig *tls.Config
	timeout   time.Duration
	max       int

	mu sync.Mutex
	m  map[string]*entry
}

type entry struct {
	c    *redis.Client
	used time.Time
}

func newClients(tlsConfig *tls.Config, timeout time.Duration, max int) *clients {
	return &clients{tlsConfig: tlsConfig, timeout: timeout, max: max, m: map[string]*entry{}}
}

func (cs *clients) get(t target.Target) *redis.Client {
	k := t.Key() // with the credentials
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if e, ok := cs.m[k]; ok {
		e.used = time.Now()
		return e.c
	}
	if len(cs.m) >= cs.max {
		var oldest string
		for key, e := range cs.m {
			if oldest == "" || e.used.Before(cs.m[oldest].used) {
				oldest = key
			}
		}
		_ = cs.m[oldest].c.Close()
		delete(cs.m, oldest)
	}
	o := &redis.Options{
		Network: t.Network, Addr: t.Address, Username: t.User, Password: t.Password, DB: t.DB,
		Protocol: 2, DisableIdentity: true,
		MaintNotificationsConfig: &maintnotifications.Config{Mode: maintnotifications.ModeDisabled},
		DialTimeout:              cs.timeout, ReadTimeout: cs.timeout, WriteTimeout: cs.timeout,
		ContextTimeoutEnabled: true, PoolSize: 2, MaxIdleConns: 1, MaxRetries: -1,
		ReadBufferSize: 4096, WriteBufferSize: 1024,
	}
	o.TLSConfig = t.TLSConfig(cs.tlsConfig)
	c := redis.NewClient(o)
	cs.m[k] = &entry{c: c, used: time.Now()}
	return c
}

func (cs *clients) close() {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	for k, e := range cs.m {
		_ = e.c.Close()
		delete(cs.m, k)
	}
}

// scrub keeps a password out of an error text.
func scrub(err error, password string) error {
	if password == "" {
		return err
	}
	return errors.New(strings.ReplaceAll(err.Error(), password, "xxxxx"))
}
