package collector

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/redis-autoscaler/redis-autoscaler/exporter/engine"
	"github.com/redis-autoscaler/redis-autoscaler/exporter/redisinfo"
	"github.com/redis-autoscaler/redis-autoscaler/exporter/scraper"
	"github.com/redis-autoscaler/redis-autoscaler/exporter/target"
	"github.com/redis-autoscaler/redis-autoscaler/test/prereq"
	"github.com/redis-autoscaler/redis-autoscaler/test/redistest"
)

// exposition gathers c as the exporter serves it (text format) and fails
// on a gather error.
func exposition(t testing.TB, c prometheus.Collector) string {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	require.NoError(t, reg.Register(c))
	mfs, err := reg.Gather()
	require.NoError(t, err)
	var b bytes.Buffer
	for _, mf := range mfs {
		_, err := expfmt.MetricFamilyToText(&b, mf)
		require.NoError(t, err)
	}
	return b.String()
}

// promtoolCheck runs `promtool check metrics` on an exposition when
// promtool is installed (make test installs Debian's prometheus); lint
// findings about naming are ignored, a parse error is not.
func promtoolCheck(t *testing.T, text string) {
	t.Helper()
	bin, err := exec.LookPath("promtool")
	if err != nil {
		// In CI a missing promtool is a broken machine, not a pass.
		if prereq.CI() {
			t.Fatalf("CI=true: promtool is not installed (apt-get install prometheus): %v", err)
		}
		t.Log("promtool not installed; parsed with expfmt only")
		return
	}
	cmd := exec.Command(bin, "check", "metrics")
	cmd.Stdin = strings.NewReader(text)
	out, _ := cmd.CombinedOutput()
	require.NotContains(t, string(out), "error while linting", "promtool: %s", out)
}

// One client makes a Redis count an error whose prefix is not UTF-8 (a Lua
// error_reply); before the fix every later scrape lost the other target
// entirely. Both targets stay whole and the exposition is valid.
func TestInvalidUTF8FromRedisKeepsEveryTarget(t *testing.T) {
	bad, good := redistest.Start(t), redistest.Start(t)
	rc := bad.Client(t)
	err := rc.Eval(context.Background(), `return redis.error_reply(string.char(255,254) .. 'BAD boom')`, nil).Err()
	require.Error(t, err)
	c := newCollector(t, Options{}, mustTarget(t, bad.URL()), mustTarget(t, good.URL()))
	mfs := gather(t, c)
	for _, s := range []*redistest.Server{bad, good} {
		up, ok := value(t, mfs, "redis_up", map[string]string{"addr": s.URL()})
		assert.True(t, ok, "%s missing", s.URL())
		assert.Equal(t, 1.0, up, s.URL())
		_, ok = value(t, mfs, "redis_connected_clients", map[string]string{"addr": s.URL()})
		assert.True(t, ok, "%s lost its INFO fields", s.URL())
	}
	n, ok := value(t, mfs, "redis_errors_total", map[string]string{"addr": bad.URL(), "err": "\uFFFDBAD"})
	assert.True(t, ok, "the error prefix is kept, its run of bad bytes replaced by one U+FFFD")
	assert.Equal(t, 1.0, n)
	dropped, _ := value(t, mfs, "redis_exporter_dropped_metrics", map[string]string{"addr": bad.URL()})
	assert.Zero(t, dropped)
	promtoolCheck(t, exposition(t, c))
}

// FuzzEmit runs the whole path from INFO text to the exposition text: any
// INFO a server (or something posing as one) sends must gather without
// error and encode to text that parses back.
func FuzzEmit(f *testing.F) {
	for _, name := range []string{"master-7.0.txt", "replica-7.0.txt", "garbage.txt"} {
		b, err := os.ReadFile(filepath.Join("..", "redisinfo", "testdata", name))
		require.NoError(f, err)
		f.Add(string(b))
	}
	// Two error prefixes that are one label value once valid UTF-8.
	f.Add("# Errorstats\r\nerrorstat_\xff\xfeBAD:count=1\r\nerrorstat_\xfeBAD:count=2\r\n")
	f.Add("# Errorstats\r\nerrorstat_\xff\xfeBAD:count=1\r\n# Replication\r\nrole:slave\r\nmaster_host:\xc3(\r\nmaster_port:1\r\n")
	descs := newDescs("redis", true, true)
	opts := &Options{InstanceRoleLabel: true, SystemMetrics: true}
	opts.defaults()
	tg, err := target.Parse("redis://10.0.0.1:6379")
	require.NoError(f, err)
	tg.Namespace, tg.Pod = "cache", "cache-0"
	f.Fuzz(func(t *testing.T, in string) {
		info, err := redisinfo.Parse(in)
		if err != nil {
			return
		}
		rs := &Results{descs: descs, kube: true, opts: opts, Results: []*engine.Result{{
			Target: tg, Sample: &scraper.Sample{Info: info, At: time.Unix(1700000000, 0)},
			RTT: engine.NewHistogram(),
		}}}
		text := exposition(t, rs)
		p := expfmt.NewTextParser(model.UTF8Validation)
		_, err = p.TextToMetricFamilies(strings.NewReader(text))
		require.NoError(t, err, "exposition does not parse:\n%s", text)
		// The handler's own writer too.
		var direct bytes.Buffer
		require.NoError(t, rs.WriteText(&direct))
		p = expfmt.NewTextParser(model.UTF8Validation)
		_, err = p.TextToMetricFamilies(strings.NewReader(direct.String()))
		require.NoError(t, err, "WriteText does not parse:\n%s", direct.String())
	})
}

func newRegistryWith(t testing.TB, c prometheus.Collector) *prometheus.Registry {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	require.NoError(t, reg.Register(c))
	return reg
}
