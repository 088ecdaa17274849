package redisops

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// Node is one Redis of the group, by pod name.
type Node struct {
	Name   string
	Client *redis.Client
}

// SwitchoverOptions bound a switchover.
type SwitchoverOptions struct {
	// PauseTimeout is the longest writes stay paused waiting for the new
	// master to catch up. Default 2s.
	PauseTimeout time.Duration
	// Auth is given to re-pointed replicas as masterauth.
	Auth Auth
	// AfterPromote, when set, runs right after the new master is promoted
	// and before anything is re-pointed (tests interrupt a switchover here).
	AfterPromote func()
}

// SwitchoverResult reports what a switchover did.
type SwitchoverResult struct {
	// WritePause is how long the old master refused writes.
	WritePause time.Duration
	// Offset is the replication offset both agreed on.
	Offset int64
	// RepointErrors are replicas that could not be re-pointed; the next
	// reconcile attaches them.
	RepointErrors map[string]error
}

// ErrCatchUpTimeout: the new master did not reach the old master's offset
// within the pause; writes were resumed on the old master.
var ErrCatchUpTimeout = errors.New("new master did not catch up within the write pause")

// Switchover moves the master role from old to target without losing an
// acknowledged write:
//
//  1. CLIENT PAUSE WRITE on old (it expires by itself a second after
//     PauseTimeout, so a scaler that dies here does not block writes);
//  2. wait until target's offset equals old's (bounded by PauseTimeout;
//     on timeout CLIENT UNPAUSE and ErrCatchUpTimeout);
//  3. REPLICAOF NO ONE on target;
//  4. REPLICAOF target on old first (so it cannot take writes once the
//     pause ends), then on every other node;
//  5. CLIENT UNPAUSE on old: clients blocked on a write get READONLY and
//     retry against the new master.
func Switchover(ctx context.Context, old, target Node, targetHost string, targetPort int, others []Node, o SwitchoverOptions) (SwitchoverResult, error) {
	var res SwitchoverResult
	if o.PauseTimeout <= 0 {
		o.PauseTimeout = 2 * time.Second
	}
	expiry := o.PauseTimeout + time.Second
	if err := old.Client.Do(ctx, "CLIENT", "PAUSE", expiry.Milliseconds(), "WRITE").Err(); err != nil {
		return res, fmt.Errorf("CLIENT PAUSE on %s: %w", old.Name, err)
	}
	paused := time.Now()
	unpause := func() error {
		// A fresh context: the unpause must be sent even when ctx ended.
		uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
		defer cancel()
		err := old.Client.Do(uctx, "CLIENT", "UNPAUSE").Err()
		res.WritePause = time.Since(paused)
		if err != nil {
			return fmt.Errorf("CLIENT UNPAUSE on %s: %w", old.Name, err)
		}
		return nil
	}

	offset, err := waitCaughtUp(ctx, old, target, paused.Add(o.PauseTimeout))
	if err != nil {
		return res, errors.Join(err, unpause())
	}
	res.Offset = offset

	if err := Promote(ctx, target.Client); err != nil {
		return res, errors.Join(fmt.Errorf("promote %s: %w", target.Name, err), unpause())
	}
	if o.AfterPromote != nil {
		o.AfterPromote()
	}
	if err := Attach(ctx, old.Client, targetHost, targetPort, o.Auth); err != nil {
		// Old keeps its other replicas and takes writes again once
		// unpaused; target is a master nobody writes to (no client was
		// routed to it yet). The next reconcile keeps the master with
		// connected replicas and demotes target: nothing acknowledged is lost.
		return res, errors.Join(fmt.Errorf("re-point old master %s: %w", old.Name, err), unpause())
	}
	for _, n := range others {
		if err := Attach(ctx, n.Client, targetHost, targetPort, o.Auth); err != nil {
			if res.RepointErrors == nil {
				res.RepointErrors = map[string]error{}
			}
			res.RepointErrors[n.Name] = err
		}
	}
	return res, unpause()
}

// waitCaughtUp polls both offsets until target has processed everything
// old produced. Writes are paused, so old's offset stops moving (Redis
// also stops pinging replicas during a write pause).
func waitCaughtUp(ctx context.Context, old, target Node, deadline time.Time) (int64, error) {
	for {
		mo, err := Offset(ctx, old.Client)
		if err != nil {
			return 0, fmt.Errorf("offset of %s: %w", old.Name, err)
		}
		to, err := Offset(ctx, target.Client)
		if err != nil {
			return 0, fmt.Errorf("offset of %s: %w", target.Name, err)
		}
		if to >= mo {
			return mo, nil
		}
		if time.Now().After(deadline) {
			return 0, fmt.Errorf("%w: %s at %d, %s at %d", ErrCatchUpTimeout, target.Name, to, old.Name, mo)
		}
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(2 * time.Millisecond):
		}
	}
}
