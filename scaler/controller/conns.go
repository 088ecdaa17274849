package controller

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"strconv"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
	"sigs.k8s.io/controller-runtime/pkg/manager"

	"github.com/redis-autoscaler/redis-autoscaler/scaler/redisops"
)

// conns keeps one go-redis client per Redis address and credentials across
// reconciles, so a reconcile costs one INFO per pod, not a TCP (and TLS)
// handshake. It is a cache: losing it changes nothing but latency.
type conns struct {
	mu      sync.Mutex
	clients map[string]*pooled
	// edit, when set, adjusts the options of each new client.
	edit func(*redis.Options)
}

type pooled struct {
	client   *redis.Client
	lastUsed time.Time
}

func newConns() *conns { return &conns{clients: map[string]*pooled{}} }

// get returns the client for host:port with these credentials. tlsKey
// identifies the TLS settings (empty: plain TCP).
func (c *conns) get(host string, port int, auth redisops.Auth, tlsConfig *tls.Config, tlsKey string) *redis.Client {
	h := sha256.Sum256([]byte(auth.Username + "\x00" + auth.Password + "\x00" + tlsKey))
	key := host + ":" + strconv.Itoa(port) + "|" + hex.EncodeToString(h[:8])
	c.mu.Lock()
	defer c.mu.Unlock()
	p, ok := c.clients[key]
	if !ok {
		o := redisops.ClientOptions(host, port, auth, tlsConfig)
		if c.edit != nil {
			c.edit(o)
		}
		p = &pooled{client: redis.NewClient(o)}
		c.clients[key] = p
	}
	p.lastUsed = time.Now()
	return p.client
}

// sweep closes clients unused for longer than idle (pods that went away,
// changed passwords).
func (c *conns) sweep(idle time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, p := range c.clients {
		if time.Since(p.lastUsed) > idle {
			_ = p.client.Close()
			delete(c.clients, k)
		}
	}
}

func (c *conns) closeAll() { c.sweep(-1) }

// connIdle: a connection unused this long belongs to a pod that is gone.
const connIdle = 5 * time.Minute

// sweeper closes connections of pods that went away, every minute, and
// all of them on shutdown: a manager Runnable.
func (c *conns) sweeper() manager.RunnableFunc {
	return func(ctx context.Context) error {
		t := time.NewTicker(time.Minute)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				c.closeAll()
				return nil
			case <-t.C:
				c.sweep(connIdle)
			}
		}
	}
}
