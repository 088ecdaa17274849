package controller

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
)

// A reconcile failing through a minute's API outage is retried within
// MaxBackoff of the API's return, not after controller-runtime's default
// doubling (which reaches about 40 s after a minute of failures).
func TestRateLimiterCapsBackoff(t *testing.T) {
	rl := RateLimiter()
	req := reconcile.Request{NamespacedName: types.NamespacedName{Namespace: "ns", Name: "cache"}}
	var waited time.Duration
	var last time.Duration
	for waited < time.Minute {
		last = rl.When(req)
		waited += last
	}
	assert.Equal(t, MaxBackoff, last)
	rl.Forget(req)
	assert.Equal(t, 5*time.Millisecond, rl.When(req), "a success starts over")
}
