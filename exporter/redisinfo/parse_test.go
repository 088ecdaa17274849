package redisinfo

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// redis6 is a trimmed INFO ALL of Redis 6.2: no latencystats section.
const redis6 = "# Server\r\nredis_version:6.2.14\r\nredis_mode:standalone\r\nrun_id:abc\r\n" +
	"# Replication\r\nrole:master\r\nconnected_slaves:1\r\nslave0:ip=10.0.0.2,port=6379,state=online,offset=100,lag=0\r\nmaster_repl_offset:120\r\n" +
	"# Commandstats\r\ncmdstat_set:calls=10,usec=25,usec_per_call=2.50,rejected_calls=1,failed_calls=2\r\n" +
	"# Keyspace\r\ndb0:keys=5,expires=1,avg_ttl=3000\r\n"

func TestParse(t *testing.T) {
	for name, tc := range map[string]struct {
		in    string
		check func(t *testing.T, info *Info)
	}{
		"redis 6 without latencystats": {in: redis6, check: func(t *testing.T, info *Info) {
			assert.Equal(t, "6.2.14", info.Version())
			assert.Equal(t, 6, info.MajorVersion())
			assert.Equal(t, "master", info.Role())
			assert.Equal(t, []CommandStat{{Name: "set", Calls: 10, Usec: 25, RejectedCalls: 1, FailedCalls: 2}}, info.Commands)
			assert.Empty(t, info.Latencies)
			assert.Equal(t, []DBStat{{DB: "db0", Keys: 5, Expires: 1, AvgTTLMs: 3000, HasAvgTTL: true}}, info.Keyspace)
			assert.Equal(t, []ReplicaStat{{IP: "10.0.0.2", Port: "6379", State: "online", Offset: 100, Lag: 0}}, info.Replicas)
			assert.Equal(t, []string{"server", "replication", "commandstats", "keyspace"}, info.Sections)
			v, ok := info.Float("master_repl_offset")
			assert.True(t, ok)
			assert.Equal(t, 120.0, v)
		}},
		"latency percentiles to quantiles": {in: "# Latencystats\nlatency_percentiles_usec_get:p50=1.003,p99=2.5,p99.9=10.1\n", check: func(t *testing.T, info *Info) {
			require.Len(t, info.Latencies, 1)
			assert.Equal(t, "get", info.Latencies[0].Name)
			assert.Equal(t, []Percentile{{0.5, 1.003}, {0.99, 2.5}, {0.999, 10.1}}, info.Latencies[0].Percentiles)
		}},
		"errorstats": {in: "# Errorstats\nerrorstat_WRONGPASS:count=3\n", check: func(t *testing.T, info *Info) {
			assert.Equal(t, []ErrorStat{{Prefix: "WRONGPASS", Count: 3}}, info.Errors)
		}},
		"replica fields are not replica lines": {in: "# Replication\nrole:slave\nslave_repl_offset:42\nslave_priority:100\n", check: func(t *testing.T, info *Info) {
			assert.Empty(t, info.Replicas)
			assert.Equal(t, "42", info.Fields["slave_repl_offset"])
		}},
		"unknown lines skipped": {in: "junk\n:novalue\nredis_version:7.2.0\nx", check: func(t *testing.T, info *Info) {
			assert.Equal(t, map[string]string{"redis_version": "7.2.0"}, info.Fields)
		}},
	} {
		t.Run(name, func(t *testing.T) {
			info, err := Parse(tc.in)
			require.NoError(t, err)
			tc.check(t, info)
		})
	}
}

func TestParseRejectsNonInfo(t *testing.T) {
	for _, in := range []string{"", "garbage", "+OK\r\n", "-ERR unknown command\r\n"} {
		_, err := Parse(in)
		assert.ErrorIs(t, err, ErrNotInfo, "input %q", in)
	}
}

func TestParseRealReplies(t *testing.T) {
	master := readFixture(t, "master-7.0.txt")
	info, err := Parse(master)
	require.NoError(t, err)
	assert.Equal(t, 7, info.MajorVersion())
	assert.Equal(t, "master", info.Role())
	assert.NotEmpty(t, info.Commands)
	assert.NotEmpty(t, info.Latencies)
	require.Len(t, info.Replicas, 1)
	assert.Equal(t, "online", info.Replicas[0].State)
	assert.Len(t, info.Keyspace, 2)
	maxmemory, ok := info.Float("maxmemory")
	assert.True(t, ok)
	assert.Equal(t, 100.0*1024*1024, maxmemory)

	replica, err := Parse(readFixture(t, "replica-7.0.txt"))
	require.NoError(t, err)
	assert.Equal(t, "slave", replica.Role())
	assert.Equal(t, "up", replica.Fields["master_link_status"])
	assert.Empty(t, replica.Replicas)
}

func readFixture(t testing.TB, name string) string {
	b, err := os.ReadFile(filepath.Join("testdata", name))
	require.NoError(t, err)
	return string(b)
}

func FuzzParse(f *testing.F) {
	for _, name := range []string{"master-7.0.txt", "replica-7.0.txt", "garbage.txt"} {
		f.Add(readFixture(f, name))
	}
	f.Add(redis6)
	f.Fuzz(func(t *testing.T, in string) {
		info, err := Parse(in)
		if err != nil {
			return
		}
		// Whatever parsed must be usable by the collector without panics.
		_ = info.MajorVersion()
		for _, l := range info.Latencies {
			for _, p := range l.Percentiles {
				if p.Quantile < 0 || p.Quantile > 1 {
					t.Fatalf("quantile out of range: %v", p.Quantile)
				}
			}
		}
	})
}

func BenchmarkParse(b *testing.B) {
	in := readFixture(b, "master-7.0.txt")
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(in); err != nil {
			b.Fatal(err)
		}
	}
}
