package collector

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/redis-autoscaler/redis-autoscaler/exporter/redisinfo"
	"github.com/redis-autoscaler/redis-autoscaler/test/redistest"
)

// redisExporterFamily is one row of testdata/redis_exporter_info.tsv.
type redisExporterFamily struct{ field, family, kind string }

func loadRedisExporterFamilies(t *testing.T) []redisExporterFamily {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "redis_exporter_info.tsv"))
	require.NoError(t, err)
	defer f.Close()
	var out []redisExporterFamily
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		parts := strings.Split(line, "\t")
		require.Len(t, parts, 3, line)
		out = append(out, redisExporterFamily{parts[0], parts[1], parts[2]})
	}
	require.NoError(t, sc.Err())
	return out
}

// Every metric family redis_exporter derives from an INFO field is
// exported under its name and type wherever a real Redis (a master with
// AOF and a replica) reports the field.
func TestRedisExporterInfoFamilies(t *testing.T) {
	families := loadRedisExporterFamilies(t)
	require.Greater(t, len(families), 150)
	master := redistest.Start(t, "--appendonly", "yes")
	replica := redistest.Start(t, "--replicaof", master.Host, fmt.Sprint(master.Port), "--repl-diskless-sync-delay", "0")
	waitSynced(t, replica)

	for _, s := range []*redistest.Server{master, replica} {
		raw, err := s.Client(t).Info(context.Background(), "everything").Result()
		require.NoError(t, err)
		info, err := redisinfo.Parse(raw)
		require.NoError(t, err)
		c := newCollector(t, Options{}, mustTarget(t, s.URL()))
		mfs := gather(t, c)
		reported, missing := 0, []string{}
		for _, f := range families {
			if _, ok := info.Fields[f.field]; !ok {
				continue
			}
			reported++
			mf, ok := mfs["redis_"+f.family]
			if !ok {
				missing = append(missing, f.family+" (from "+f.field+")")
				continue
			}
			want := dto.MetricType_GAUGE
			if f.kind == "counter" {
				want = dto.MetricType_COUNTER
			}
			assert.Equal(t, want, mf.GetType(), "redis_%s type", f.family)
		}
		assert.Empty(t, missing, "%s: families redis_exporter exports and we do not", s.URL())
		t.Logf("%s (%s): %d of redis_exporter's INFO families reported by this server, all exported; %d families in our output",
			s.URL(), info.Role(), reported, len(mfs))
	}
}
