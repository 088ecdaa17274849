package collector

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/redis-autoscaler/redis-autoscaler/exporter/scraper"
	"github.com/redis-autoscaler/redis-autoscaler/test/redistest"
)

// CONFIG GET *, when asked: settings as labels and values, never a secret.
func TestConfigMetrics(t *testing.T) {
	const password = "config-Secret-pw"
	s := redistest.StartWith(t, redistest.Options{Password: password, Args: []string{"--maxmemory", "64mb", "--masterauth", password}})
	c := extrasCollector(t, scraper.Extras{Config: true}, s)
	gather(t, c)
	mfs := gather(t, c)
	up, _ := value(t, mfs, "redis_up", nil)
	require.Equal(t, 1.0, up)
	v, ok := value(t, mfs, "redis_config_value", map[string]string{"key": "maxmemory"})
	require.True(t, ok)
	assert.Equal(t, float64(64<<20), v)
	_, ok = value(t, mfs, "redis_config_key_value", map[string]string{"key": "maxmemory-policy", "value": "noeviction"})
	assert.True(t, ok)
	v, _ = value(t, mfs, "redis_config_maxmemory", nil)
	assert.Equal(t, float64(64<<20), v)
	_, ok = value(t, mfs, "redis_config_client_output_buffer_limit_bytes", map[string]string{"class": "replica", "limit": "hard"})
	if !ok {
		_, ok = value(t, mfs, "redis_config_client_output_buffer_limit_bytes", map[string]string{"class": "slave", "limit": "hard"})
	}
	assert.True(t, ok)
	text := exposition(t, c)
	assert.NotContains(t, text, password)
	assert.NotContains(t, text, `key="requirepass"`)
	assert.NotContains(t, text, `key="masterauth"`)
}
