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
	// Host and Port other pods reach it at (needed only for the old
	// master of a switchover, to undo a promotion).
	Host string
	Port int
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
	// BeforePause, when set, runs right before the old master's writes
	// are paused (tests stall the target there).
	BeforePause func()
	// Proceed, when set, runs before each step that changes a role (the
	// pause, the promotion, each re-pointing): an error stops the
	// switchover there, sending nothing more (the scaler no longer holds
	// the object's Lease: another one manages it now). Before the
	// promotion the pause is lifted; after it, nothing is undone either,
	// and the pause lapses by itself.
	Proceed func(context.Context) error
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

// ErrPauseExpiring: a step after the catch-up was too slow to finish
// before the write pause could lapse; the switchover was undone and writes
// resumed on the old master.
var ErrPauseExpiring = errors.New("switchover steps did not finish before the write pause could lapse")

// Budgets of a switchover. The pause Redis enforces (CLIENT PAUSE's
// timeout) outlasts every step that needs it by pauseMargin, so it cannot
// lapse while the old master may still take writes: catch-up gets
// PauseTimeout, promotion and re-pointing the old master get stepBudget.
const (
	stepBudget  = 1500 * time.Millisecond
	pauseMargin = 1500 * time.Millisecond
)

// Switchover moves the master role from old to target without losing an
// acknowledged write:
//
//  1. CLIENT PAUSE WRITE on old, for PauseTimeout + stepBudget +
//     pauseMargin: it expires by itself, so a scaler that dies here does
//     not block writes for long;
//  2. wait until target's offset equals old's (bounded by PauseTimeout;
//     on timeout CLIENT UNPAUSE and ErrCatchUpTimeout);
//  3. REPLICAOF NO ONE on target;
//  4. REPLICAOF target on old, so it cannot take writes once the pause
//     ends. Steps 3 and 4 must finish within stepBudget, well before the
//     pause lapses; if not, old is unpaused and target is made a replica
//     of old again (in that order: writes wait no longer than needed) and
//     ErrPauseExpiring is returned: old stays master, and target never
//     took a write (no client is routed to it yet);
//  5. REPLICAOF target on every other node;
//  6. CLIENT UNPAUSE on old: clients blocked on a write get READONLY and
//     retry against the new master.
func Switchover(ctx context.Context, old, target Node, targetHost string, targetPort int, others []Node, o SwitchoverOptions) (SwitchoverResult, error) {
	var res SwitchoverResult
	if o.PauseTimeout <= 0 {
		o.PauseTimeout = 2 * time.Second
	}
	if old.Host == "" || old.Port == 0 {
		return res, fmt.Errorf("switchover from %s: its address is needed to undo a promotion", old.Name)
	}
	expiry := o.PauseTimeout + stepBudget + pauseMargin
	// The deadline is taken before the pause is sent: the pause starts no
	// earlier than that on the server, so every step below ends at least
	// pauseMargin before Redis could lift it.
	if o.BeforePause != nil {
		o.BeforePause()
	}
	proceed := func() error {
		if o.Proceed == nil {
			return nil
		}
		return o.Proceed(ctx)
	}
	if err := proceed(); err != nil {
		return res, err
	}
	before := time.Now()
	if err := old.Client.Do(ctx, "CLIENT", "PAUSE", expiry.Milliseconds(), "WRITE").Err(); err != nil {
		return res, fmt.Errorf("CLIENT PAUSE on %s: %w", old.Name, err)
	}
	paused := time.Now()
	stepsDeadline := before.Add(o.PauseTimeout + stepBudget)
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
	// undo makes target follow old again after it was (maybe) promoted:
	// it has exactly old's data, so it resyncs partially.
	undo := func() error {
		uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
		defer cancel()
		if err := Attach(uctx, target.Client, old.Host, old.Port, o.Auth); err != nil {
			return fmt.Errorf("undo: re-attach %s to %s: %w", target.Name, old.Name, err)
		}
		return nil
	}
	offset, err := waitCaughtUp(ctx, old, target, before.Add(o.PauseTimeout))
	if err != nil {
		return res, errors.Join(err, unpause())
	}
	res.Offset = offset
	if err := proceed(); err != nil {
		return res, errors.Join(err, unpause())
	}
	sctx, cancel := context.WithDeadline(ctx, stepsDeadline)
	defer cancel()
	if err := Promote(sctx, target.Client); err != nil {
		return res, errors.Join(fmt.Errorf("promote %s: %w", target.Name, err), unpause(), undo())
	}
	if o.AfterPromote != nil {
		o.AfterPromote()
	}
	if err := proceed(); err != nil {
		return res, fmt.Errorf("after promoting %s: %w", target.Name, err)
	}
	if time.Now().After(stepsDeadline) {
		return res, errors.Join(fmt.Errorf("%w: %s promoted %s after the pause began", ErrPauseExpiring, target.Name,
			time.Since(paused).Round(time.Millisecond)), unpause(), undo())
	}
	if err := Attach(sctx, old.Client, targetHost, targetPort, o.Auth); err != nil {
		// Old was not (or not provably in time) made a replica: undo the
		// promotion so old stays the only master once unpaused. Should
		// the REPLICAOF have landed after all, old and target follow each
		// other and neither takes writes; the next reconcile elects by
		// offset, and both hold the same data.
		if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
			err = fmt.Errorf("%w: %w", ErrPauseExpiring, err)
		}
		return res, errors.Join(fmt.Errorf("re-point old master %s: %w", old.Name, err), unpause(), undo())
	}
	if err := proceed(); err != nil {
		return res, fmt.Errorf("after re-pointing %s: %w", old.Name, err)
	}
	rctx, rcancel := context.WithTimeout(ctx, 2*time.Second)
	defer rcancel()
	for _, n := range others {
		if err := Attach(rctx, n.Client, targetHost, targetPort, o.Auth); err != nil {
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
func waitCaughtUp(parent context.Context, old, target Node, deadline time.Time) (int64, error) {
	readsDeadline := deadline.Add(500 * time.Millisecond)
	ctx, cancel := context.WithDeadline(parent, readsDeadline)
	defer cancel()
	// A read cut short by this deadline (a stalled node) is a catch-up
	// timeout too, not an error of the caller's context.
	timedOut := func(name string, err error) error {
		if time.Now().After(deadline) && parent.Err() == nil {
			return fmt.Errorf("%w: offset of %s: %w", ErrCatchUpTimeout, name, err)
		}
		return fmt.Errorf("offset of %s: %w", name, err)
	}
	for {
		mo, err := Offset(ctx, old.Client)
		if err != nil {
			return 0, timedOut(old.Name, err)
		}
		to, err := Offset(ctx, target.Client)
		if err != nil {
			return 0, timedOut(target.Name, err)
		}
		// Past the deadline the switchover is off even if the target just
		// caught up: writePauseTimeout bounds the pause, and the steps
		// after it are budgeted from there.
		if time.Now().After(deadline) {
			return 0, fmt.Errorf("%w: %s at %d, %s at %d", ErrCatchUpTimeout, target.Name, to, old.Name, mo)
		}
		if to >= mo {
			return mo, nil
		}
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(2 * time.Millisecond):
		}
	}
}
