package redisreply

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseSentinelMasters(t *testing.T) {
	for _, tc := range []struct {
		name  string
		reply any
		names []string
	}{
		{"not an array", "x", nil},
		{"flat arrays", []any{[]any{"name", "a", "ip", "10.0.0.1"}, []any{"name", "b", "odd"}}, []string{"a", "b"}},
		{"RESP3 maps", []any{map[any]any{"name": "c", "port": int64(6379)}}, []string{"c"}},
		{"without a name left out", []any{[]any{"ip", "10.0.0.1"}, []any{"name", ""}, "garbage"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var names []string
			for _, m := range ParseSentinelMasters(tc.reply) {
				names = append(names, m.Fields["name"])
			}
			assert.Equal(t, tc.names, names)
		})
	}
}

func TestSentinelMasterPeers(t *testing.T) {
	for _, tc := range []struct {
		name                string
		sentinels, replicas any
		okSentinels, okReps int
		peers               int
	}{
		{"commands failed", nil, nil, 1, 0, 0},
		{"peers up and down", []any{[]any{"name", "s1", "flags", "sentinel"}, []any{"name", "s2", "flags", "s_down,sentinel"}},
			[]any{[]any{"flags", "slave"}, []any{"flags", "o_down,slave"}, []any{"name", "no flags"}}, 2, 1, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var m SentinelMaster
			m.ReadPeers(tc.sentinels, tc.replicas)
			assert.Equal(t, tc.okSentinels, m.OKSentinels)
			assert.Equal(t, tc.okReps, m.OKReplicas)
			assert.Len(t, m.Peers, tc.peers)
		})
	}
}

func TestSentinelMasterCKQuorum(t *testing.T) {
	var m SentinelMaster
	m.ReadCKQuorum("OK 2 usable Sentinels", nil)
	assert.Equal(t, SentinelMaster{CKQuorumOK: true, CKQuorumMessage: "OK 2 usable Sentinels"}, m)
	m.ReadCKQuorum("", errors.New("NOQUORUM 1 usable Sentinels"))
	assert.Equal(t, SentinelMaster{CKQuorumMessage: "NOQUORUM 1 usable Sentinels"}, m)
}

// A real Sentinel 7.0 watching one master with a replica, and a second
// Sentinel; then the replica down (s_down).
func TestSentinelRealReplies(t *testing.T) {
	masters := ParseSentinelMasters(realReply(t, "sentinel-masters-7.0.resp"))
	require.Len(t, masters, 1)
	m := masters[0]
	assert.Equal(t, "mymaster", m.Fields["name"])
	assert.Equal(t, "127.0.0.1", m.Fields["ip"])
	assert.Equal(t, "27201", m.Fields["port"])
	assert.Equal(t, "2", m.Fields["quorum"])
	assert.Equal(t, "5000", m.Fields["down-after-milliseconds"])
	status, _ := realReply(t, "sentinel-ckquorum-7.0.resp").(string)
	m.ReadCKQuorum(status, nil)
	assert.True(t, m.CKQuorumOK)
	assert.Contains(t, m.CKQuorumMessage, "2 usable Sentinels")
	m.ReadPeers(realReply(t, "sentinel-sentinels-7.0.resp"), realReply(t, "sentinel-replicas-7.0.resp"))
	assert.Equal(t, 2, m.OKSentinels)
	assert.Equal(t, 1, m.OKReplicas)
	require.Len(t, m.Peers, 1)
	assert.Equal(t, "127.0.0.1", m.Peers[0]["ip"])
	assert.Len(t, m.Peers[0]["runid"], 40)

	var down SentinelMaster
	down.ReadPeers(nil, realReply(t, "sentinel-replicas-sdown-7.0.resp"))
	assert.Equal(t, 0, down.OKReplicas, "the replica is s_down")
}

// Whatever a Sentinel answers, masters have names and the counts are
// within the replies' lengths.
func FuzzParseSentinel(f *testing.F) {
	fuzzReplies(f, "sentinel-*.resp", func(t *testing.T, v any) {
		for _, m := range ParseSentinelMasters(v) {
			if m.Fields["name"] == "" {
				t.Fatal("master without a name")
			}
		}
		var m SentinelMaster
		m.ReadPeers(v, v)
		list, _ := v.([]any)
		if m.OKReplicas > len(list) || m.OKSentinels != m.OKReplicas+1 || len(m.Peers) != len(list) {
			t.Fatalf("counts %d %d %d of %d entries", m.OKSentinels, m.OKReplicas, len(m.Peers), len(list))
		}
	})
}
