package redisreply

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestParseConfig(t *testing.T) {
	for _, tc := range []struct {
		name  string
		reply any
		want  map[string]string
	}{
		{"not an array", int64(1), map[string]string{}},
		{"flat array", []any{"maxmemory", "0", "databases", "16"}, map[string]string{"maxmemory": "0", "databases": "16"}},
		{"odd last key left out", []any{"a", "1", "b"}, map[string]string{"a": "1"}},
		{"RESP3 map", map[any]any{"maxmemory": "10"}, map[string]string{"maxmemory": "10"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, ParseConfig(tc.reply))
		})
	}
}

func TestConfigDatabases(t *testing.T) {
	for _, tc := range []struct {
		config map[string]string
		want   int
		ok     bool
	}{
		{map[string]string{"databases": "16"}, 16, true},
		{map[string]string{"databases": "x"}, 0, false},
		{nil, 0, false},
	} {
		n, ok := ConfigDatabases(tc.config)
		assert.Equal(t, tc.want, n)
		assert.Equal(t, tc.ok, ok)
	}
}

func TestParseConfigRealReply(t *testing.T) {
	got := ParseConfig(realReply(t, "config-get-7.0.resp"))
	assert.Equal(t, "0", got["maxmemory"])
	assert.Equal(t, "noeviction", got["maxmemory-policy"])
	assert.Contains(t, got, "maxmemory-samples")
}

// Whatever CONFIG GET answers, the parser never panics and has at most
// one setting per pair of elements.
func FuzzParseConfig(f *testing.F) {
	fuzzReplies(f, "config-get-*.resp", func(t *testing.T, v any) {
		list, _ := v.([]any)
		if got := ParseConfig(v); len(got) > len(list)/2 {
			t.Fatalf("%d settings from %d elements", len(got), len(list))
		}
	})
}
