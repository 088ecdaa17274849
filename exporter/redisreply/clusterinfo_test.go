package redisreply

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseClusterInfo(t *testing.T) {
	for _, tc := range []struct {
		name, text string
		want       map[string]string
	}{
		{"empty", "", map[string]string{}},
		{"CRLF lines", "cluster_state:ok\r\ncluster_known_nodes:3\r\n", map[string]string{"cluster_state": "ok", "cluster_known_nodes": "3"}},
		{"value with a colon", "a:b:c\n", map[string]string{"a": "b:c"}},
		{"lines without a key left out", "garbage\n:x\n", map[string]string{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, ParseClusterInfo(tc.text))
		})
	}
}

func TestParseClusterInfoRealReplies(t *testing.T) {
	for file, state := range map[string]string{"cluster-info-7.0.txt": "ok", "cluster-info-7.0-fail.txt": "fail"} {
		raw, err := os.ReadFile(filepath.Join("testdata", file))
		require.NoError(t, err)
		got := ParseClusterInfo(string(raw))
		assert.Equal(t, state, got["cluster_state"], file)
		assert.Equal(t, "16384", got["cluster_slots_assigned"], file)
		assert.Equal(t, "4", got["cluster_known_nodes"], file)
	}
}

// Whatever CLUSTER INFO holds, every key is non-empty and within one
// line, and the parser never panics.
func FuzzParseClusterInfo(f *testing.F) {
	for _, file := range []string{"cluster-info-7.0.txt", "cluster-info-7.0-fail.txt"} {
		raw, err := os.ReadFile(filepath.Join("testdata", file))
		require.NoError(f, err)
		f.Add(string(raw))
	}
	f.Fuzz(func(t *testing.T, text string) {
		for k := range ParseClusterInfo(text) {
			if k == "" || strings.Contains(k, "\n") {
				t.Fatalf("key %q", k)
			}
		}
	})
}
