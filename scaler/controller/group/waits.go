package group

import (
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/types"
)

// failoverWait bounds how long an election after losing the master waits
// for running pods that do not answer (a stalled replica may be the only
// one holding the last acknowledged writes). Sentinel's equivalent is
// down-after-milliseconds; past it the best pod that answers is promoted
// and the Event says what may be lost.
const failoverWait = 10 * time.Second

// waits remembers since when each group's election has been waiting. It
// lives in memory only: a restarted scaler starts the wait again, which
// can lengthen an outage but never shortens the wait.
type waits struct {
	mu    sync.Mutex
	since map[types.NamespacedName]time.Time
}

// start records the beginning of a wait; true when it was not waiting.
func (w *waits) start(key types.NamespacedName) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.since == nil {
		w.since = map[types.NamespacedName]time.Time{}
	}
	if _, ok := w.since[key]; ok {
		return false
	}
	w.since[key] = time.Now()
	return true
}

// over reports whether the group has waited longer than bound.
func (w *waits) over(key types.NamespacedName, bound time.Duration) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	t, ok := w.since[key]
	return ok && time.Since(t) > bound
}

func (w *waits) clear(key types.NamespacedName) {
	w.mu.Lock()
	defer w.mu.Unlock()
	delete(w.since, key)
}
