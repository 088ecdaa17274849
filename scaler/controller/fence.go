package controller

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// ErrNotHolder: another scaler holds the object's Lease; nothing that
// changes roles or slots may be sent.
var ErrNotHolder = errors.New("another scaler holds this object's Lease")

// FenceDuration is how long an object's Lease lasts without renewal.
const FenceDuration = 15 * time.Second

// Fence is one Lease per managed object (group or cluster), in the
// object's own namespace, whatever namespace the scaler runs in: two
// installs watching the same namespace, or a scaler that froze past its
// leader Lease and woke up beside its successor, cannot both change the
// same object. The manager's leader election picks which copy of one
// install runs; the Fence decides which scaler may act on each object.
//
// A scaler renews an object's Lease at each reconcile once half its
// duration has passed, and proves it still holds it (Check) right before
// each step that changes roles or slots: from its own clock while the
// last renewal is younger than half the duration, else by renewing.
// A scaler that froze longer than that finds on waking that another holds
// the Lease and stops. What no Lease can fence is a freeze between the
// check and the Redis command it guards: that window is one command.
type Fence struct {
	// Client writes the Leases; Reader reads them uncached (the scaler
	// needs get on Leases, not a watch of every one).
	Client client.Client
	Reader client.Reader
	// Identity names this scaler in the Leases (HolderIdentity).
	Identity string
	// Duration of a Lease; FenceDuration when zero.
	Duration time.Duration

	mu sync.Mutex
	// failed: when the API last failed a renewal (not a refusal).
	failed time.Time
	// renewed: when the last successful renewal of each Lease this scaler
	// holds was sent (local clock, taken before the request).
	renewed map[client.ObjectKey]time.Time
}

func (f *Fence) duration() time.Duration {
	if f.Duration > 0 {
		return f.Duration
	}
	return FenceDuration
}

// LeaseKey is the Lease of a managed object of kind.
func LeaseKey(kind string, obj client.ObjectKey) client.ObjectKey {
	return client.ObjectKey{Namespace: obj.Namespace, Name: "redis-autoscaler-" + strings.ToLower(kind) + "-" + obj.Name}
}

func (f *Fence) fresh(key client.ObjectKey) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	t, ok := f.renewed[key]
	return ok && time.Since(t) < f.duration()/2
}

// Hold makes sure this scaler holds the Lease (renewing it once half its
// duration has passed). When another holds it, held is false and wait is
// how long its Lease still runs.
func (f *Fence) Hold(ctx context.Context, key client.ObjectKey) (held bool, wait time.Duration, err error) {
	if f.fresh(key) {
		return true, 0, nil
	}
	return f.renew(ctx, key)
}

// Check returns nil while this scaler provably holds the Lease, else
// ErrNotHolder (or the API's error): run it right before each step that
// changes roles or slots.
func (f *Fence) Check(ctx context.Context, key client.ObjectKey) error {
	held, wait, err := f.Hold(ctx, key)
	switch {
	case err != nil:
		return fmt.Errorf("renew Lease %s: %w", key, err)
	case !held:
		return fmt.Errorf("%w (%s, %v left)", ErrNotHolder, key, wait.Round(time.Second))
	}
	return nil
}

func (f *Fence) renew(ctx context.Context, key client.ObjectKey) (bool, time.Duration, error) {
	sent := time.Now()
	d := f.duration()
	var lease coordinationv1.Lease
	err := f.Reader.Get(ctx, key, &lease)
	now := metav1.NewMicroTime(sent)
	switch {
	case apierrors.IsNotFound(err):
		lease = coordinationv1.Lease{
			ObjectMeta: metav1.ObjectMeta{Namespace: key.Namespace, Name: key.Name},
			Spec: coordinationv1.LeaseSpec{HolderIdentity: ptr.To(f.Identity), LeaseDurationSeconds: ptr.To(int32(d / time.Second)),
				AcquireTime: &now, RenewTime: &now},
		}
		err = f.Client.Create(ctx, &lease)
	case err != nil:
	default:
		holder := ptr.Deref(lease.Spec.HolderIdentity, "")
		if holder != f.Identity && holder != "" && lease.Spec.RenewTime != nil {
			ends := lease.Spec.RenewTime.Add(time.Duration(ptr.Deref(lease.Spec.LeaseDurationSeconds, int32(d/time.Second))) * time.Second)
			if left := time.Until(ends); left > 0 {
				f.forget(key)
				return false, left, nil
			}
		}
		if holder != f.Identity {
			lease.Spec.AcquireTime = &now
			lease.Spec.LeaseTransitions = ptr.To(ptr.Deref(lease.Spec.LeaseTransitions, 0) + 1)
		}
		lease.Spec.HolderIdentity, lease.Spec.RenewTime = ptr.To(f.Identity), &now
		lease.Spec.LeaseDurationSeconds = ptr.To(int32(d / time.Second))
		err = f.Client.Update(ctx, &lease) // resourceVersion: a concurrent taker wins, this one retries
	}
	if apierrors.IsConflict(err) || apierrors.IsAlreadyExists(err) {
		f.forget(key)
		return false, time.Second, nil
	}
	if err != nil {
		f.forget(key)
		f.mu.Lock()
		f.failed = time.Now()
		f.mu.Unlock()
		return false, 0, err
	}
	f.mu.Lock()
	if f.renewed == nil {
		f.renewed = map[client.ObjectKey]time.Time{}
	}
	f.renewed[key] = sent
	f.mu.Unlock()
	return true, 0, nil
}

func (f *Fence) forget(key client.ObjectKey) {
	f.mu.Lock()
	delete(f.renewed, key)
	f.mu.Unlock()
}

// Recovering reports whether the API failed a renewal within window. The
// manager's caches are stale for a while after an API outage (its
// informers reconnect with back-off, up to half a minute): a reconcile
// that acts then must read what it compares its writes with uncached, or
// it takes its own fresh writes for done (a label patched during the
// outage's recovery read back as its value from before the outage).
func (f *Fence) Recovering(window time.Duration) bool {
	if f == nil {
		return false
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return !f.failed.IsZero() && time.Since(f.failed) < window
}

// ReleaseAll gives up every Lease this scaler holds, so that a successor
// need not wait them out (a clean shutdown).
func (f *Fence) ReleaseAll(ctx context.Context) {
	f.mu.Lock()
	keys := make([]client.ObjectKey, 0, len(f.renewed))
	for k := range f.renewed {
		keys = append(keys, k)
	}
	f.renewed = nil
	f.mu.Unlock()
	for _, key := range keys {
		var lease coordinationv1.Lease
		if err := f.Reader.Get(ctx, key, &lease); err != nil || ptr.Deref(lease.Spec.HolderIdentity, "") != f.Identity {
			continue
		}
		lease.Spec.HolderIdentity = nil
		_ = f.Client.Update(ctx, &lease)
	}
}
