package rdb_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/redis-autoscaler/redis-autoscaler/backup/rdb"
	"github.com/redis-autoscaler/redis-autoscaler/test/redistest"
)

func TestCRC64(t *testing.T) {
	// Redis' crc64.c self-test value.
	assert.Equal(t, uint64(0xe9c6d914c4b8d9ca), rdb.CRC64(0, []byte("123456789")))
	// Incremental equals whole, across the 8-byte stride.
	data := bytes.Repeat([]byte("redis-autoscaler"), 100)
	assert.Equal(t, rdb.CRC64(0, data), rdb.CRC64(rdb.CRC64(0, data[:13]), data[13:]))
}

// saved runs cmds on a fresh server, SAVEs and returns dump.rdb.
func saved(t *testing.T, s *redistest.Server, cmds ...[]any) []byte {
	t.Helper()
	ctx := context.Background()
	c := s.Client(t)
	require.NoError(t, c.FlushAll(ctx).Err())
	for _, cmd := range cmds {
		require.NoError(t, c.Do(ctx, cmd...).Err(), "%v", cmd)
	}
	require.NoError(t, c.Save(ctx).Err())
	b, err := os.ReadFile(filepath.Join(s.Dir, "dump.rdb"))
	require.NoError(t, err)
	return b
}

// Every encoding Redis 7.0 writes, each read as one key of the right type.
func TestReadEveryType(t *testing.T) {
	s := redistest.Start(t)
	long := string(bytes.Repeat([]byte("abcdefgh"), 40)) // LZF-compressed
	many := func(cmd string, key string, n int, member func(i int) []any) []any {
		args := []any{cmd, key}
		for i := range n {
			args = append(args, member(i)...)
		}
		return args
	}
	str := func(i int) []any {
		return []any{"member-" + string(rune('a'+i%26)) + "-" + long[:i%50] + string(rune('0'+i%10))}
	}
	cases := []struct {
		name  string
		cmds  [][]any
		typ   string
		value string // string value, checked through the digest
	}{
		{"short string", [][]any{{"SET", "k", "hello"}}, "string", "hello"},
		{"integer string", [][]any{{"SET", "k", "-12345"}}, "string", "-12345"},
		{"int8 string", [][]any{{"SET", "k", "7"}}, "string", "7"},
		{"compressed string", [][]any{{"SET", "k", long}}, "string", long},
		{"empty string", [][]any{{"SET", "k", ""}}, "string", ""},
		{"listpack list", [][]any{{"RPUSH", "k", "a", "b", "1"}}, "list", ""},
		{"quicklist", [][]any{many("RPUSH", "k", 2000, str)}, "list", ""},
		{"intset", [][]any{{"SADD", "k", 1, 2, 300000}}, "set", ""},
		{"hashtable set", [][]any{many("SADD", "k", 300, func(i int) []any { return []any{long[:i%40] + string(rune(i))} })}, "set", ""},
		{"listpack hash", [][]any{{"HSET", "k", "f", "v", "n", 1}}, "hash", ""},
		{"hashtable hash", [][]any{many("HSET", "k", 300, func(i int) []any { return []any{"f" + string(rune(i)), long} })}, "hash", ""},
		{"listpack zset", [][]any{{"ZADD", "k", 1.5, "a", -2, "b"}}, "zset", ""},
		{"skiplist zset", [][]any{many("ZADD", "k", 300, func(i int) []any { return []any{float64(i) / 3, "m" + string(rune(i))} })}, "zset", ""},
		{"stream with groups", [][]any{
			{"XADD", "k", "*", "f", "v"}, {"XADD", "k", "*", "g", long},
			{"XGROUP", "CREATE", "k", "g1", "0"}, {"XREADGROUP", "GROUP", "g1", "c1", "COUNT", 1, "STREAMS", "k", ">"},
			{"XGROUP", "CREATE", "k", "g2", "$"}, {"XDEL", "k", "0-1"},
		}, "stream", ""},
		{"empty stream", [][]any{{"XADD", "k", "*", "f", "v"}, {"XTRIM", "k", "MAXLEN", 0}}, "stream", ""},
		{"function", [][]any{{"FUNCTION", "LOAD", "#!lua name=lib\nredis.register_function('f', function() return 1 end)"}, {"SET", "k", "x"}}, "string", "x"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			file := saved(t, s, tc.cmds...)
			sum, err := rdb.Read(bytes.NewReader(file), rdb.Options{SampleSize: 10})
			require.NoError(t, err)
			assert.Equal(t, int64(1), sum.Keys)
			assert.Equal(t, int64(len(file)), sum.Size)
			assert.Equal(t, 10, sum.Version)
			assert.NotEmpty(t, sum.Aux["redis-ver"])
			require.Len(t, sum.Sample, 1)
			assert.Equal(t, tc.typ, sum.Sample[0].Type)
			if tc.typ == "string" {
				assert.Equal(t, rdb.Digest([]byte(tc.value)), sum.Sample[0].SHA256)
			}
		})
	}
}

func TestReadCountsDatabasesAndExpiries(t *testing.T) {
	s := redistest.Start(t)
	at := time.Now().Add(time.Hour).UnixMilli()
	file := saved(t, s, []any{"SET", "a", 1}, []any{"SET", "b", 2, "PX", 3_600_000},
		[]any{"SELECT", 3}, []any{"SET", "c", 3}, []any{"SELECT", 0})
	sum, err := rdb.Read(bytes.NewReader(file), rdb.Options{SampleSize: 100, ExpiryHorizon: at + 60_000})
	require.NoError(t, err)
	assert.Equal(t, []rdb.DBStats{{DB: 0, Keys: 2, Expires: 1}, {DB: 3, Keys: 1}}, sum.DBs)
	require.Len(t, sum.Expiring[0], 1)
	assert.InDelta(t, at, sum.Expiring[0][0], 60_000)
	assert.Len(t, sum.Sample, 3)
}

// Any truncation and any single flipped byte of a real RDB is refused:
// the structure or the checksum catches it, and nothing panics.
func TestReadRejectsDamage(t *testing.T) {
	s := redistest.Start(t)
	file := saved(t, s, []any{"SET", "greeting", "hello world"}, []any{"RPUSH", "list", "a", "b"},
		[]any{"HSET", "h", "f", "v"}, []any{"XADD", "s", "*", "f", "v"})
	for n := range len(file) {
		_, err := rdb.Read(bytes.NewReader(file[:n]), rdb.Options{})
		require.Error(t, err, "truncated to %d of %d bytes", n, len(file))
	}
	for i := range file {
		bad := bytes.Clone(file)
		bad[i] ^= 0x20
		_, err := rdb.Read(bytes.NewReader(bad), rdb.Options{})
		require.Error(t, err, "byte %d flipped", i)
	}
	_, err := rdb.Read(bytes.NewReader(append(bytes.Clone(file), 0)), rdb.Options{})
	require.ErrorContains(t, err, "after the end")

	mid := bytes.Clone(file)
	mid[len(mid)-1] ^= 1 // last checksum byte
	_, err = rdb.Read(bytes.NewReader(mid), rdb.Options{})
	require.True(t, errors.Is(err, rdb.ErrChecksum), "%v", err)
}

func TestReadRefusesNewerVersion(t *testing.T) {
	_, err := rdb.Read(bytes.NewReader([]byte("REDIS0099\xff")), rdb.Options{})
	require.ErrorContains(t, err, "newer than this tool reads")
	_, err = rdb.Read(bytes.NewReader([]byte("NOTREDIS0")), rdb.Options{})
	require.ErrorContains(t, err, "not an RDB")
}

func FuzzRead(f *testing.F) {
	f.Add([]byte("REDIS0010\xff\x00\x00\x00\x00\x00\x00\x00\x00"))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := rdb.Read(bytes.NewReader(b), rdb.Options{SampleSize: 3, ExpiryHorizon: 1 << 62})
		if err == nil && s.Size != int64(len(b)) {
			t.Fatalf("accepted %d bytes but read %d", len(b), s.Size)
		}
	})
}
