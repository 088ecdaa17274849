package engine

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/redis-autoscaler/redis-autoscaler/exporter/target"
)

// A bounded pool keeps the most recently used targets: callers naming
// ever new /scrape targets cannot grow it.
func TestPoolLimitEvictsLeastRecentlyUsed(t *testing.T) {
	p := NewPool(nil, time.Second).WithLimit(2)
	defer p.Close()
	a, b, c := mustTarget(t, "redis://10.0.0.1:6379"), mustTarget(t, "redis://10.0.0.2:6379"), mustTarget(t, "redis://10.0.0.3:6379")
	p.get(a)
	time.Sleep(time.Millisecond)
	p.get(b)
	time.Sleep(time.Millisecond)
	p.get(a) // a is now the most recent
	time.Sleep(time.Millisecond)
	p.get(c) // evicts b
	assert.Equal(t, 2, p.Len())
	p.mu.Lock()
	_, hasA := p.entries[entryKey(a)]
	_, hasB := p.entries[entryKey(b)]
	p.mu.Unlock()
	assert.True(t, hasA)
	assert.False(t, hasB)
	for i := range 100 {
		p.get(mustTarget(t, fmt.Sprintf("redis://10.1.0.%d:6379", i)))
	}
	assert.Equal(t, 2, p.Len())
	unbounded := NewPool(nil, time.Second)
	defer unbounded.Close()
	for i := range 100 {
		unbounded.get(mustTarget(t, fmt.Sprintf("redis://10.1.0.%d:6379", i)))
	}
	assert.Equal(t, 100, unbounded.Len())
}

func mustTarget(t *testing.T, addr string) target.Target {
	t.Helper()
	tg, err := target.Parse(addr)
	if err != nil {
		t.Fatal(err)
	}
	return tg
}
