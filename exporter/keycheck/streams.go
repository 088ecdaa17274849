package keycheck

import (
	"context"
	"slices"
	"strconv"
	"strings"

	"github.com/redis/go-redis/v9"
)

// Stream is what XINFO STREAM, XINFO GROUPS and XINFO CONSUMERS tell of
// one stream (--check-streams, --check-single-streams).
type Stream struct {
	DB   int
	Name string
	Info redis.XInfoStream
	// Groups with their consumers (none with NoConsumerMetrics).
	Groups []Group
}

// Group is a consumer group of a stream.
type Group struct {
	redis.XInfoGroup
	Consumers []redis.XInfoConsumer
}

// StreamID turns a stream ID ("1700000000000-0") into its milliseconds,
// as redis_exporter exports IDs; 0 for an empty or unparsable ID.
func StreamID(id string) float64 {
	ms, _, _ := strings.Cut(strings.TrimSpace(id), "-")
	v, err := strconv.ParseFloat(ms, 64)
	if err != nil {
		return 0
	}
	return v
}

// streams reads the streams of one database: patterns are SCANned for
// keys of type stream (within the budget), then XINFO STREAM and XINFO
// GROUPS go in one pipeline and XINFO CONSUMERS in a second.
func streams(ctx context.Context, conn *redis.Conn, keys Reader, db int, spec Spec, budget *int, res *Result) ([]Stream, error) {
	var names []string
	for _, p := range spec.StreamPatterns {
		if p.DB != db {
			continue
		}
		found, err := scan(ctx, conn, p.Key, "stream", spec.BatchSize, budget, res)
		if err != nil {
			return nil, err
		}
		names = append(names, found...)
	}
	for _, s := range spec.StreamSingles {
		if s.DB == db {
			names = append(names, s.Key)
		}
	}
	slices.Sort(names)
	names = slices.Compact(names)
	if len(names) == 0 {
		return nil, nil
	}
	pipe := keys.Pipeline()
	infos := make([]*redis.XInfoStreamCmd, len(names))
	groups := make([]*redis.XInfoGroupsCmd, len(names))
	for i, n := range names {
		infos[i] = pipe.XInfoStream(ctx, n)
		groups[i] = pipe.XInfoGroups(ctx, n)
	}
	if _, err := pipe.Exec(ctx); err != nil && !isReplyError(err) {
		return nil, err
	}
	var out []Stream
	pipe = keys.Pipeline()
	consumers := map[[2]int]*redis.XInfoConsumersCmd{}
	for i, n := range names {
		info, err := infos[i].Result()
		if err != nil {
			continue // gone, or not a stream
		}
		st := Stream{DB: db, Name: n, Info: *info}
		gs, _ := groups[i].Result()
		for j, g := range gs {
			st.Groups = append(st.Groups, Group{XInfoGroup: g})
			if !spec.NoConsumerMetrics {
				consumers[[2]int{len(out), j}] = pipe.XInfoConsumers(ctx, n, g.Name)
			}
		}
		out = append(out, st)
	}
	if pipe.Len() > 0 {
		if _, err := pipe.Exec(ctx); err != nil && !isReplyError(err) {
			return out, err
		}
	}
	for k, cmd := range consumers {
		if cs, err := cmd.Result(); err == nil {
			out[k[0]].Groups[k[1]].Consumers = cs
		}
	}
	return out, nil
}
