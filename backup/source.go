package backup

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/redis-autoscaler/redis-autoscaler/scaler/redisops"
)

// Endpoint is one Redis to back up from or restore into, with its login.
type Endpoint struct {
	Host string
	Port int
	Auth redisops.Auth
	// TLS, when not nil, is the client configuration (ServerName set).
	TLS *tls.Config
	// Label names the endpoint in output and the sidecar: an address with
	// no credentials, or namespace/pod.
	Label string
}

// Addr is host:port.
func (e Endpoint) Addr() string { return net.JoinHostPort(e.Host, strconv.Itoa(e.Port)) }

// dial opens a raw connection (TLS when configured), as a replica would.
func (e Endpoint) dial(ctx context.Context, timeout time.Duration) (net.Conn, error) {
	d := net.Dialer{Timeout: timeout}
	conn, err := d.DialContext(ctx, "tcp", e.Addr())
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", e.Label, err)
	}
	if e.TLS == nil {
		return conn, nil
	}
	cfg := e.TLS
	if cfg.ServerName == "" && !cfg.InsecureSkipVerify {
		cfg = cfg.Clone()
		cfg.ServerName = e.Host
	}
	tc := tls.Client(conn, cfg)
	hctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if err := tc.HandshakeContext(hctx); err != nil {
		conn.Close()
		return nil, fmt.Errorf("TLS to %s: %w", e.Label, err)
	}
	return tc, nil
}

// client is a go-redis client for commands (INFO, REPLICAOF, checks).
func (e Endpoint) client() *redis.Client {
	o := redisops.ClientOptions(e.Host, e.Port, e.Auth, e.TLS)
	o.ReadTimeout = 10 * time.Second
	return redis.NewClient(o)
}
