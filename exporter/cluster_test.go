package exporter

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/redis-autoscaler/redis-autoscaler/test/redistest"
)

// A real 3-node Redis Cluster: with --is-cluster, checked keys are read
// from the node owning them although the exporter names one node; without
// it, only the named node's own keys are found. /discover-cluster-nodes
// lists every node for Prometheus' http_sd, by hostname when asked.
func TestIsCluster(t *testing.T) {
	c := redistest.StartCluster(t, 3)
	cc := c.Client(t)
	ctx := context.Background()
	var keys []string
	for i := range 30 {
		k := fmt.Sprintf("job:%d", i)
		keys = append(keys, k)
		require.NoError(t, cc.RPush(ctx, k, "a", "b").Err())
	}
	seed := c.Nodes[0]
	local, err := seed.Client(t).DBSize(ctx).Result()
	require.NoError(t, err)
	require.Less(t, local, int64(30), "the keys are spread over the nodes")
	count := func(base string) int {
		samples, _ := fetch(t, base+"/metrics")
		n := 0
		for _, k := range keys {
			if v, ok := find(samples, "redis_key_size", map[string]string{"key": k}); ok {
				assert.Equal(t, 2.0, v, k)
				n++
			}
		}
		return n
	}
	single := strings.Join(keys, ",")
	clustered, _ := startExporter(t, "--redis.addr", seed.URL(), "--is-cluster", "--check-single-keys", single)
	assert.Equal(t, 30, count(clustered), "every key, from its owner")
	plain, _ := startExporter(t, "--redis.addr", seed.URL(), "--check-single-keys", single)
	assert.EqualValues(t, local, count(plain), "without --is-cluster: the seed's own keys only")

	discover := func(base string) (int, []string) {
		resp, err := http.Get(base + "/discover-cluster-nodes")
		require.NoError(t, err)
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		if resp.StatusCode != http.StatusOK {
			return resp.StatusCode, nil
		}
		assert.Equal(t, "application/json", resp.Header.Get("Content-Type"))
		var groups []struct {
			Targets []string          `json:"targets"`
			Labels  map[string]string `json:"labels"`
		}
		require.NoError(t, json.Unmarshal(body, &groups), string(body))
		require.Len(t, groups, 1)
		return resp.StatusCode, groups[0].Targets
	}
	code, targets := discover(clustered)
	require.Equal(t, http.StatusOK, code)
	var want []string
	for _, n := range c.Nodes {
		want = append(want, n.URL())
	}
	assert.ElementsMatch(t, want, targets)
	code, _ = discover(plain)
	assert.Equal(t, http.StatusBadRequest, code, "only with --is-cluster")

	// Announced hostnames (gossiped to the seed within a bounded wait).
	var hosts []string
	for i, n := range c.Nodes {
		name := fmt.Sprintf("redis-%d.cache", i)
		require.NoError(t, n.Client(t).ConfigSet(ctx, "cluster-announce-hostname", name).Err())
		hosts = append(hosts, fmt.Sprintf("redis://%s:%d", name, n.Port))
	}
	byName, _ := startExporter(t, "--redis.addr", seed.URL(), "--is-cluster", "--cluster-discover-hostnames")
	deadline := time.Now().Add(15 * time.Second)
	for {
		_, targets = discover(byName)
		if assert.ObjectsAreEqual(len(hosts), len(targets)) && strings.Contains(strings.Join(targets, " "), "redis-1.cache") &&
			strings.Contains(strings.Join(targets, " "), "redis-2.cache") || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	assert.ElementsMatch(t, hosts, targets)
}
