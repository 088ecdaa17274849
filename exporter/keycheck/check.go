package keycheck

import (
	"context"
	"errors"
	"slices"
	"strconv"

	"github.com/redis/go-redis/v9"
)

// Key is what was found about one key.
type Key struct {
	DB   int
	Name string
	Type string
	// Size is the length: STRLEN, LLEN, SCARD, ZCARD, HLEN or XLEN.
	Size float64
	// Value is a string key's value as a number (HasValue), else String.
	Value    float64
	HasValue bool
	String   string
	// Memory is MEMORY USAGE in bytes (HasMemory when known).
	Memory    float64
	HasMemory bool
}

// Count is how many keys match a --count-keys pattern.
type Count struct {
	DB      int
	Pattern string
	Count   float64
}

// Result of one check of one target.
type Result struct {
	Keys    []Key
	Counts  []Count
	Streams []Stream
	// Exhausted is true when the budget stopped a SCAN early.
	Exhausted bool
}

// Reader sends the commands that read named keys (TYPE, MEMORY USAGE,
// sizes, XINFO): the connection itself, or a *redis.ClusterClient that
// sends each to the node owning the key (--is-cluster).
type Reader interface {
	Pipeline() redis.Pipeliner
}

// Run checks spec over conn, a connection of its own (SELECT changes its
// database; it is put back to home before returning). SCAN runs on conn;
// named keys are read through keys (conn when nil). Errors of single keys
// leave those keys out; an error that breaks the connection is returned
// with what was found so far.
func Run(ctx context.Context, conn *redis.Conn, keys Reader, home int, spec Spec) (*Result, error) {
	if keys == nil {
		keys = conn
	}
	spec = spec.withDefaults()
	res := &Result{}
	budget := spec.Budget
	dbs := map[int]bool{}
	for _, list := range [][]DBKey{spec.Patterns, spec.Singles, spec.Counts, spec.StreamPatterns, spec.StreamSingles} {
		for _, k := range list {
			dbs[k.DB] = true
		}
	}
	order := make([]int, 0, len(dbs))
	for db := range dbs {
		order = append(order, db)
	}
	slices.Sort(order)
	sel := &dbSelector{conn: conn, home: home, current: home}
	defer sel.restore(ctx)
	for _, db := range order {
		if err := sel.use(ctx, db); err != nil {
			return res, err
		}
		var names []string
		for _, p := range spec.Patterns {
			if p.DB == db {
				found, err := scan(ctx, conn, p.Key, "", spec.BatchSize, &budget, res)
				if err != nil {
					return res, err
				}
				names = append(names, found...)
			}
		}
		for _, s := range spec.Singles {
			if s.DB == db {
				names = append(names, s.Key)
			}
		}
		slices.Sort(names)
		names = slices.Compact(names)
		found, err := describe(ctx, keys, db, names, spec.NoValues)
		if err != nil {
			return res, err
		}
		res.Keys = append(res.Keys, found...)
		for _, c := range spec.Counts {
			if c.DB == db {
				found, err := scan(ctx, conn, c.Key, "", spec.BatchSize, &budget, res)
				if err != nil {
					return res, err
				}
				res.Counts = append(res.Counts, Count{DB: db, Pattern: c.Key, Count: float64(len(found))})
			}
		}
		sts, err := streams(ctx, conn, keys, db, spec, &budget, res)
		res.Streams = append(res.Streams, sts...)
		if err != nil {
			return res, err
		}
	}
	return res, nil
}

// dbSelector moves a connection between databases, with SELECT only when
// the database changes, and back to its own (home) when done.
type dbSelector struct {
	conn          *redis.Conn
	home, current int
}

func (s *dbSelector) use(ctx context.Context, db int) error {
	if db == s.current {
		return nil
	}
	if err := s.conn.Select(ctx, db).Err(); err != nil {
		return err
	}
	s.current = db
	return nil
}

func (s *dbSelector) restore(ctx context.Context) {
	if s.current != s.home {
		_ = s.conn.Select(ctx, s.home).Err()
	}
}

// scan walks SCAN MATCH pattern (TYPE typ unless empty) until done or
// the budget is spent.
func scan(ctx context.Context, conn *redis.Conn, pattern, typ string, batch int64, budget *int, res *Result) ([]string, error) {
	var out []string
	var cursor uint64
	for {
		if *budget <= 0 {
			res.Exhausted = true
			return out, nil
		}
		var cmd *redis.ScanCmd
		if typ == "" {
			cmd = conn.Scan(ctx, cursor, pattern, batch)
		} else {
			cmd = conn.ScanType(ctx, cursor, pattern, batch, typ)
		}
		keys, next, err := cmd.Result()
		if err != nil {
			return out, err
		}
		if len(keys) > *budget {
			keys = keys[:*budget]
			res.Exhausted = true
		}
		*budget -= len(keys)
		out = append(out, keys...)
		if next == 0 {
			return out, nil
		}
		cursor = next
	}
}

// describe reads type and memory of names in one pipeline, then their
// size (and string values) in a second.
func describe(ctx context.Context, conn Reader, db int, names []string, noValues bool) ([]Key, error) {
	if len(names) == 0 {
		return nil, nil
	}
	pipe := conn.Pipeline()
	types := make([]*redis.StatusCmd, len(names))
	mems := make([]*redis.IntCmd, len(names))
	for i, n := range names {
		types[i] = pipe.Type(ctx, n)
		mems[i] = pipe.MemoryUsage(ctx, n)
	}
	if _, err := pipe.Exec(ctx); err != nil && !isReplyError(err) {
		return nil, err
	}
	pipe = conn.Pipeline()
	sizes := make([]*redis.IntCmd, len(names))
	values := make([]*redis.StringCmd, len(names))
	keys := make([]Key, len(names))
	for i, n := range names {
		keys[i] = Key{DB: db, Name: n, Type: types[i].Val()}
		if m, err := mems[i].Result(); err == nil {
			keys[i].Memory, keys[i].HasMemory = float64(m), true
		}
		switch keys[i].Type {
		case "string":
			sizes[i] = pipe.StrLen(ctx, n)
			if !noValues {
				values[i] = pipe.Get(ctx, n)
			}
		case "list":
			sizes[i] = pipe.LLen(ctx, n)
		case "set":
			sizes[i] = pipe.SCard(ctx, n)
		case "zset":
			sizes[i] = pipe.ZCard(ctx, n)
		case "hash":
			sizes[i] = pipe.HLen(ctx, n)
		case "stream":
			sizes[i] = pipe.XLen(ctx, n)
		}
	}
	if pipe.Len() > 0 {
		if _, err := pipe.Exec(ctx); err != nil && !isReplyError(err) {
			return nil, err
		}
	}
	out := keys[:0]
	for i, k := range keys {
		if sizes[i] == nil { // "none" (gone since SCAN) or a type without a size
			continue
		}
		size, err := sizes[i].Result()
		if err != nil {
			continue
		}
		k.Size = float64(size)
		if values[i] != nil {
			if v, err := values[i].Result(); err == nil {
				if f, err := strconv.ParseFloat(v, 64); err == nil {
					k.Value, k.HasValue = f, true
				} else {
					k.String = v
				}
			}
		}
		out = append(out, k)
	}
	return out, nil
}

// isReplyError: a server error reply for one command (a key of another
// type, MEMORY refused), not a broken connection.
func isReplyError(err error) bool {
	var re redis.Error
	return errors.As(err, &re)
}
