package redisreply

import (
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseClusterNodes(t *testing.T) {
	text := "07c3 127.0.0.1:30004@31004,node-4 slave e7d1 0 1426238317239 4 connected\n" +
		"67ed 127.0.0.1:30002@31002 master - 0 1426238316232 2 connected 5461-10922 [10923->-292f]\n" +
		"292f 127.0.0.1:30003@31003 myself,master - 0 0 3 connected 10923-16383 [5000-<-67ed]\n" +
		"e7d1 127.0.0.1:30001@31001 master,fail - 1426238316232 1426238316232 1 disconnected 0 17\n"
	nodes, err := ParseClusterNodes(text)
	require.NoError(t, err)
	require.Len(t, nodes, 4)
	assert.Equal(t, "e7d1", nodes[0].MasterID)
	assert.Equal(t, "127.0.0.1:30004", nodes[0].Addr)
	assert.Equal(t, "node-4", nodes[0].Hostname)
	assert.Equal(t, 31004, nodes[0].BusPort, "bus port before the hostname")
	assert.Equal(t, 31002, nodes[1].BusPort)
	assert.False(t, nodes[0].Master())
	assert.Len(t, nodes[1].Slots, 5462)
	assert.Equal(t, map[int]string{10923: "292f"}, nodes[1].Migrating)
	assert.Equal(t, map[int]string{5000: "67ed"}, nodes[2].Importing)
	assert.True(t, nodes[2].Has("myself"))
	assert.Equal(t, []int{0, 17}, nodes[3].Slots)
	assert.True(t, nodes[3].Has("fail"))
}

// A line that is not whole makes an error naming it; the nodes it names
// are still returned, for callers that need only addresses.
func TestParseClusterNodesRefusesPartialLines(t *testing.T) {
	for _, tc := range []struct {
		name, text string
		nodes      int
	}{
		{"too few fields to name a node", "a b", 0},
		{"too few fields for a whole line", "a b c", 1},
		{"slot past the last", "x 1:2@3 master - 0 0 1 connected 16384", 1},
		{"range backwards", "x 1:2@3 master - 0 0 1 connected 9-3", 1},
		{"unknown slot state", "x 1:2@3 master - 0 0 1 connected [1-?-y]", 1},
		{"good line then garbage", "x 1:2@3 master - 0 0 1 connected 0-3\ngarbage", 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			nodes, err := ParseClusterNodes(tc.text)
			assert.Error(t, err)
			assert.Len(t, nodes, tc.nodes)
		})
	}
}

func TestParseClusterNodesAddressField(t *testing.T) {
	for _, tc := range []struct {
		name, field, addr, hostname string
		bus                         int
	}{
		{"ip and bus", "10.0.0.1:6379@16379", "10.0.0.1:6379", "", 16379},
		{"hostname (7.0)", "10.0.0.1:6379@16379,redis-1.cache", "10.0.0.1:6379", "redis-1.cache", 16379},
		{"hostname and auxiliary fields (7.2)", "10.0.0.1:6379@16379,redis-1,shard-id=ab,tls-port=0", "10.0.0.1:6379", "redis-1", 16379},
		{"no hostname, auxiliary fields (7.2)", "10.0.0.1:6379@16379,,shard-id=ab", "10.0.0.1:6379", "", 16379},
		{"no bus port (Redis < 4)", "10.0.0.1:6379", "10.0.0.1:6379", "", 0},
		{"IPv6", "[::1]:7003@17003", "[::1]:7003", "", 17003},
		{"no address", ":0@0", ":0", "", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			nodes, err := ParseClusterNodes("id " + tc.field + " master - 0 0 1 connected")
			require.NoError(t, err)
			require.Len(t, nodes, 1)
			assert.Equal(t, tc.addr, nodes[0].Addr)
			assert.Equal(t, tc.hostname, nodes[0].Hostname)
			assert.Equal(t, tc.bus, nodes[0].BusPort)
		})
	}
}

func TestClusterNodeAddresses(t *testing.T) {
	const text = "eaf69c70d876558a948ba62af0884a37d42c9627 127.0.0.1:7002@17002 master - 0 1742836359057 3 connected 10923-16383\n" +
		"07c37dfeb235213a872192d90877d0cd55635b91 10.0.0.2:6379@16379,redis-1.cache myself,master - 0 0 1 connected 0-5460\n" +
		"e7d1eecce10fd6bb5eb35b9f99a514335d9ba9ca :0@0 master,noaddr - 0 0 0 disconnected\n" +
		"6ec23923021cf3ffec47632106199cb7f496ce01 [::1]:7003@17003 slave 07c37dfeb235213a872192d90877d0cd55635b91 0 0 1 connected\n" +
		"garbage\n" +
		"x 10.0.0.9:99999@1 master - 0 0 0 connected\n"
	for _, tc := range []struct {
		name      string
		hostnames bool
		want      []string
	}{
		{"by ip", false, []string{"127.0.0.1:7002", "10.0.0.2:6379", "[::1]:7003"}},
		{"by hostname where announced", true, []string{"127.0.0.1:7002", "redis-1.cache:6379", "[::1]:7003"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			nodes, _ := ParseClusterNodes(text) // "garbage" is an error; discovery takes the rest
			assert.Equal(t, tc.want, ClusterNodeAddresses(nodes, tc.hostnames))
		})
	}
}

// Replies of a real Redis 7.0 cluster: three masters and a replica, a slot
// being moved (both ends), a node in handshake, a master failed.
func TestParseClusterNodesRealReplies(t *testing.T) {
	const (
		node1 = "7d9295492592b048045d26f4bcfe545c3380f7de"
		node2 = "43eb4708b355eecafc2d0c3b0d2d90903a26214a"
		node3 = "779446c2f0f78b3464d92dcd1b0abbe3fe85d1f4"
	)
	for _, tc := range []struct {
		file  string
		check func(t *testing.T, byID map[string]ClusterNode)
	}{
		{"cluster-nodes-7.0-stable.txt", func(t *testing.T, byID map[string]ClusterNode) {
			assert.True(t, byID[node1].Has("myself"))
			assert.Equal(t, node1, byID["5b3ac810b70379fa97037b08d5f60d462eda1bb9"].MasterID)
			assert.Len(t, byID[node2].Slots, 10922-5461+1)
		}},
		{"cluster-nodes-7.0-migrating.txt", func(t *testing.T, byID map[string]ClusterNode) {
			assert.Equal(t, map[int]string{10923: node2}, byID[node3].Migrating)
			assert.Equal(t, "node-1.redis", byID[node1].Hostname)
			assert.Equal(t, 37101, byID[node1].BusPort)
		}},
		{"cluster-nodes-7.0-importing.txt", func(t *testing.T, byID map[string]ClusterNode) {
			assert.Equal(t, map[int]string{10923: node3}, byID[node2].Importing)
			assert.Len(t, byID[node2].Slots, 10922-5461+1, "an importing slot is not owned yet")
		}},
		{"cluster-nodes-7.0-handshake.txt", func(t *testing.T, byID map[string]ClusterNode) {
			assert.True(t, byID["448071c997f57870b3e5094f2be89fd4af80abc0"].Has("handshake"))
		}},
		{"cluster-nodes-7.0-fail.txt", func(t *testing.T, byID map[string]ClusterNode) {
			assert.True(t, byID[node3].Has("fail"))
			assert.True(t, byID[node3].Master())
			assert.Len(t, byID[node3].Slots, 16383-10923+1)
		}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join("testdata", tc.file))
			require.NoError(t, err)
			nodes, err := ParseClusterNodes(string(raw))
			require.NoError(t, err)
			byID := map[string]ClusterNode{}
			for _, n := range nodes {
				byID[n.ID] = n
			}
			tc.check(t, byID)
			assert.Len(t, ClusterNodeAddresses(nodes, true), len(nodes), "every node has an address")
		})
	}
}

// Whatever CLUSTER NODES holds, every slot accepted is a slot and every
// node address listed is a usable host:port.
func FuzzParseClusterNodes(f *testing.F) {
	f.Add("eaf69c70 127.0.0.1:7002@17002 master - 0 1742836359057 3 connected 10923-16383\n", true)
	f.Add("x 1.2.3.4:5@6,a]b master\ny 1.2.3.4:5@6,a/b master\n", true)
	f.Add("a 10.0.0.2:6379@16379,redis-1 myself,master - 0 0 1 connected\nb :0@0 noaddr\n", false)
	f.Add("67ed 127.0.0.1:30002@31002 master - 0 1426238316232 2 connected 5461-10922 [10923->-292f]\n", false)
	real, _ := filepath.Glob(filepath.Join("testdata", "cluster-nodes-*.txt"))
	for _, name := range real {
		raw, err := os.ReadFile(name)
		require.NoError(f, err)
		f.Add(string(raw), true)
	}
	f.Fuzz(func(t *testing.T, text string, hostnames bool) {
		nodes, _ := ParseClusterNodes(text) // a refused reply's nodes too
		for _, n := range nodes {
			for _, slot := range n.Slots {
				if slot < 0 || slot >= SlotCount {
					t.Fatalf("slot %d accepted", slot)
				}
			}
			for slot := range n.Migrating {
				if slot < 0 || slot >= SlotCount {
					t.Fatalf("migrating slot %d accepted", slot)
				}
			}
			for slot := range n.Importing {
				if slot < 0 || slot >= SlotCount {
					t.Fatalf("importing slot %d accepted", slot)
				}
			}
		}
		for _, n := range ClusterNodeAddresses(nodes, hostnames) {
			host, port, err := net.SplitHostPort(n)
			if err != nil || host == "" {
				t.Fatalf("%q: not host:port: %v", n, err)
			}
			if u, err := url.Parse("redis://" + n); err != nil || u.Port() != port {
				t.Fatalf("%q: not a URL's host: %v", n, err)
			}
			if p, err := strconv.Atoi(port); err != nil || p <= 0 || p > 65535 {
				t.Fatalf("%q: bad port", n)
			}
		}
	})
}
