package clusterops_test

import (
	"context"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"
	"golang.org/x/sync/errgroup"

	"github.com/redis-autoscaler/redis-autoscaler/scaler/clusterops"
	"github.com/redis-autoscaler/redis-autoscaler/test/redistest"
)

// BenchmarkMoveSlots moves a quarter of a 2-master cluster's slots (about
// 4096, holding 100k keys of 1 KiB) to the other master, 8 slots at a
// time: keys/s and MB/s of migration. BENCH_BATCH sets the keys per
// MIGRATE (100, 500 and 1000 measured alike: with ~6 keys a slot the
// per-slot round trips dominate).
func BenchmarkMoveSlots(b *testing.B) {
	c := redistest.StartCluster(b, 2)
	ctx := context.Background()
	cc := c.Client(b)
	val := strings.Repeat("v", 1024)
	p := cc.Pipeline()
	const keys = 100_000
	for i := range keys {
		p.Set(ctx, "k:"+strconv.Itoa(i), val, 0)
		if p.Len() == 1000 {
			_, err := p.Exec(ctx)
			require.NoError(b, err)
		}
	}
	_, err := p.Exec(ctx)
	require.NoError(b, err)
	clients := map[string]*redis.Client{}
	client := func(addr string) *redis.Client {
		if cl, ok := clients[addr]; ok {
			return cl
		}
		cl := redis.NewClient(&redis.Options{Addr: addr, PoolSize: 16})
		clients[addr] = cl
		b.Cleanup(func() { cl.Close() })
		return cl
	}
	for _, s := range c.Nodes {
		client(s.HostPort())
	}
	var moved, slotsMoved int64
	var elapsed time.Duration
	b.ResetTimer()
	for i := range b.N {
		nodes, err := clusterops.Nodes(ctx, client(c.Nodes[0].HostPort()))
		require.NoError(b, err)
		var masters []clusterops.Node
		for _, n := range nodes {
			if n.Master() {
				masters = append(masters, n)
			}
		}
		src, dst := masters[i%2], masters[(i+1)%2]
		todo := src.Slots[len(src.Slots)/2:]
		var n atomic.Int64
		m := &clusterops.Migrator{Client: func(a string) *redis.Client { return clients[a] }, Batch: batchSize(), OnKeys: func(k int) { n.Add(int64(k)) }}
		start := time.Now()
		var eg errgroup.Group
		eg.SetLimit(8)
		for _, slot := range todo {
			eg.Go(func() error { return m.MoveSlot(ctx, slot, src, dst, masters) })
		}
		require.NoError(b, eg.Wait())
		elapsed += time.Since(start)
		moved += n.Load()
		slotsMoved += int64(len(todo))
	}
	b.ReportMetric(float64(moved)/elapsed.Seconds(), "keys/s")
	b.ReportMetric(float64(moved)*1024/1e6/elapsed.Seconds(), "MB/s")
	b.ReportMetric(float64(slotsMoved)/elapsed.Seconds(), "slots/s")
}

// batchSize is BENCH_BATCH (keys per MIGRATE), default the Migrator's.
func batchSize() int {
	n, _ := strconv.Atoi(os.Getenv("BENCH_BATCH"))
	return n
}
