package redisops

import (
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/redis-autoscaler/redis-autoscaler/exporter/redisinfo"
	"github.com/redis-autoscaler/redis-autoscaler/scaler/topology"
)

// FromInfo on saved INFO replies of Redis 7.0 (the exporter's fixtures).
func TestFromInfo(t *testing.T) {
	parse := func(path string) *redisinfo.Info {
		b, err := os.ReadFile(path)
		require.NoError(t, err)
		info, err := redisinfo.Parse(string(b))
		require.NoError(t, err)
		return info
	}
	var m topology.Pod
	FromInfo(parse("../../exporter/redisinfo/testdata/master-7.0.txt"), &m)
	assert.Equal(t, topology.Pod{Role: topology.RoleMaster, RunID: "45f7fa123ba8253f574df4e970ae990a46051d4f", ReplID: "f0e651d89915bf9459408adc11fa83decf2ad1d4",
		Offset: 2440139, Keys: 2002, ConnectedReplicas: 1}, m, "db0 + db3")

	// A reused Pod value: replica fields are reset, not left over.
	r := topology.Pod{MasterHost: "stale", LinkUp: true, SyncInProgress: true}
	FromInfo(parse("../../exporter/redisinfo/testdata/replica-7.0.txt"), &r)
	assert.Equal(t, topology.Pod{Role: topology.RoleReplica, RunID: "68f067bd407f7f44ac4c7dade00b3eb01e9a2684", ReplID: "f0e651d89915bf9459408adc11fa83decf2ad1d4",
		Offset: 2440139, Keys: 2002, MasterHost: "127.0.0.1", MasterPort: 16379, LinkUp: true}, r, "db0 + db3")
	r.Reachable = true
	assert.True(t, r.InSyncWith("127.0.0.1", 16379))
	assert.False(t, r.InSyncWith("127.0.0.1", 6379))

	FromInfo(parse("../../exporter/redisinfo/testdata/master-7.0.txt"), &r)
	assert.Empty(t, r.MasterHost)
	assert.False(t, r.LinkUp)
}
