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

func groupsByName(r GroupResult) map[string]KeyGroup {
	out := map[string]KeyGroup{}
	for _, g := range r.Groups {
		out[g.Name] = g
	}
	return out
}

// Against a real Redis: keys are grouped by the first Lua pattern that
// matches (its captures name the group), in every database with keys; a
// walk bigger than the budget spans scrapes and publishes whole counts
// only; groups beyond the limit sum up as "overflow".
func TestGroupWalk(t *testing.T) {
	s := redistest.Start(t)
	rc := s.Client(t)
	ctx := context.Background()
	for i := range 60 {
		require.NoError(t, rc.Set(ctx, fmt.Sprintf("user:%d", i), "x", 0).Err())
	}
	for i := range 25 {
		require.NoError(t, rc.RPush(ctx, fmt.Sprintf("queue:%d:job%d", i%5, i), "a-longer-value-than-a-user", i).Err())
	}
	require.NoError(t, rc.Set(ctx, "lonely", "x", 0).Err())
	rc1 := redis.NewClient(&redis.Options{Addr: s.HostPort(), DB: 1})
	defer rc1.Close()
	require.NoError(t, rc1.Set(ctx, "user:1", "x", 0).Err())

	conn := s.Client(t).Conn()
	defer conn.Close()
	patterns := []string{`^(user):`, `^(queue):(%d+)`}
	w := NewGroupWalk(patterns, 100, 10, 1000)
	res, err := w.Step(ctx, conn, 0, []int{0, 1})
	require.NoError(t, err)
	require.Len(t, res, 2)
	g := groupsByName(res[0])
	assert.Equal(t, 0, res[0].DB)
	assert.Equal(t, 60.0, g["user"].Keys)
	assert.Greater(t, g["user"].Memory, 60.0, "MEMORY USAGE summed")
	for i := range 5 {
		assert.Equal(t, 5.0, g[fmt.Sprintf("queue%d", i)].Keys, "captures are concatenated")
	}
	assert.Equal(t, 1.0, g["unclassified"].Keys)
	assert.Equal(t, 7, res[0].Distinct)
	assert.Equal(t, 1, res[1].DB)
	assert.Equal(t, 1.0, groupsByName(res[1])["user"].Keys)
	n, err := conn.DBSize(ctx).Result()
	require.NoError(t, err)
	assert.EqualValues(t, 86, n, "the connection is back in db 0")

	// A budget of 20 keys: 86 keys take several scrapes, and until the walk
	// completes nothing partial is published.
	w = NewGroupWalk(patterns, 2, 10, 20)
	res, err = w.Step(ctx, conn, 0, []int{0})
	require.NoError(t, err)
	assert.Empty(t, res, "no partial counts")
	for i := 0; len(res) == 0; i++ {
		require.Less(t, i, 20, "the walk never completed")
		res, err = w.Step(ctx, conn, 0, []int{0})
		require.NoError(t, err)
	}
	g = groupsByName(res[0])
	assert.Len(t, res[0].Groups, 3, "2 groups and overflow")
	assert.Equal(t, 7, res[0].Distinct)
	total := 0.0
	for _, x := range res[0].Groups {
		total += x.Keys
	}
	assert.Equal(t, 86.0, total, "every key counted once over the scrapes")
	assert.Contains(t, g, "overflow")
	assert.Contains(t, g, "user", "the group using most memory is kept")

	// A database that lost its keys loses its result.
	res, err = w.Step(ctx, conn, 0, []int{1})
	require.NoError(t, err)
	require.Len(t, res, 1)
	assert.Equal(t, 1, res[0].DB)

	// A bad Lua pattern is a reply error, and the server is unchanged.
	_, err = NewGroupWalk([]string{`^(user`}, 100, 10, 100).Step(ctx, conn, 0, []int{0})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "key group pattern")
	assert.True(t, isReplyError(err))
}
