package external

import (
	"context"
	"encoding/hex"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/custom-metrics-apiserver/pkg/provider"

	"github.com/redis-autoscaler/redis-autoscaler/exporter/target"
	"github.com/redis-autoscaler/redis-autoscaler/test/redistest"
)

// noKube resolves nothing: these tests name Redis by host and port.
type noKube struct{}

func (noKube) GroupMaster(context.Context, string, string) (target.Target, error) {
	return target.Target{}, apierrors.NewNotFound(groupsResource.GroupResource(), "x")
}
func (noKube) Pod(context.Context, string, string) (target.Target, error) {
	return target.Target{}, apierrors.NewNotFound(groupsResource.GroupResource(), "x")
}

func TestParseSelector(t *testing.T) {
	for _, tc := range []struct {
		metric, sel, err string
	}{
		{ListLength, "host=10.0.0.1,key=jobs", ""},
		{ListLength, "pod=cache-0,key_hex=" + hex.EncodeToString([]byte("queue:jobs")), ""},
		{GroupLag, "redisreplicationgroup=cache,key=events,group=workers", ""},
		{ListLength, "key=jobs", "name the Redis"},
		{ListLength, "host=a,pod=b,key=jobs", "only one of"},
		{ListLength, "pod=b,port=6380,key=jobs", "port goes with host"},
		{ListLength, "host=a", "name the key"},
		{GroupLag, "host=a,key=events", "consumer group"},
		{ListLength, "host=a,key=jobs,colour=blue", "unknown label"},
		{ListLength, "host=a,key!=jobs", "only key=value"},
		{ListLength, "host=a,key_hex=zz", "not hexadecimal"},
	} {
		t.Run(tc.sel, func(t *testing.T) {
			sel, err := labels.Parse(tc.sel)
			require.NoError(t, err)
			q, err := parse(tc.metric, sel)
			if tc.err != "" {
				assert.ErrorContains(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			assert.NotEmpty(t, q.key)
		})
	}
	sel, _ := labels.Parse("host=a,key_hex=" + hex.EncodeToString([]byte("queue:jobs")))
	q, err := parse(ListLength, sel)
	require.NoError(t, err)
	assert.Equal(t, "queue:jobs", q.key)
}

// Against a real Redis with a password: list and stream lengths, a
// consumer group's lag, 0 for a key that does not exist, clear errors for
// a wrong type and a missing group, a Redis that is down, and the cache
// (one read per key and interval).
func TestValuesFromRedis(t *testing.T) {
	s := redistest.StartWith(t, redistest.Options{Password: "q-pw"})
	rc := s.Client(t)
	ctx := context.Background()
	require.NoError(t, rc.RPush(ctx, "queue:jobs", 1, 2, 3).Err())
	require.NoError(t, rc.HSet(ctx, "a-hash", "f", "v").Err())
	for range 5 {
		require.NoError(t, rc.XAdd(ctx, &redis.XAddArgs{Stream: "events", Values: []any{"k", "v"}}).Err())
	}
	require.NoError(t, rc.XGroupCreate(ctx, "events", "workers", "0").Err())
	require.NoError(t, rc.XReadGroup(ctx, &redis.XReadGroupArgs{Group: "workers", Consumer: "w1", Streams: []string{"events", ">"}, Count: 2}).Err())

	p := New(Options{Resolve: noKube{}, Credentials: target.Credentials{Password: "q-pw"}, Interval: 300 * time.Millisecond})
	defer p.Close()
	get := func(metric, sel string) (float64, error) {
		ls, err := labels.Parse(sel)
		require.NoError(t, err)
		l, err := p.GetExternalMetric(ctx, "ns", ls, provider.ExternalMetricInfo{Metric: metric})
		if err != nil {
			return 0, err
		}
		require.Len(t, l.Items, 1)
		assert.Equal(t, metric, l.Items[0].MetricName)
		return float64(l.Items[0].Value.Value()), nil
	}
	at := "host=127.0.0.1,port=" + itoa(s.Port) + ","
	jobs := "key_hex=" + hex.EncodeToString([]byte("queue:jobs"))
	v, err := get(ListLength, at+jobs)
	require.NoError(t, err)
	assert.Equal(t, 3.0, v)
	v, err = get(ListLength, at+"key=nothing-here")
	require.NoError(t, err)
	assert.Zero(t, v, "a key that does not exist is an empty queue")
	v, err = get(StreamLength, at+"key=events")
	require.NoError(t, err)
	assert.Equal(t, 5.0, v)
	v, err = get(GroupLag, at+"key=events,group=workers")
	require.NoError(t, err)
	assert.Equal(t, 3.0, v, "5 entries, 2 delivered to the group")

	_, err = get(ListLength, at+"key=a-hash")
	require.Error(t, err)
	assert.True(t, apierrors.IsBadRequest(err))
	assert.Contains(t, err.Error(), `"a-hash" is a hash, not a list`)
	_, err = get(GroupLag, at+"key=events,group=nobody")
	assert.ErrorContains(t, err, `no consumer group "nobody"`)
	_, err = get("redis_something_else", at+"key=x")
	assert.True(t, apierrors.IsNotFound(err))

	// Cached for an interval: a push is seen after it, not before.
	require.NoError(t, rc.RPush(ctx, "queue:jobs", 4).Err())
	v, _ = get(ListLength, at+jobs)
	assert.Equal(t, 3.0, v, "from the cache")
	time.Sleep(350 * time.Millisecond)
	v, _ = get(ListLength, at+jobs)
	assert.Equal(t, 4.0, v)

	// A Redis that is down: unavailable, and the password is not echoed.
	down, err := redistest.FreePort()
	require.NoError(t, err)
	_, err = get(ListLength, "host=127.0.0.1,port="+itoa(down)+",key=jobs")
	require.Error(t, err)
	assert.True(t, apierrors.IsServiceUnavailable(err), "%v", err)
	assert.NotContains(t, err.Error(), "q-pw")
}

func itoa(n int) string { return strconv.Itoa(n) }
