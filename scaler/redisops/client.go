// Package redisops sends the scaler's Redis commands: observe a pod (one
// INFO), attach a replica (REPLICAOF), promote, switch over with paused
// writes, and the Sentinel equivalents. Every function takes go-redis
// clients the caller owns, so connections are kept between reconciles.
package redisops

import (
	"crypto/tls"
	"net"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// Auth is how replicas log in to their master (masteruser/masterauth) and
// how the scaler logs in. Never logged.
type Auth struct {
	Username string
	Password string
}

// ClientOptions are go-redis options for one Redis of the group: RESP2 and
// no CLIENT SETINFO, so any Redis version answers; short timeouts because a
// reconcile must not hang on one pod.
func ClientOptions(host string, port int, auth Auth, tlsConfig *tls.Config) *redis.Options {
	return &redis.Options{
		Addr:            net.JoinHostPort(host, strconv.Itoa(port)),
		Username:        auth.Username,
		Password:        auth.Password,
		TLSConfig:       tlsConfig,
		Protocol:        2,
		DisableIdentity: true,
		DialTimeout:     time.Second,
		ReadTimeout:     2 * time.Second,
		WriteTimeout:    2 * time.Second,
		MaxRetries:      -1,
		// Context deadlines bound socket reads and writes (go-redis
		// ignores them otherwise and waits ReadTimeout): a switchover's
		// steps must end before its write pause can lapse.
		ContextTimeoutEnabled: true,
		PoolSize:              2,
		MinIdleConns:          0,
	}
}
