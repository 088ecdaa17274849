package redisreply

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseSlowlog(t *testing.T) {
	for _, tc := range []struct {
		name           string
		length, newest any
		want           Slowlog
		err            bool
	}{
		{"empty", int64(0), []any{}, Slowlog{}, false},
		{"newest entry", int64(12), []any{[]any{int64(41), int64(1796302206), int64(2500), []any{"SET", "k", "v"}, "127.0.0.1:5000", ""}},
			Slowlog{Length: 12, LastID: 41, LastDurationSeconds: 0.0025}, false},
		{"Redis < 4 entry", int64(1), []any{[]any{int64(1), int64(0), int64(3), []any{"GET"}}}, Slowlog{Length: 1, LastID: 1, LastDurationSeconds: 3e-6}, false},
		{"length not an integer", "12", []any{}, Slowlog{}, true},
		{"entries not an array", int64(1), "x", Slowlog{}, true},
		{"short entry", int64(1), []any{[]any{int64(1)}}, Slowlog{}, true},
		{"duration not an integer", int64(1), []any{[]any{int64(1), int64(0), "3"}}, Slowlog{}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseSlowlog(tc.length, tc.newest)
			if tc.err {
				assert.Error(t, err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestParseSlowlogRealReplies(t *testing.T) {
	st, err := ParseSlowlog(realReply(t, "slowlog-len-7.0.resp"), realReply(t, "slowlog-get-7.0.resp"))
	require.NoError(t, err)
	assert.Equal(t, Slowlog{Length: 8, LastID: 8, LastDurationSeconds: 2e-6}, st)
	st, err = ParseSlowlog(realReply(t, "slowlog-len-empty-7.0.resp"), realReply(t, "slowlog-get-empty-7.0.resp"))
	require.NoError(t, err)
	assert.Equal(t, Slowlog{}, st)
}

// Whatever SLOWLOG GET holds, the parser never panics, and a reply it
// accepts keeps the length SLOWLOG LEN gave.
func FuzzParseSlowlog(f *testing.F) {
	fuzzReplies(f, "slowlog-get-*.resp", func(t *testing.T, v any) {
		st, err := ParseSlowlog(int64(1), v)
		if err == nil && st.Length != 1 {
			t.Fatalf("length %v", st.Length)
		}
	})
}
