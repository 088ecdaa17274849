package controller

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/redis-autoscaler/redis-autoscaler/scaler/credentials"
	"github.com/redis-autoscaler/redis-autoscaler/scaler/redisops"
)

func TestConnsKeyedByCredentials(t *testing.T) {
	c := NewConns(nil)
	defer c.closeAll()
	a := c.Get("10.0.0.1", 6379, redisops.Auth{Password: "one"}, credentials.TLS{})
	assert.Same(t, a, c.Get("10.0.0.1", 6379, redisops.Auth{Password: "one"}, credentials.TLS{}))
	assert.NotSame(t, a, c.Get("10.0.0.1", 6379, redisops.Auth{Password: "two"}, credentials.TLS{}), "a changed password gets a new client")
	assert.NotSame(t, a, c.Get("10.0.0.1", 6379, redisops.Auth{Password: "one"}, credentials.TLS{Key: "tls"}))
	for k := range c.clients {
		assert.NotContains(t, k, "one", "no password in the key")
	}
	c.sweep(-1)
	assert.Empty(t, c.clients)
}
