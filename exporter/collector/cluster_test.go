package collector

import (
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/redis-autoscaler/redis-autoscaler/exporter/scraper"
	"github.com/redis-autoscaler/redis-autoscaler/test/redistest"
)

// A cluster-enabled Redis gets CLUSTER INFO without being asked, and its
// fields are redis_exporter's redis_cluster_* families.
func TestClusterInfo(t *testing.T) {
	s := redistest.Start(t, "--cluster-enabled", "yes")
	c := extrasCollector(t, scraper.Extras{}, s)
	gather(t, c)
	mfs := gather(t, c)
	state, ok := value(t, mfs, "redis_cluster_state", nil)
	require.True(t, ok, "cluster_state")
	assert.Equal(t, 0.0, state, "no slots assigned: fail")
	nodes, ok := value(t, mfs, "redis_cluster_known_nodes", nil)
	assert.True(t, ok)
	assert.Equal(t, 1.0, nodes)
	_, ok = value(t, mfs, "redis_cluster_slots_assigned", nil)
	assert.True(t, ok)
	assert.Equal(t, dto.MetricType_GAUGE, mfs["redis_cluster_messages_sent_total"].GetType(), "a gauge, as redis_exporter has it")

	plain := extrasCollector(t, scraper.Extras{}, redistest.Start(t))
	assert.NotContains(t, gather(t, plain), "redis_cluster_state", "no CLUSTER INFO without cluster mode")
}
