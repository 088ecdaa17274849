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
	// Timeout of one MIGRATE on the Redis side. Default 5s.
	Timeout time.Duration
	// Replicas: after each batch, this many of the destination's replicas
	// must have the keys before the move goes on, so a destination that
	// dies right after a batch does not take the only copy with it (the
	// window left is one batch). 0: no wait.
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
	_, _ = pipe.Exec(ctx) // each reply's error is read below
	if err := importing.Err(); err != nil {
		if !strings.Contains(err.Error(), "already the owner") {
			return fmt.Errorf("slot %d: SETSLOT IMPORTING on %s: %w", slot, dst.Addr, err)
		}
	} else if err := tellOwner(ctx, dc, slot, src, info); err != nil {
		return fmt.Errorf("slot %d: %w", slot, err)
	}
	if err := sc.Do(ctx, "CLUSTER", "SETSLOT", slot, "MIGRATING", dst.ID).Err(); err != nil && !strings.Contains(err.Error(), "not the owner") {
		return fmt.Errorf("slot %d: SETSLOT MIGRATING on %s: %w", slot, src.Addr, err)
	}
	host, port, err := net.SplitHostPort(dst.Addr)
	if err != nil {
		return fmt.Errorf("destination address %q: %w", dst.Addr, err)
	}
	var replicas []string // dst's replicas, looked up once per slot
	if m.Replicas > 0 {
		if replicas, err = m.replicasOf(ctx, dc, dst); err != nil {
			return fmt.Errorf("slot %d: %w", slot, err)
		}
	}
	for {
		keys, err := sc.ClusterGetKeysInSlot(ctx, slot, batch).Result()
		if err != nil {
			return fmt.Errorf("slot %d: GETKEYSINSLOT on %s: %w", slot, src.Addr, err)
		}
		if len(keys) == 0 {
			break
		}
		if err := m.migrate(ctx, sc, host, port, keys, timeout, false); err != nil {
			// A key already on the destination: an earlier MIGRATE that
			// was interrupted after the copy. The source's copy is the
			// one clients wrote to since (it owns existing keys while
			// MIGRATING), so it replaces the other, as redis-cli's fix.
			if !strings.Contains(err.Error(), "BUSYKEY") {
				return fmt.Errorf("slot %d: MIGRATE %d keys %s -> %s: %w", slot, len(keys), src.Addr, dst.Addr, err)
			}
			if err := m.migrate(ctx, sc, host, port, keys, timeout, true); err != nil {
				return fmt.Errorf("slot %d: MIGRATE REPLACE %d keys %s -> %s: %w", slot, len(keys), src.Addr, dst.Addr, err)
			}
		}
		if m.Replicas > 0 {
			if err := m.waitReplicas(ctx, dc, dst, replicas, timeout); err != nil {
				return fmt.Errorf("slot %d: %w", slot, err)
			}
		}
		if m.OnKeys != nil {
			m.OnKeys(len(keys))
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

func migrateErr(err error) error {
	if errors.Is(err, redis.Nil) { // NOKEY: the keys went meanwhile
		return nil
	}
	return err
}

// waitReplicas waits until Replicas of dst's replicas have processed
// dst's replication stream up to now (its master_repl_offset). WAIT
// cannot do it: it covers only the writes of the connection it is sent
// on, and the migrated keys arrive on the source's connection. Each
// replica's own processed offset is read (no ACK delay).
func (m *Migrator) waitReplicas(ctx context.Context, dc *redis.Client, dst Node, replicas []string, timeout time.Duration) error {
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
		for _, addr := range replicas {
			if off, err := replOffset(ctx, m.Client(addr), "slave_repl_offset"); err == nil && off >= target {
				done++
			}
		}
		if done >= m.Replicas {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d of %d replicas of %s have the migrated keys", done, m.Replicas, dst.Addr)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(pause):
		}
		pause = min(2*pause, 5*time.Millisecond)
	}
}

// replicasOf lists the addresses of dst's replicas that are not failing,
// as dst sees them.
func (m *Migrator) replicasOf(ctx context.Context, dc *redis.Client, dst Node) ([]string, error) {
	nodes, err := Nodes(ctx, dc)
	if err != nil {
		return nil, err
	}
	var replicas []string
	for _, n := range nodes {
		if n.MasterID == dst.ID && !n.Has("fail") && !n.Has("fail?") {
			replicas = append(replicas, n.Addr)
		}
	}
	return replicas, nil
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
// it. SETSLOT NODE on a node that does not own the slot only records the
// owner; the import stays open.
// info is the destination's CLUSTER INFO, read with the IMPORTING.
func tellOwner(ctx context.Context, dc *redis.Client, slot int, src Node, info *redis.StringCmd) error {
	text, err := info.Result()
	if err != nil {
		return fmt.Errorf("CLUSTER INFO on %s: %w", dc.Options().Addr, err)
	}
	if redisreply.ParseClusterInfo(text)["cluster_slots_assigned"] == strconv.Itoa(slots.Count) {
		return nil // it knows an owner for every slot
	}
	if err := dc.Do(ctx, "CLUSTER", "SETSLOT", slot, "NODE", src.ID).Err(); err != nil {
		return fmt.Errorf("SETSLOT NODE %s (the owner) on %s: %w", src.ID, dc.Options().Addr, err)
	}
	return nil
}
