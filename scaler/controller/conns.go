package controller

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/manager"

	"github.com/redis-autoscaler/redis-autoscaler/scaler/credentials"
	"github.com/redis-autoscaler/redis-autoscaler/scaler/redisops"
)

// Conns keeps one go-redis client per Redis address and credentials across
// reconciles, so a reconcile costs one INFO per pod, not a TCP (and TLS)
// handshake. It is a cache: losing it changes nothing but latency.
type Conns struct {
	mu      sync.Mutex
	clients map[string]*pooled
	// edit, when set, adjusts the options of each new client.
	edit func(*redis.Options)
}

type pooled struct {
	client   *redis.Client
	lastUsed time.Time
}

// NewConns creates an empty cache; edit, when not nil, adjusts the
// options of each new client (pool size, timeouts).
func NewConns(edit func(*redis.Options)) *Conns {
	return &Conns{clients: map[string]*pooled{}, edit: edit}
}

// Get returns the client for host:port with these credentials (a TLS
// config with no Config: plain TCP).
func (c *Conns) Get(host string, port int, auth redisops.Auth, tc credentials.TLS) *redis.Client {
	h := sha256.Sum256([]byte(auth.Username + "\x00" + auth.Password + "\x00" + tc.Key))
	key := host + ":" + strconv.Itoa(port) + "|" + hex.EncodeToString(h[:8])
	c.mu.Lock()
	defer c.mu.Unlock()
	p, ok := c.clients[key]
	if !ok {
		o := redisops.ClientOptions(host, port, auth, tc.Config)
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
func (c *Conns) sweep(idle time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, p := range c.clients {
		if time.Since(p.lastUsed) > idle {
			_ = p.client.Close()
			delete(c.clients, k)
		}
	}
}

func (c *Conns) closeAll() { c.sweep(-1) }

// connIdle: a connection unused this long belongs to a pod that is gone.
const connIdle = 5 * time.Minute

// sweeper closes connections of pods that went away, every minute, and
// all of them on shutdown: a manager Runnable.
func (c *Conns) sweeper() manager.RunnableFunc {
	return func(ctx context.Context) error {
		wait.UntilWithContext(ctx, func(context.Context) { c.sweep(connIdle) }, time.Minute)
		c.closeAll()
		return nil
	}
}
