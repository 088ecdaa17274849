package clusterops

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/redis-autoscaler/redis-autoscaler/exporter/redisinfo"
	"github.com/redis-autoscaler/redis-autoscaler/exporter/redisreply"
	"github.com/redis-autoscaler/redis-autoscaler/scaler/slots"
)

// Migrator moves hash slots between masters.
type Migrator struct {
	// Client returns a client for a node's address (the caller owns and
	// caches them).
	Client func(addr string) *redis.Client
	// User and Password let the source log in to the destination for
	// MIGRATE (AUTH2 / AUTH), when the cluster requires a password.
	User, Password string
	// Batch keys per MIGRATE. Default 100.
	Batch int
	// Timeout of the wait for the destination's replicas after a batch.
	// Default 5s. One MIGRATE's own timeout is derived from the cluster's
	// node timeout (limitsOf).
	Timeout time.Duration
	// Replicas: this many of the destination's replicas must have each
	// batch before the next one moves, and before the slot changes
	// owner. MIGRATE deletes a batch at the source before the
	// destination's replica has it: a destination that dies in that
	// window (well under a millisecond on a healthy link; as long as a
	// replica stalls) takes that one batch with it, and never more, since
	// no batch moves while a replica is behind. 0: no wait.
	Replicas int
	// OnKeys, when set, is told each batch's key count.
	OnKeys func(n int)
	// OnBytes, when set, is told each batch's size: the keys' MEMORY
	// USAGE on the source, read in the same round trip as the MIGRATE.
	OnBytes func(n int64)
}

// MoveSlot moves slot from src to dst with its keys, then makes every
// master in masters agree dst owns it. It is idempotent: run again after
// an interruption (a slot left MIGRATING on src and IMPORTING on dst) it
// finishes the same move, as redis-cli --cluster fix does.
func (m *Migrator) MoveSlot(ctx context.Context, slot int, src, dst Node, masters []Node) error {
	batch := m.Batch
	if batch <= 0 {
		batch = 100
	}
	timeout := m.Timeout
	if timeout <= 0 {
		timeout = 5 * time.Second
	}
	sc, dc := m.Client(src.Addr), m.Client(dst.Addr)
	// dst's replicas, looked up once per slot. A move never leaves keys
	// with fewer copies than they had: dst needs as many replicas as the
	// source has, up to Replicas, before the slot is even opened (a
	// destination with none would hold each batch alone, however the
	// wait after it ended).
	var replicas []string
	need := 0
	if m.Replicas > 0 {
		var srcReplicas []string
		var err error
		if replicas, srcReplicas, err = m.replicasOf(ctx, dc, dst, src); err != nil {
			return fmt.Errorf("slot %d: %w", slot, err)
		}
		if need = min(m.Replicas, len(srcReplicas)); len(replicas) < need {
			return fmt.Errorf("slot %d: %s has %d replicas, %d needed before keys move to it", slot, dst.Addr, len(replicas), need)
		}
	}
	// The destination accepts ASK-redirected commands before the source
	// starts redirecting: IMPORTING first.
	// A move interrupted while the owner was being set everywhere leaves
	// the destination owning the slot and the source still MIGRATING:
	// the keys are all across, only the ownership is left to finish.
	// The destination's CLUSTER INFO rides in the same round trip: it
	// says whether the destination knows the slot's owner (tellOwner).
	pipe := dc.Pipeline()
	importing := pipe.Do(ctx, "CLUSTER", "SETSLOT", slot, "IMPORTING", src.ID)
	info := pipe.ClusterInfo(ctx)
	nodeTimeout := pipe.ConfigGet(ctx, "cluster-node-timeout")
	// Keys of the slot already on the destination: an earlier, failed
	// call moved a batch its replicas may not have yet.
	already := pipe.ClusterCountKeysInSlot(ctx, slot)
	_, _ = pipe.Exec(ctx) // each reply's error is read below
	limits := limitsOf(nodeTimeout)
	if err := importing.Err(); err != nil {
		if !strings.Contains(err.Error(), "already the owner") {
			return fmt.Errorf("slot %d: SETSLOT IMPORTING on %s: %w", slot, dst.Addr, err)
		}
	} else if err := tellOwner(ctx, dc, slot, src, info); err != nil {
		return fmt.Errorf("slot %d: %w", slot, err)
	}
	host, port, err := net.SplitHostPort(dst.Addr)
	if err != nil {
		return fmt.Errorf("destination address %q: %w", dst.Addr, err)
	}
	mctx, cancel := context.WithTimeout(ctx, limits.call)
	err = sc.Do(mctx, "CLUSTER", "SETSLOT", slot, "MIGRATING", dst.ID).Err()
	cancel()
	if err != nil && !strings.Contains(err.Error(), "not the owner") {
		return fmt.Errorf("slot %d: SETSLOT MIGRATING on %s: %w", slot, src.Addr, err)
	}
	// unconfirmed: a batch is on the destination that its replicas have
	// not been seen to hold.
	unconfirmed := already.Err() != nil || already.Val() > 0
	for {
		// Before every batch, the last one (this call's, or one an
		// earlier, failed call moved) is on the destination's replicas:
		// MIGRATE deletes the keys at the source before they are, so a
		// replica that stops acknowledging holds the move at one batch
		// on a single copy, however often the move is retried. The wait
		// before the batch that finds no key covers the last one; a slot
		// with no keys waits for nothing.
		if need > 0 && unconfirmed {
			if err := m.waitReplicas(ctx, dc, dst, replicas, need, timeout); err != nil {
				return fmt.Errorf("slot %d: %w", slot, err)
			}
			unconfirmed = false
		}
		// A source silent for the node timeout is being failed over: a
		// batch does not wait on it longer (the reconcile goes on to
		// finish the move on its replica once promoted).
		bctx, cancel := context.WithTimeout(ctx, limits.call)
		n, err := m.batch(bctx, sc, src, dst, slot, batch, host, port, limits.migrate)
		cancel()
		if err != nil {
			return err
		}
		if n == 0 {
			break
		}
		unconfirmed = true
		if m.OnKeys != nil {
			m.OnKeys(n)
		}
	}
	// Owner everywhere: the destination first (it stops needing ASK), then
	// the source (it stops redirecting with ASK and answers MOVED), then
	// every other master, so the new owner propagates without waiting for
	// the bus.
	order := []Node{dst, src}
	for _, n := range masters {
		if n.ID != dst.ID && n.ID != src.ID {
			order = append(order, n)
		}
	}
	var errs []error
	for i, n := range order {
		err := m.Client(n.Addr).Do(ctx, "CLUSTER", "SETSLOT", slot, "NODE", dst.ID).Err()
		if i > 0 && err != nil && strings.Contains(err.Error(), "only with masters") {
			// A master that gave away its last slot turns itself into a
			// replica of the taker (cluster-allow-replica-migration, on
			// by default): it learns the owner from the bus.
			continue
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("slot %d: SETSLOT NODE on %s: %w", slot, n.Addr, err))
		}
	}
	return errors.Join(errs...)
}

// batch moves up to n of the slot's keys from src to dst; it returns how
// many (0: none left).
func (m *Migrator) batch(ctx context.Context, sc *redis.Client, src, dst Node, slot, n int, host, port string, timeout time.Duration) (int, error) {
	keys, err := sc.ClusterGetKeysInSlot(ctx, slot, n).Result()
	if err != nil {
		return 0, fmt.Errorf("slot %d: GETKEYSINSLOT on %s: %w", slot, src.Addr, err)
	}
	if len(keys) == 0 {
		return 0, nil
	}
	if err := m.migrate(ctx, sc, host, port, keys, timeout, false); err != nil {
		// A key already on the destination: an earlier MIGRATE that
		// was interrupted after the copy. The source's copy is the
		// one clients wrote to since (it owns existing keys while
		// MIGRATING), so it replaces the other, as redis-cli's fix.
		if !strings.Contains(err.Error(), "BUSYKEY") {
			return 0, fmt.Errorf("slot %d: MIGRATE %d keys %s -> %s: %w", slot, len(keys), src.Addr, dst.Addr, err)
		}
		if err := m.migrate(ctx, sc, host, port, keys, timeout, true); err != nil {
			return 0, fmt.Errorf("slot %d: MIGRATE REPLACE %d keys %s -> %s: %w", slot, len(keys), src.Addr, dst.Addr, err)
		}
	}
	return len(keys), nil
}

func (m *Migrator) migrate(ctx context.Context, sc *redis.Client, host, port string, keys []string, timeout time.Duration, replace bool) error {
	args := []any{"MIGRATE", host, port, "", 0, timeout.Milliseconds()}
	if replace {
		args = append(args, "REPLACE")
	}
	switch {
	case m.Password != "" && m.User != "":
		args = append(args, "AUTH2", m.User, m.Password)
	case m.Password != "":
		args = append(args, "AUTH", m.Password)
	}
	args = append(args, "KEYS")
	for _, k := range keys {
		args = append(args, k)
	}
	if m.OnBytes == nil {
		return migrateErr(sc.Do(ctx, args...).Err())
	}
	// MEMORY USAGE runs before the MIGRATE on the same connection: one
	// round trip, the sizes of exactly the keys sent.
	pipe := sc.Pipeline()
	sizes := make([]*redis.IntCmd, len(keys))
	for i, k := range keys {
		sizes[i] = pipe.MemoryUsage(ctx, k, 0)
	}
	mig := pipe.Do(ctx, args...)
	_, _ = pipe.Exec(ctx)
	if err := migrateErr(mig.Err()); err != nil {
		return err
	}
	var n int64
	for _, c := range sizes {
		n += c.Val()
	}
	m.OnBytes(n)
	return nil
}

// moveLimits bound a slot move's work on the source by the cluster's
// node timeout (a source silent that long is failed over).
type moveLimits struct {
	// migrate is one MIGRATE's I/O timeout: a tenth of the node timeout,
	// between 100 ms and 5 s. MIGRATE blocks the source's main thread
	// while it waits on the destination: with Redis' default 5 s against
	// a stalled destination, a few moves in a row from one source (up to
	// maxConcurrent) would get a healthy source replaced. It bounds idle
	// time, not the transfer, so a tenth (1.5 s at Redis' default 15 s)
	// is plenty for a batch.
	migrate time.Duration
	// call bounds one batch (GETKEYSINSLOT and MIGRATE) from the scaler's
	// side: the node timeout.
	call time.Duration
}

// limitsOf derives the limits from CONFIG GET cluster-node-timeout
// (Redis' default 15 s when it cannot be read).
func limitsOf(nodeTimeout *redis.MapStringStringCmd) moveLimits {
	ms, err := strconv.Atoi(nodeTimeout.Val()["cluster-node-timeout"])
	if nodeTimeout.Err() != nil || err != nil || ms <= 0 {
		ms = 15000
	}
	nt := time.Duration(ms) * time.Millisecond
	return moveLimits{migrate: min(max(nt/10, 100*time.Millisecond), 5*time.Second), call: nt}
}

func migrateErr(err error) error {
	if errors.Is(err, redis.Nil) { // NOKEY: the keys went meanwhile
		return nil
	}
	return err
}

// waitReplicas waits until need of dst's replicas have processed
// dst's replication stream up to now (its master_repl_offset). WAIT
// cannot do it: it covers only the writes of the connection it is sent
// on, and the migrated keys arrive on the source's connection. Each
// replica's own processed offset is read (no ACK delay).
func (m *Migrator) waitReplicas(ctx context.Context, dc *redis.Client, dst Node, replicas []string, need int, timeout time.Duration) error {
	target, err := replOffset(ctx, dc, "master_repl_offset")
	if err != nil {
		return fmt.Errorf("INFO replication on %s: %w", dst.Addr, err)
	}
	deadline := time.Now().Add(timeout)
	// Replication on a healthy link takes well under a millisecond:
	// look again soon, then back off.
	pause := 200 * time.Microsecond
	for {
		done := 0
		// A stalled replica's INFO would wait out the client's read
		// timeout: bound it by the wait's own deadline.
		ictx, cancel := context.WithDeadline(ctx, deadline)
		for _, addr := range replicas {
			if off, err := replOffset(ictx, m.Client(addr), "slave_repl_offset"); err == nil && off >= target {
				done++
			}
		}
		cancel()
		if done >= need {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d of %d replicas of %s have the migrated keys", done, need, dst.Addr)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(pause):
		}
		pause = min(2*pause, 5*time.Millisecond)
	}
}

// replicasOf lists the addresses of dst's and src's replicas that are
// not failing, as dst sees them.
func (m *Migrator) replicasOf(ctx context.Context, dc *redis.Client, dst, src Node) (ofDst, ofSrc []string, err error) {
	nodes, err := Nodes(ctx, dc)
	if err != nil {
		return nil, nil, err
	}
	for _, n := range nodes {
		if n.Has("fail") || n.Has("fail?") {
			continue
		}
		switch n.MasterID {
		case dst.ID:
			ofDst = append(ofDst, n.Addr)
		case src.ID:
			ofSrc = append(ofSrc, n.Addr)
		}
	}
	return ofDst, ofSrc, nil
}

func replOffset(ctx context.Context, c *redis.Client, field string) (int64, error) {
	text, err := c.Info(ctx, "replication").Result()
	if err != nil {
		return 0, err
	}
	info, err := redisinfo.Parse(text)
	if err != nil {
		return 0, err
	}
	v, ok := info.Fields[field]
	if !ok {
		return 0, fmt.Errorf("no %s in INFO replication", field)
	}
	return strconv.ParseInt(v, 10, 64)
}

// tellOwner makes sure the importing destination knows src owns slot.
// Redis checks a slot's owner before its import: a destination that knows
// none refuses RESTORE-ASKING and ASK-redirected writes with "CLUSTERDOWN
// Hash slot not served". A node that joined moments ago may not have heard
// the owner yet, and while it imports the slot it ignores the gossip that
// would tell it (cluster.c skips importing slots when it updates its
// table), so the refusal would last the whole move, and every Fix after
// it. The same holds when the owner it knows failed over: a source
// stalled mid-move is replaced by its replica, and the destination,
// deaf to that slot's gossip, counts the slot as served by a failed node,
// so its cluster_state is fail and it refuses the keys with "CLUSTERDOWN
// The cluster is down" until told. SETSLOT NODE on a node that does not
// own the slot only records the owner; the import stays open.
// info is the destination's CLUSTER INFO, read with the IMPORTING.
func tellOwner(ctx context.Context, dc *redis.Client, slot int, src Node, info *redis.StringCmd) error {
	text, err := info.Result()
	if err != nil {
		return fmt.Errorf("CLUSTER INFO on %s: %w", dc.Options().Addr, err)
	}
	if ci := redisreply.ParseClusterInfo(text); ci["cluster_slots_assigned"] == strconv.Itoa(slots.Count) && ci["cluster_state"] == "ok" {
		return nil // it knows a live owner for every slot
	}
	if err := dc.Do(ctx, "CLUSTER", "SETSLOT", slot, "NODE", src.ID).Err(); err != nil {
		return fmt.Errorf("SETSLOT NODE %s (the owner) on %s: %w", src.ID, dc.Options().Addr, err)
	}
	return nil
}
