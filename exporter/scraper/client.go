// Package scraper reads one Redis' state in one round trip over one
// persistent connection.
//
// It is shared by the exporter (which turns samples into Prometheus metrics)
// and the adapter (which serves them to the HPA).
package scraper

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"

	"github.com/redis-autoscaler/redis-autoscaler/exporter/keycheck"
	"github.com/redis-autoscaler/redis-autoscaler/exporter/redisinfo"
	"github.com/redis-autoscaler/redis-autoscaler/exporter/redisreply"
	"github.com/redis-autoscaler/redis-autoscaler/exporter/target"
)

// Sample is what one scrape of one Redis read.
type Sample struct {
	Info *redisinfo.Info
	// RTT is the round trip of the scrape's INFO command as this client saw
	// it: network, queueing behind other clients' commands and execution.
	RTT time.Duration
	// At is when the reply arrived.
	At time.Time
	// NewConnection is true when this scrape had to dial.
	NewConnection bool
	// Extras (nil when not asked for, refused or failed).
	Slowlog           *redisreply.Slowlog
	LatencyHistograms map[string]redisreply.LatencyHistogram
	// ClusterInfo is CLUSTER INFO of a cluster-enabled server.
	ClusterInfo map[string]string
	// Config is CONFIG GET * (with Extras.Config).
	Config map[string]string
	// Keys are the key checks' findings (with Extras.Keys).
	Keys *keycheck.Result
	// KeyGroups are the last complete walks by key group (with
	// Extras.KeyGroups); KeyGroupsDuration is this scrape's share of the
	// walk.
	KeyGroups         []keycheck.GroupResult
	KeyGroupsDuration time.Duration
	// Databases is CONFIG GET databases (with Extras.EmptyDatabases).
	Databases int
	// Scripts are the Lua scripts' results; Clients is CLIENT LIST.
	Scripts []redisreply.ScriptResult
	Clients []redisreply.Client
	// SentinelMasters are a Sentinel's masters (Sentinel targets only).
	SentinelMasters []redisreply.SentinelMaster
}

// Client scrapes one target over a single persistent connection.
type Client struct {
	target target.Target
	rdb    *redis.Client

	mu sync.Mutex // one scrape at a time per connection
	// version is the server's major version, learned from the first reply on
	// each connection (0 = not yet known); it picks the INFO sections asked.
	version int
	dialed  bool
	// scrapeStart and connectTime: how long the last scrape spent
	// connecting (dial, TLS, HELLO/AUTH), 0 when the connection was kept.
	scrapeStart time.Time
	connectTime time.Duration
	// extras asked for, and those this connection's server refused.
	extras  Extras
	refused map[string]bool
	// groups walks the keyspace by key group across scrapes.
	groups *keycheck.GroupWalk
	// cluster reads checked keys from their owners (Extras.IsCluster);
	// clusterMu guards it apart from mu, so that Close never waits for a
	// scrape.
	clusterMu sync.Mutex
	cluster   *redis.ClusterClient
	closed    bool
}

// sectionsV7 are the INFO sections a Redis >= 7 is asked for: everything the
// exporter uses and nothing it does not (no module or cluster lists).
var sectionsV7 = []any{"INFO", "server", "clients", "memory", "persistence", "stats",
	"replication", "cpu", "commandstats", "errorstats", "latencystats", "keyspace", "cluster", "sentinel"}

// infoAll is understood by every Redis since 2.6; used until the version is
// known and for Redis < 7, which takes at most one section argument.
var infoAll = []any{"INFO", "all"}

// New builds a client. Nothing is dialled until the first scrape. timeout
// bounds dialling and each reply; callers also pass a context deadline.
func New(t target.Target, tlsConfig *tls.Config, timeout time.Duration) *Client {
	return NewWithExtras(t, tlsConfig, timeout, Extras{})
}

// NewWithExtras builds a client that also sends the extra commands asked.
func NewWithExtras(t target.Target, tlsConfig *tls.Config, timeout time.Duration, extras Extras) *Client {
	c := &Client{target: t, extras: extras}
	if len(extras.KeyGroups) > 0 {
		c.groups = keycheck.NewGroupWalk(extras.KeyGroups, extras.MaxDistinctKeyGroups, extras.Keys.BatchSize, extras.Keys.Budget)
	}
	opts := &redis.Options{
		Network:  t.Network,
		Addr:     t.Address,
		Username: t.User,
		Password: t.Password,
		DB:       t.DB,
		// Only with --set-client-name: go-redis sends CLIENT SETNAME, one
		// more command per new connection.
		ClientName: extras.ClientName,
		// RESP2, no CLIENT SETINFO, no maintenance notifications: a new
		// connection costs HELLO (Redis >= 6) and nothing a server may answer
		// with an error counted in its errorstats.
		Protocol:                 2,
		DisableIdentity:          true,
		MaintNotificationsConfig: &maintnotifications.Config{Mode: maintnotifications.ModeDisabled},
		// One dial attempt per scrape: the next scrape is the retry, and a
		// down target must not hold a worker for several attempts.
		DialerRetries:         1,
		DialTimeout:           timeout,
		ReadTimeout:           timeout,
		WriteTimeout:          timeout,
		ContextTimeoutEnabled: true,
		// Small buffers: a scrape writes one short command and replies are
		// read into a buffer of their own size anyway; go-redis' 32 KiB
		// defaults would cost 64 KiB per target, 13 MB at 200 targets.
		ReadBufferSize:  4096,
		WriteBufferSize: 512,
		// One connection, kept forever: no dial per scrape.
		PoolSize:        1,
		MaxIdleConns:    1,
		ConnMaxIdleTime: -1,
		ConnMaxLifetime: 0,
		PoolTimeout:     timeout,
		MaxRetries:      -1, // a failed scrape is reported, not retried behind the caller's back
		OnConnect: func(ctx context.Context, cn *redis.Conn) error {
			// A new connection may be to a different server (a restarted pod):
			// learn its version again. Called with c.mu held by Scrape.
			c.version = 0
			c.dialed = true
			c.refused = nil // a new connection may be to another server
			if c.groups != nil {
				c.groups.Reset() // whose SCAN cursors mean nothing
			}
			defer func() { c.connectTime = time.Since(c.scrapeStart) }()
			if extras.PingOnConnect {
				return cn.Ping(ctx).Err()
			}
			return nil
		},
	}
	opts.TLSConfig = t.TLSConfig(tlsConfig)
	c.rdb = redis.NewClient(opts)
	return c
}

// ErrBusy is a server that answers but serves no command: BUSY, a script
// or function running past busy-reply-threshold. For its clients it is as
// slow as the script is long.
var ErrBusy = errors.New("server busy running a script")

// ErrTimeout is a scrape that ran out of time: the context's deadline, or
// the connection's read or dial deadline, whichever fired first.
var ErrTimeout = errors.New("timed out")

func isTimeout(err error) bool {
	var netErr net.Error
	return errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &netErr) && netErr.Timeout())
}

func isBusy(err error) bool {
	var re redis.Error
	return (errors.As(err, &re) && strings.HasPrefix(re.Error(), "BUSY")) || strings.Contains(err.Error(), "BUSY Redis is busy")
}

// Target is the endpoint this client scrapes.
func (c *Client) Target() target.Target { return c.target }

// Scrape sends one INFO command and parses the reply. Errors never contain
// the password.
func (c *Client) Scrape(ctx context.Context) (*Sample, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.dialed = false
	c.scrapeStart, c.connectTime = time.Now(), 0
	args := infoAll
	if c.version >= 7 {
		args = sectionsV7
	}
	start := time.Now()
	text, err := c.rdb.Do(ctx, args...).Text()
	end := time.Now()
	if err != nil {
		switch {
		case isBusy(err):
			return nil, fmt.Errorf("%w: %w", ErrBusy, c.scrubError(err))
		case isTimeout(err):
			return nil, fmt.Errorf("%w: %w", ErrTimeout, c.scrubError(err))
		}
		return nil, c.scrubError(err)
	}
	info, err := redisinfo.Parse(text)
	if err != nil || info.Version() == "" {
		// Something answered, but not like Redis: drop the connection so the
		// next scrape starts from a clean stream.
		_ = c.reset()
		return nil, fmt.Errorf("scrape %s: reply is not a Redis INFO reply", c.target)
	}
	c.version = info.MajorVersion()
	s := &Sample{Info: info, RTT: end.Sub(start), At: end, NewConnection: c.dialed}
	if c.extras.Any() || info.Fields["cluster_enabled"] == "1" || info.Fields["redis_mode"] == "sentinel" {
		c.runExtras(ctx, s)
	}
	return s, nil
}

// ConnectTime is how long the last scrape spent connecting; 0 when it
// used the kept connection (or never got connected).
func (c *Client) ConnectTime() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.connectTime
}

// reset closes the pooled connection; the client stays usable.
func (c *Client) reset() error {
	old := c.rdb
	c.rdb = redis.NewClient(old.Options())
	return old.Close()
}

// Close releases the connections.
func (c *Client) Close() error {
	c.clusterMu.Lock()
	c.closed = true
	if c.cluster != nil {
		_ = c.cluster.Close()
	}
	c.clusterMu.Unlock()
	return c.rdb.Close()
}

// scrubError turns a client error into one safe to log and export: it names
// the target without credentials and, defensively, never echoes the
// password even if a server put it in a reply.
func (c *Client) scrubError(err error) error {
	msg := err.Error()
	if isTimeout(err) {
		msg = "timeout: " + msg
	}
	if pw := c.target.Password; pw != "" {
		msg = strings.ReplaceAll(msg, pw, "xxxxx")
	}
	return fmt.Errorf("scrape %s: %s", c.target, msg)
}
