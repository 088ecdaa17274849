package keycheck

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// groupScript tallies one SCAN batch by key group inside Redis, so key
// names never cross the network: ARGV[1] is the cursor, ARGV[2] SCAN's
// COUNT, the rest are Lua patterns (redis_exporter's --check-key-groups
// syntax). A key's group is the concatenation of the first matching
// pattern's captures; a key no pattern matches is "unclassified". It
// returns {next cursor, keys walked, {{group, keys, bytes}, ...}}.
//
// It is sent with EVAL, not EVALSHA: EVALSHA's first NOSCRIPT reply on
// each server would count in its error stats, which users alert on.
const groupScript = `
local batch = redis.call("SCAN", ARGV[1], "COUNT", ARGV[2])
local tally = {}
for _, key in ipairs(batch[2]) do
  local group = "unclassified"
  for i = 3, #ARGV do
    -- A malformed pattern may only fail on the key that reaches its flaw.
    local found = {pcall(string.find, key, ARGV[i])}
    if not found[1] then
      return redis.error_reply("ERR key group pattern " .. ARGV[i] .. ": " .. tostring(found[2]))
    end
    if found[2] ~= nil then
      group = table.concat(found, "", 4)
      break
    end
  end
  local bytes = redis.pcall("MEMORY", "USAGE", key)
  if type(bytes) ~= "number" then bytes = 0 end
  local t = tally[group]
  if t == nil then
    tally[group] = {1, bytes}
  else
    t[1] = t[1] + 1
    t[2] = t[2] + bytes
  end
end
local out = {}
for group, t in pairs(tally) do
  out[#out + 1] = {group, t[1], t[2]}
end
return {batch[1], #batch[2], out}
`

// KeyGroup is the keys of one key group in one database.
type KeyGroup struct {
	Name   string
	Keys   float64
	Memory float64
}

// GroupResult is the last complete walk of one database by key group.
type GroupResult struct {
	DB int
	// Groups are the MaxDistinct groups using most memory, then an
	// "overflow" group summing the rest when there are more.
	Groups []KeyGroup
	// Distinct is the number of groups found, overflow or not.
	Distinct int
	// Completed is when the walk ended.
	Completed time.Time
}

// GroupWalk walks the keyspace of one target by key group across scrapes.
// Each scrape walks at most a budget of keys and resumes where the last
// one stopped; a database's figures are published when a walk of it
// completes, so they are always whole counts (redis_exporter walks the
// whole keyspace in every scrape instead, which a database of millions of
// keys makes as slow as the walk).
type GroupWalk struct {
	patterns    []any
	maxDistinct int
	batch       int64
	budget      int
	walks       map[int]*dbWalk
	done        map[int]GroupResult
}

type dbWalk struct {
	cursor uint64
	tally  map[string]*KeyGroup
}

// NewGroupWalk walks by the given Lua patterns, keeping maxDistinct groups
// per database (the rest sum up as "overflow"), walking at most budget
// keys per scrape in SCAN batches of batch.
func NewGroupWalk(patterns []string, maxDistinct int, batch int64, budget int) *GroupWalk {
	if batch <= 0 {
		batch = 1000
	}
	if budget <= 0 {
		budget = 10000
	}
	args := make([]any, len(patterns))
	for i, p := range patterns {
		args[i] = p
	}
	return &GroupWalk{patterns: args, maxDistinct: maxDistinct, batch: batch, budget: budget,
		walks: map[int]*dbWalk{}, done: map[int]GroupResult{}}
}

// Reset forgets walks under way and results, for a connection that may be
// to another server.
func (g *GroupWalk) Reset() {
	clear(g.walks)
	clear(g.done)
}

// Step walks the databases dbs (those with keys; the others' results are
// dropped) for at most the budget, on conn, whose database is home (put
// back before returning). It returns the last complete result of each
// database in dbs. A reply error (a bad pattern, EVAL refused) is returned
// as is: the caller stops asking.
func (g *GroupWalk) Step(ctx context.Context, conn *redis.Conn, home int, dbs []int) ([]GroupResult, error) {
	slices.Sort(dbs)
	for db := range g.done {
		if !slices.Contains(dbs, db) {
			delete(g.done, db)
		}
	}
	for db := range g.walks {
		if !slices.Contains(dbs, db) {
			delete(g.walks, db)
		}
	}
	sel := &dbSelector{conn: conn, home: home, current: home}
	defer sel.restore(ctx)
	budget := g.budget
	var err error
	// Databases are walked in turn, starting after the last one a scrape
	// worked on, so a big database 0 cannot starve database 1.
	for _, db := range g.order(dbs) {
		if budget <= 0 {
			break
		}
		if err = sel.use(ctx, db); err != nil {
			break
		}
		if budget, err = g.walk(ctx, conn, db, budget); err != nil {
			break
		}
	}
	out := make([]GroupResult, 0, len(dbs))
	for _, db := range dbs {
		if r, ok := g.done[db]; ok {
			out = append(out, r)
		}
	}
	return out, err
}

// order is dbs with the databases that have a walk under way first, then
// those never walked, then the rest: each gets its turn.
func (g *GroupWalk) order(dbs []int) []int {
	rank := func(db int) int {
		switch _, walking := g.walks[db]; {
		case walking:
			return 0
		case g.done[db].Completed.IsZero():
			return 1
		}
		return 2
	}
	out := slices.Clone(dbs)
	slices.SortStableFunc(out, func(a, b int) int {
		if c := cmp.Compare(rank(a), rank(b)); c != 0 {
			return c
		}
		return cmp.Compare(g.done[a].Completed.UnixNano(), g.done[b].Completed.UnixNano())
	})
	return out
}

// walk advances db's walk by batches until the walk completes or budget
// keys were walked, and returns the budget left.
func (g *GroupWalk) walk(ctx context.Context, conn *redis.Conn, db, budget int) (int, error) {
	w := g.walks[db]
	if w == nil {
		w = &dbWalk{tally: map[string]*KeyGroup{}}
		g.walks[db] = w
	}
	for budget > 0 {
		args := append([]any{strconv.FormatUint(w.cursor, 10), g.batch}, g.patterns...)
		reply, err := conn.Eval(ctx, groupScript, nil, args...).Slice()
		if err != nil {
			return budget, err
		}
		next, walked, groups, err := parseGroupReply(reply)
		if err != nil {
			return budget, err
		}
		budget -= walked
		for _, gr := range groups {
			if t := w.tally[gr.Name]; t != nil {
				t.Keys += gr.Keys
				t.Memory += gr.Memory
			} else {
				w.tally[gr.Name] = &gr
			}
		}
		w.cursor = next
		if next == 0 {
			g.done[db] = g.result(db, w.tally)
			delete(g.walks, db)
			return budget, nil
		}
	}
	return budget, nil
}

// result keeps the maxDistinct groups using most memory (ties: fewer keys,
// then name, as redis_exporter orders them) and sums the rest as
// "overflow".
func (g *GroupWalk) result(db int, tally map[string]*KeyGroup) GroupResult {
	groups := make([]KeyGroup, 0, len(tally))
	for _, t := range tally {
		groups = append(groups, *t)
	}
	r := GroupResult{DB: db, Distinct: len(groups), Completed: time.Now()}
	slices.SortFunc(groups, func(a, b KeyGroup) int {
		if c := cmp.Compare(b.Memory, a.Memory); c != 0 {
			return c
		}
		if c := cmp.Compare(a.Keys, b.Keys); c != 0 {
			return c
		}
		return cmp.Compare(a.Name, b.Name)
	})
	if g.maxDistinct >= 0 && len(groups) > g.maxDistinct {
		over := KeyGroup{Name: "overflow"}
		for _, x := range groups[g.maxDistinct:] {
			over.Keys += x.Keys
			over.Memory += x.Memory
		}
		groups = append(groups[:g.maxDistinct:g.maxDistinct], over)
	}
	r.Groups = groups
	return r
}

// parseGroupReply reads groupScript's {cursor, walked, {{group, keys,
// bytes}, ...}}.
func parseGroupReply(reply []any) (next uint64, walked int, groups []KeyGroup, err error) {
	bad := errors.New("key groups: unexpected reply from the script")
	if len(reply) != 3 {
		return 0, 0, nil, bad
	}
	cursor, ok := reply[0].(string)
	if !ok {
		return 0, 0, nil, bad
	}
	if next, err = strconv.ParseUint(cursor, 10, 64); err != nil {
		return 0, 0, nil, fmt.Errorf("key groups: cursor %q: %w", cursor, err)
	}
	n, ok := reply[1].(int64)
	if !ok {
		return 0, 0, nil, bad
	}
	list, ok := reply[2].([]any)
	if !ok {
		return 0, 0, nil, bad
	}
	for _, item := range list {
		fields, ok := item.([]any)
		if !ok || len(fields) != 3 {
			return 0, 0, nil, bad
		}
		name, ok1 := fields[0].(string)
		keys, ok2 := fields[1].(int64)
		bytes, ok3 := fields[2].(int64)
		if !ok1 || !ok2 || !ok3 {
			return 0, 0, nil, bad
		}
		groups = append(groups, KeyGroup{Name: name, Keys: float64(keys), Memory: float64(bytes)})
	}
	return next, int(n), groups, nil
}
