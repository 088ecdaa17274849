package collector

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/redis-autoscaler/redis-autoscaler/test/redistest"
)

// Error prefixes are chosen by whoever runs a script: beyond the limit
// they are summed into err="other", and nothing is lost from the total.
func TestLabelValuesAreBounded(t *testing.T) {
	s := redistest.Start(t)
	rc := s.Client(t)
	ctx := context.Background()
	for i := range 10 {
		err := rc.Eval(ctx, fmt.Sprintf(`return redis.error_reply('E%02d boom')`, i), nil).Err()
		require.Error(t, err)
	}
	rc.Ping(ctx)
	rc.Set(ctx, "k", "v", 0)
	rc.Get(ctx, "k")
	rc.Del(ctx, "k")
	c := newCollector(t, Options{MaxLabelValues: 3}, mustTarget(t, s.URL()))
	mfs := gather(t, c)
	require.Contains(t, mfs, "redis_errors_total")
	got := map[string]float64{}
	for _, m := range mfs["redis_errors_total"].GetMetric() {
		for _, l := range m.GetLabel() {
			if l.GetName() == "err" {
				got[l.GetValue()] = m.GetCounter().GetValue()
			}
		}
	}
	assert.Equal(t, map[string]float64{"E00": 1, "E01": 1, "E02": 1, "other": 7}, got)
	assert.LessOrEqual(t, len(mfs["redis_commands_total"].GetMetric()), 4, "3 commands and other")
	_, ok := value(t, mfs, "redis_commands_total", map[string]string{"cmd": "other"})
	assert.True(t, ok)
	// Summaries only for commands within the limit.
	assert.LessOrEqual(t, len(mfs["redis_command_latency_seconds"].GetMetric()), 3)
}

// A target listed twice is scraped once: its series would collide.
// Databases other than 0 are distinct targets with distinct addr labels.
func TestDuplicateTargetsAndDatabases(t *testing.T) {
	s := redistest.Start(t)
	same := mustTarget(t, s.URL())
	db2 := mustTarget(t, s.URL()+"/2")
	c := newCollector(t, Options{}, same, same, db2)
	mfs := gather(t, c) // fails on duplicate series
	assert.Len(t, mfs["redis_up"].GetMetric(), 2)
	up, ok := value(t, mfs, "redis_up", map[string]string{"addr": s.URL() + "/2"})
	assert.True(t, ok)
	assert.Equal(t, 1.0, up)
}
