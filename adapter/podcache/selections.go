package podcache

import (
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
)

// Selections is a pod lister that remembers which pods a namespaced
// selector matched. The HPA asks for the same selector every 15 s and the
// embedded source resolves it every interval, while the pods of a
// namespace change rarely; matching the selector against every pod of the
// namespace was the largest share of the provider's time (9 % of the
// adapter's CPU at 500 pods, BenchmarkThroughAggregator's profile).
//
// A namespace's remembered answers are dropped by any pod event in that
// namespace, so an answer is never older than the informer's view.
// Returned slices are shared between callers and must not be modified.
type Selections struct {
	corelisters.PodLister

	mu      sync.Mutex
	gen     map[string]uint64 // per namespace, bumped by every pod event (a counter per namespace ever seen)
	epoch   uint64            // bumped by an event no namespace can be told for
	entries map[selKey]*selEntry
	swept   time.Time
	now     func() time.Time
}

type selKey struct{ namespace, selector string }

type selEntry struct {
	gen  [2]uint64 // epoch and the namespace's generation
	pods []*corev1.Pod
	used time.Time
}

// selIdle is how long an answer nobody asks for is kept; every caller asks
// at least every HPA sync period (15 s by default).
const selIdle = 5 * time.Minute

// NewSelections wraps lister; events from informer (the informer the
// lister reads) invalidate. Call it before the informer starts.
func NewSelections(lister corelisters.PodLister, informer cache.SharedIndexInformer) (*Selections, error) {
	s := &Selections{PodLister: lister, gen: map[string]uint64{}, entries: map[selKey]*selEntry{}, now: time.Now}
	bump := func(obj any) {
		if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
			obj = t.Obj
		}
		ns := ""
		if pod, ok := obj.(*corev1.Pod); ok {
			ns = pod.Namespace
		}
		s.mu.Lock()
		if ns == "" {
			// Not a pod we can place: forget everything.
			s.epoch++
			clear(s.entries)
		} else {
			s.gen[ns]++
		}
		s.mu.Unlock()
	}
	_, err := informer.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    bump,
		UpdateFunc: func(_, obj any) { bump(obj) },
		DeleteFunc: bump,
	})
	return s, err
}

// Pods returns a namespace's lister with remembered selections.
func (s *Selections) Pods(namespace string) corelisters.PodNamespaceLister {
	return nsSelections{PodNamespaceLister: s.PodLister.Pods(namespace), s: s, namespace: namespace}
}

type nsSelections struct {
	corelisters.PodNamespaceLister
	s         *Selections
	namespace string
}

func (n nsSelections) List(selector labels.Selector) ([]*corev1.Pod, error) {
	return n.s.list(n.namespace, selector, n.PodNamespaceLister.List)
}

func (s *Selections) list(namespace string, selector labels.Selector, match func(labels.Selector) ([]*corev1.Pod, error)) ([]*corev1.Pod, error) {
	key := selKey{namespace, selector.String()}
	now := s.now()
	s.mu.Lock()
	s.sweep(now)
	gen := s.version(namespace)
	if e, ok := s.entries[key]; ok && e.gen == gen {
		e.used = now
		s.mu.Unlock()
		return e.pods, nil
	}
	s.mu.Unlock()

	pods, err := match(selector)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	// Kept only if no event came while matching: an answer computed
	// before an event must not outlive it.
	if s.version(namespace) == gen {
		s.entries[key] = &selEntry{gen: gen, pods: pods, used: now}
	}
	s.mu.Unlock()
	return pods, nil
}

// sweep drops answers nobody asked for in selIdle, once a minute; s.mu is
// held.
func (s *Selections) sweep(now time.Time) {
	if now.Sub(s.swept) < time.Minute {
		return
	}
	s.swept = now
	for k, e := range s.entries {
		if now.Sub(e.used) > selIdle || e.gen != s.version(k.namespace) {
			delete(s.entries, k)
		}
	}
}

// version is what an answer for namespace was computed at; s.mu is held.
func (s *Selections) version(namespace string) [2]uint64 {
	return [2]uint64{s.epoch, s.gen[namespace]}
}
