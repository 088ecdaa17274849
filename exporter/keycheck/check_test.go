package keycheck

import (
	"context"
	"fmt"
	"testing"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/redis-autoscaler/redis-autoscaler/test/redistest"
)

// Against a real Redis: every type's size, numeric and string values,
// memory, counts, in two databases, and the connection back in its own.
func TestRun(t *testing.T) {
	s := redistest.Start(t)
	rc := s.Client(t)
	ctx := context.Background()
	require.NoError(t, rc.Set(ctx, "num", "42.5", 0).Err())
	require.NoError(t, rc.Set(ctx, "str", "hello", 0).Err())
	require.NoError(t, rc.RPush(ctx, "queue:a", 1, 2, 3).Err())
	require.NoError(t, rc.RPush(ctx, "queue:b", 1).Err())
	require.NoError(t, rc.SAdd(ctx, "set", "x", "y").Err())
	require.NoError(t, rc.HSet(ctx, "hash", "f", "v").Err())
	require.NoError(t, rc.XAdd(ctx, &redis.XAddArgs{Stream: "stream", Values: map[string]any{"f": "v"}}).Err())
	require.NoError(t, rc.Do(ctx, "SELECT", 2).Err())
	for i := range 30 {
		require.NoError(t, rc.Set(ctx, fmt.Sprintf("session:%d", i), "x", 0).Err())
	}
	require.NoError(t, rc.Do(ctx, "SELECT", 0).Err())

	conn := s.Client(t).Conn()
	defer conn.Close()
	res, err := Run(ctx, conn, nil, 0, Spec{
		Patterns:  []DBKey{{0, "queue:*"}},
		Singles:   []DBKey{{0, "num"}, {0, "str"}, {0, "set"}, {0, "hash"}, {0, "stream"}, {0, "missing"}},
		Counts:    []DBKey{{2, "session:*"}, {0, "nothing:*"}},
		BatchSize: 7,
	})
	require.NoError(t, err)
	got := map[string]Key{}
	for _, k := range res.Keys {
		got[k.Name] = k
	}
	assert.Len(t, got, 7, "missing is left out")
	assert.Equal(t, 3.0, got["queue:a"].Size)
	assert.Equal(t, 1.0, got["queue:b"].Size)
	assert.True(t, got["num"].HasValue)
	assert.Equal(t, 42.5, got["num"].Value)
	assert.Equal(t, "hello", got["str"].String)
	assert.Equal(t, 5.0, got["str"].Size)
	assert.Equal(t, 2.0, got["set"].Size)
	assert.Equal(t, 1.0, got["hash"].Size)
	assert.Equal(t, 1.0, got["stream"].Size)
	assert.True(t, got["queue:a"].HasMemory)
	assert.Equal(t, []Count{{0, "nothing:*", 0}, {2, "session:*", 30}}, res.Counts, "by database")
	assert.False(t, res.Exhausted)
	n, err := conn.DBSize(ctx).Result()
	require.NoError(t, err)
	assert.EqualValues(t, 7, n, "the connection is back in db 0")

	// The budget stops SCAN: 30 keys, budget 10.
	res, err = Run(ctx, conn, nil, 0, Spec{Counts: []DBKey{{2, "session:*"}}, Budget: 10, BatchSize: 4})
	require.NoError(t, err)
	assert.True(t, res.Exhausted)
	assert.LessOrEqual(t, res.Counts[0].Count, 10.0)
}
