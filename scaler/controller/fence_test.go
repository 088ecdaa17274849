package controller

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	coordinationv1 "k8s.io/api/coordination/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
)

// The Fence's rules on a fake API: the first scaler takes the Lease, a
// second waits while it runs, takes it once it ran out, and the first's
// Check then fails; a clean release hands it over at once.
func TestFence(t *testing.T) {
	ctx := context.Background()
	scheme := runtime.NewScheme()
	require.NoError(t, coordinationv1.AddToScheme(scheme))
	c := fake.NewClientBuilder().WithScheme(scheme).Build()
	key := LeaseKey("RedisReplicationGroup", client.ObjectKey{Namespace: "ns", Name: "cache"})
	assert.Equal(t, "redis-autoscaler-redisreplicationgroup-cache", key.Name)
	a := &Fence{Client: c, Reader: c, Identity: "a"}
	b := &Fence{Client: c, Reader: c, Identity: "b"}

	held, _, err := a.Hold(ctx, key)
	require.NoError(t, err)
	assert.True(t, held, "a takes a new Lease")
	held, wait, err := b.Hold(ctx, key)
	require.NoError(t, err)
	assert.False(t, held, "b waits while a's Lease runs")
	assert.InDelta(t, FenceDuration.Seconds(), wait.Seconds(), 2)
	require.NoError(t, a.Check(ctx, key))

	// a freezes: its Lease runs out (renewed 20 s ago) and its own clock
	// says its last renewal is old.
	var l coordinationv1.Lease
	require.NoError(t, c.Get(ctx, key, &l))
	l.Spec.RenewTime = ptr.To(metav1.NewMicroTime(time.Now().Add(-20 * time.Second)))
	require.NoError(t, c.Update(ctx, &l))
	a.mu.Lock()
	a.renewed[key] = time.Now().Add(-20 * time.Second)
	a.mu.Unlock()
	held, _, err = b.Hold(ctx, key)
	require.NoError(t, err)
	assert.True(t, held, "b takes a Lease that ran out")
	err = a.Check(ctx, key)
	assert.True(t, errors.Is(err, ErrNotHolder), "a, awake, is fenced: %v", err)

	b.ReleaseAll(ctx)
	held, _, err = a.Hold(ctx, key)
	require.NoError(t, err)
	assert.True(t, held, "a released Lease is taken at once")
	require.NoError(t, c.Get(ctx, key, &l))
	assert.EqualValues(t, 2, ptr.Deref(l.Spec.LeaseTransitions, 0))
}
