package dashboards_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/redis-autoscaler/redis-autoscaler/dashboards"
	"github.com/redis-autoscaler/redis-autoscaler/test/promtest"
	"github.com/redis-autoscaler/redis-autoscaler/test/redistest"
)

// The committed JSON is what the generator writes: hand edits fail here.
func TestCommittedJSONIsGenerated(t *testing.T) {
	for name, build := range dashboards.Files {
		want, err := dashboards.JSON(build, dashboards.Options{})
		require.NoError(t, err)
		for _, dir := range dashboards.Dirs {
			path := filepath.Join("..", dir, name)
			got, err := os.ReadFile(path)
			require.NoError(t, err)
			require.Equal(t, string(want), string(got), "%s drifted from the generator: run make dashboards", path)
		}
	}
}

func load(t *testing.T, name string) dashboards.Board {
	d, err := dashboards.Load(name)
	require.NoError(t, err)
	return d
}

var fixedRange = regexp.MustCompile(`\[[0-9]+[smhdwy]\]`)

// kube-prometheus conventions on every panel of every dashboard: stable
// uid, read-only, the variables, unique ids, a unit and a description,
// a job matcher and $__rate_interval in every query, nothing overlapping.
func TestConventions(t *testing.T) {
	for name := range dashboards.Files {
		d := load(t, name)
		require.True(t, strings.HasPrefix(d.UID, "redis-autoscaler-"), name)
		require.False(t, d.Editable, name)
		var vars []string
		for _, v := range d.Templating.List {
			vars = append(vars, v.Name)
			if v.Name == "cluster" {
				assert.Equal(t, 2, v.Hide, "%s: the cluster variable is hidden unless -multi-cluster", name)
			}
		}
		require.Subset(t, vars, []string{"datasource", "cluster", "job", "namespace", "pod"}, name)
		ids := map[int]bool{}
		type cell struct{ x, y int }
		used := map[cell]string{}
		for _, p := range d.Panels {
			where := fmt.Sprintf("%s: panel %d %q", name, p.ID, p.Title)
			require.Positive(t, p.ID, where)
			require.False(t, ids[p.ID], "%s: id twice", where)
			ids[p.ID] = true
			require.LessOrEqual(t, p.GridPos.X+p.GridPos.W, 24, where)
			for x := p.GridPos.X; x < p.GridPos.X+p.GridPos.W; x++ {
				for y := p.GridPos.Y; y < p.GridPos.Y+p.GridPos.H; y++ {
					if other, ok := used[cell{x, y}]; ok {
						t.Fatalf("%s overlaps %s", where, other)
					}
					used[cell{x, y}] = where
				}
			}
			if p.Type == "row" {
				continue
			}
			assert.NotEmpty(t, p.Description, where)
			assert.NotEmpty(t, p.FieldConfig.Defaults.Unit, where)
			require.NotEmpty(t, p.Targets, where)
		}
		for _, q := range d.Queries() {
			assert.Contains(t, q.Expr, `job=~"$job"`, "%s: %s", name, q.Where)
			assert.Contains(t, q.Expr, `cluster=~"$cluster"`, "%s: %s", name, q.Where)
			assert.NotRegexp(t, fixedRange, q.Expr, "%s: %s: use $__rate_interval", name, q.Where)
		}
	}
}

// -multi-cluster shows the cluster variable, and changes nothing else.
func TestMultiCluster(t *testing.T) {
	for name, build := range dashboards.Files {
		single, err := dashboards.JSON(build, dashboards.Options{})
		require.NoError(t, err)
		multi, err := dashboards.JSON(build, dashboards.Options{MultiCluster: true})
		require.NoError(t, err)
		var a, b dashboards.Board
		require.NoError(t, json.Unmarshal(single, &a))
		require.NoError(t, json.Unmarshal(multi, &b))
		require.Equal(t, a.Panels, b.Panels, name)
		for i, v := range b.Templating.List {
			if v.Name == "cluster" {
				assert.Equal(t, 0, v.Hide, name)
				b.Templating.List[i].Hide = 2
			}
		}
		require.Equal(t, a, b, name)
	}
}

// expand substitutes the dashboard variables as Grafana would with "All"
// selected, and $__rate_interval with a range that holds several scrapes.
func expand(expr string) string {
	return strings.NewReplacer(`$cluster`, `.*`, `$job`, `redis`, `$namespace`, `.*`, `$pod`, `.*`, `$__rate_interval`, `20s`).Replace(expr)
}

// Every query of redis-overview returns series from a live Prometheus
// scraping the real exporter: a master and two replicas, keys in two DBs,
// maxmemory set, load with hits, misses, expirations and evictions.
func TestOverviewQueriesReturnData(t *testing.T) {
	bin := promtest.Binary(t)
	master := redistest.Start(t, "--maxmemory", "8mb", "--maxmemory-policy", "allkeys-lru")
	replicaArgs := []string{"--replicaof", master.Host, strconv.Itoa(master.Port), "--repl-diskless-sync-delay", "0"}
	replicas := []*redistest.Server{redistest.Start(t, replicaArgs...), redistest.Start(t, replicaArgs...)}
	mc := master.Client(t)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	require.NoError(t, mc.Do(ctx, "SELECT", 1).Err())
	require.NoError(t, mc.Set(ctx, "db1-key", "v", time.Hour).Err())
	require.NoError(t, mc.Do(ctx, "SELECT", 0).Err())
	// Load: writes beyond maxmemory (evictions), keys that expire, reads
	// that hit and miss; bounded to the test's life.
	go func() {
		value := strings.Repeat("x", 1024)
		for i := 0; ctx.Err() == nil; i++ {
			mc.Set(ctx, "k"+strconv.Itoa(i%20000), value, time.Duration(1+rand.IntN(10))*time.Second)
			mc.Get(ctx, "k"+strconv.Itoa(rand.IntN(24000)))
			if i%100 == 0 {
				time.Sleep(10 * time.Millisecond)
			}
		}
	}()

	var targets []promtest.Target
	for i, s := range append([]*redistest.Server{master}, replicas...) {
		targets = append(targets, promtest.Target{
			Addr:   promtest.StartExporter(t, "--redis.addr", s.URL()),
			Labels: map[string]string{"namespace": "cache", "pod": fmt.Sprintf("cache-%d", i)},
		})
	}
	prom := promtest.Start(t, bin, "redis", targets)
	// Enough scrapes for every rate over 20s.
	require.Eventually(t, func() bool {
		n, err := promtest.Query(prom, `count_over_time(redis_up{job="redis"}[20s]) >= 10`)
		return err == nil && n == 3
	}, 90*time.Second, time.Second, "Prometheus did not scrape the three exporters")

	d := load(t, "redis-overview.json")
	for _, q := range d.Queries() {
		expr := expand(q.Expr)
		n, err := promtest.Query(prom, expr)
		assert.NoError(t, err, "%s: %s", q.Where, expr)
		assert.Positive(t, n, "%s returns no series: %s", q.Where, expr)
	}
}
