package embedded

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	autoscalinglisters "k8s.io/client-go/listers/autoscaling/v2"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/scale"

	"github.com/redis-autoscaler/redis-autoscaler/adapter/source"
)

// Resolver finds the pods to scrape: those behind every HPA that uses one of
// our metrics (through the /scale subresource's selector of its scale target
// and of any described object), plus pods selected explicitly.
type Resolver struct {
	HPAs   autoscalinglisters.HorizontalPodAutoscalerLister
	Pods   corelisters.PodLister
	Scales scale.ScalesGetter
	Mapper meta.RESTMapper

	// Explicit pods: every pod matching Selector in Namespace ("" = all),
	// when Selector is not nil.
	Selector  labels.Selector
	Namespace string
	Logger    *slog.Logger

	mu    sync.Mutex
	cache map[objectRef]cachedSelector
}

// apiTimeout bounds one /scale read: a slow API server must not hold a
// scrape round.
const apiTimeout = 5 * time.Second

type objectRef struct {
	namespace, apiVersion, kind, name string
}

type cachedSelector struct {
	selector labels.Selector
	at       time.Time
}

// selectorTTL bounds how often an object's /scale is read: selectors rarely
// change, and a request per HPA per scrape would load the API server.
const selectorTTL = 30 * time.Second

// PodsToScrape lists running pods to scrape, each once. Objects no HPA
// refers to any more are forgotten.
func (r *Resolver) PodsToScrape(ctx context.Context) []*corev1.Pod {
	seen := map[string]bool{}
	var out []*corev1.Pod
	add := func(pods []*corev1.Pod, err error, what ...any) {
		if err != nil {
			r.warn("cannot list pods", append(what, "err", err)...)
			return
		}
		for _, p := range pods {
			k := p.Namespace + "/" + p.Name
			if !seen[k] && p.Status.Phase == corev1.PodRunning && p.Status.PodIP != "" && p.DeletionTimestamp == nil {
				seen[k] = true
				out = append(out, p)
			}
		}
	}
	if r.Selector != nil {
		if r.Namespace == "" {
			add(r.Pods.List(r.Selector))
		} else {
			add(r.Pods.Pods(r.Namespace).List(r.Selector))
		}
	}
	hpas, err := r.HPAs.List(labels.Everything())
	if err != nil {
		r.warn("cannot list HPAs", "err", err)
	}
	used := map[objectRef]bool{}
	for _, hpa := range hpas {
		for _, ref := range ObjectsOf(hpa) {
			used[ref] = true
			sel, ok := r.selectorOf(ctx, ref)
			if !ok {
				continue
			}
			pods, err := r.Pods.Pods(ref.namespace).List(sel)
			add(pods, err, "namespace", ref.namespace, "selector", sel.String())
		}
	}
	r.mu.Lock()
	for ref := range r.cache {
		if !used[ref] {
			delete(r.cache, ref)
		}
	}
	r.mu.Unlock()
	return out
}

// ObjectsOf returns the objects whose pods an HPA's metrics of ours are
// about: its scale target when it uses one of our Pods or Object metrics,
// and each Object metric's described object. Pure, for tests.
func ObjectsOf(hpa *autoscalingv2.HorizontalPodAutoscaler) []objectRef {
	ours := source.InHPA(hpa)
	if len(ours) == 0 {
		return nil
	}
	t := hpa.Spec.ScaleTargetRef
	refs := []objectRef{{hpa.Namespace, t.APIVersion, t.Kind, t.Name}}
	for _, m := range ours {
		if d := m.Described; d != nil {
			refs = append(refs, objectRef{hpa.Namespace, d.APIVersion, d.Kind, d.Name})
		}
	}
	return refs
}

// selectorOf is the pod selector of ref's /scale, read at most every
// selectorTTL. When a read fails for a reason that may pass (a timeout, the
// API server restarting), the last known selector is kept: dropping it
// would make the source forget every window of the object's pods. Only an
// object that is gone, or whose /scale has no usable selector, is dropped.
func (r *Resolver) selectorOf(ctx context.Context, ref objectRef) (labels.Selector, bool) {
	r.mu.Lock()
	c, cached := r.cache[ref]
	r.mu.Unlock()
	if cached && time.Since(c.at) < selectorTTL {
		return c.selector, true
	}
	sel, err := r.readSelector(ctx, ref)
	r.mu.Lock()
	defer r.mu.Unlock()
	switch {
	case err == nil:
		if r.cache == nil {
			r.cache = map[objectRef]cachedSelector{}
		}
		r.cache[ref] = cachedSelector{selector: sel, at: time.Now()}
		return sel, true
	case cached && !errors.Is(err, errGone):
		r.log("cannot read /scale of HPA target; keeping its last selector", ref, err)
		return c.selector, true
	default:
		delete(r.cache, ref)
		r.log("HPA target has no usable selector", ref, err)
		return nil, false
	}
}

// errGone: the object is deleted, or its /scale has no usable selector.
var errGone = errors.New("no usable selector")

func (r *Resolver) readSelector(ctx context.Context, ref objectRef) (labels.Selector, error) {
	gv, err := schema.ParseGroupVersion(ref.apiVersion)
	if err != nil {
		return nil, fmt.Errorf("%w: apiVersion: %v", errGone, err)
	}
	mapping, err := r.Mapper.RESTMapping(schema.GroupKind{Group: gv.Group, Kind: ref.kind}, gv.Version)
	if err != nil {
		return nil, fmt.Errorf("cannot map kind: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, apiTimeout)
	defer cancel()
	sc, err := r.Scales.Scales(ref.namespace).Get(ctx, mapping.Resource.GroupResource(), ref.name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, fmt.Errorf("%w: %v", errGone, err)
	}
	if err != nil {
		return nil, err
	}
	sel, err := labels.Parse(sc.Status.Selector)
	if err != nil || sel.Empty() {
		// An empty selector would select every pod in the namespace.
		return nil, fmt.Errorf("%w in /scale %q", errGone, sc.Status.Selector)
	}
	return sel, nil
}

func (r *Resolver) log(msg string, ref objectRef, err error) {
	r.warn(msg, "namespace", ref.namespace, "kind", ref.kind, "name", ref.name, "err", err)
}

func (r *Resolver) warn(msg string, args ...any) {
	if r.Logger != nil {
		r.Logger.Warn(msg, args...)
	}
}
