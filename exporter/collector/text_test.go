package collector

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"sort"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"

	"github.com/redis-autoscaler/redis-autoscaler/test/redistest"
)

// normalize sorts labels by name and series by labels, and drops the
// explicit +Inf bucket (the text format has it, client_golang's model
// does not), so that two encodings of the same metrics compare equal.
func normalize(mfs map[string]*dto.MetricFamily) map[string]*dto.MetricFamily {
	for _, mf := range mfs {
		for _, m := range mf.Metric {
			sort.Slice(m.Label, func(i, j int) bool { return m.Label[i].GetName() < m.Label[j].GetName() })
			if h := m.GetHistogram(); h != nil {
				if n := len(h.Bucket); n > 0 && math.IsInf(h.Bucket[n-1].GetUpperBound(), 1) {
					h.Bucket = h.Bucket[:n-1]
				}
			}
		}
		sort.Slice(mf.Metric, func(i, j int) bool {
			return fmt.Sprint(mf.Metric[i].GetLabel()) < fmt.Sprint(mf.Metric[j].GetLabel())
		})
		for _, m := range mf.Metric {
			m.TimestampMs = nil
		}
	}
	return mfs
}

// WriteText (the HTTP handler's path) writes exactly what the
// client_golang path collects: same families, types, help, series and
// values, for a master with a replica, histograms, summaries, a label
// value needing escapes and one with invalid UTF-8.
func TestWriteTextEqualsCollect(t *testing.T) {
	master := redistest.Start(t)
	replica := redistest.Start(t, "--replicaof", master.Host, fmt.Sprint(master.Port), "--repl-diskless-sync-delay", "0")
	waitSynced(t, replica)
	rc := master.Client(t)
	ctx := context.Background()
	require.Error(t, rc.Eval(ctx, `return redis.error_reply('Q"uote\\back boom')`, nil).Err())
	require.Error(t, rc.Eval(ctx, `return redis.error_reply(string.char(255) .. 'X boom')`, nil).Err())
	require.NoError(t, rc.Set(ctx, "k", "v", 0).Err())
	c := newCollector(t, Options{KubernetesLabels: false}, mustTarget(t, master.URL()), mustTarget(t, replica.URL()))
	gather(t, c) // rates and histograms need a second scrape
	rs := c.Scrape(ctx)

	var text bytes.Buffer
	require.NoError(t, rs.WriteText(&text))
	p := expfmt.NewTextParser(model.UTF8Validation)
	fromText, err := p.TextToMetricFamilies(strings.NewReader(text.String()))
	require.NoError(t, err, text.String())

	fromCollect := map[string]*dto.MetricFamily{}
	reg := newRegistryWith(t, rs)
	mfs, err := reg.Gather()
	require.NoError(t, err)
	for _, mf := range mfs {
		fromCollect[mf.GetName()] = mf
	}
	normalize(fromText)
	normalize(fromCollect)
	require.Equal(t, len(fromCollect), len(fromText))
	for name, want := range fromCollect {
		got, ok := fromText[name]
		require.True(t, ok, name)
		assert.True(t, proto.Equal(want, got), "%s:\nwant %v\ngot  %v", name, want, got)
	}
	assert.Contains(t, text.String(), `err="Q\"uote\\back"`)
	promtoolCheck(t, text.String())
}

// seriesOf lists every series as family{labels} (values left out: two
// scrapes differ in them, and so may a replica's state as its master
// reports it).
func seriesOf(t *testing.T, mfs map[string]*dto.MetricFamily) []string {
	t.Helper()
	var out []string
	for name, mf := range mfs {
		for _, m := range mf.Metric {
			var labels []string
			for _, l := range m.GetLabel() {
				v := l.GetValue()
				if l.GetName() == "slave_state" {
					v = "*"
				}
				labels = append(labels, l.GetName()+"="+v)
			}
			out = append(out, fmt.Sprintf("%s %s %v", name, mf.GetType(), labels))
		}
	}
	sort.Strings(out)
	return out
}

// ScrapeText (what /metrics serves: each target rendered while scraping,
// its INFO let go, the lag added once every target is in) has the series
// of the Collect path, the replica's lag included, with its value; the
// output is valid for promtool.
func TestScrapeTextEqualsCollect(t *testing.T) {
	master := redistest.Start(t)
	replica := redistest.Start(t, "--replicaof", master.Host, fmt.Sprint(master.Port), "--repl-diskless-sync-delay", "0")
	waitSynced(t, replica)
	ctx := context.Background()
	for _, opts := range []Options{{}, {KubernetesLabels: true, InstanceRoleLabel: true}} {
		c := newCollector(t, opts, mustTarget(t, master.URL()), mustTarget(t, replica.URL()))
		gather(t, c)
		var text bytes.Buffer
		require.NoError(t, c.ScrapeText(ctx).Write(&text))
		p := expfmt.NewTextParser(model.UTF8Validation)
		fromText, err := p.TextToMetricFamilies(strings.NewReader(text.String()))
		require.NoError(t, err, text.String())
		fromCollect := gather(t, c)
		assert.Equal(t, seriesOf(t, normalize(fromCollect)), seriesOf(t, normalize(fromText)))
		lag, ok := fromText["redis_replication_lag_bytes"]
		require.True(t, ok, "the replica's lag, from the second pass")
		require.Len(t, lag.Metric, 1)
		assert.Zero(t, lag.Metric[0].GetGauge().GetValue(), "a synced replica at rest")
		promtoolCheck(t, text.String())
	}
}
