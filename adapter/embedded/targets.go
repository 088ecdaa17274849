package embedded

import (
	"context"
	"log/slog"
	"sync"
	"time"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
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

// PodsToScrape lists running pods to scrape, each once.
func (r *Resolver) PodsToScrape(ctx context.Context) []*corev1.Pod {
	seen := map[string]bool{}
	var out []*corev1.Pod
	add := func(pods []*corev1.Pod) {
		for _, p := range pods {
			k := p.Namespace + "/" + p.Name
			if !seen[k] && p.Status.Phase == corev1.PodRunning && p.Status.PodIP != "" && p.DeletionTimestamp == nil {
				seen[k] = true
				out = append(out, p)
			}
		}
	}
	if r.Selector != nil {
		var pods []*corev1.Pod
		if r.Namespace == "" {
			pods, _ = r.Pods.List(r.Selector)
		} else {
			pods, _ = r.Pods.Pods(r.Namespace).List(r.Selector)
		}
		add(pods)
	}
	hpas, _ := r.HPAs.List(labels.Everything())
	for _, hpa := range hpas {
		for _, ref := range ObjectsOf(hpa) {
			sel, ok := r.selectorOf(ctx, ref)
			if !ok {
				continue
			}
			pods, _ := r.Pods.Pods(ref.namespace).List(sel)
			add(pods)
		}
	}
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

func (r *Resolver) selectorOf(ctx context.Context, ref objectRef) (labels.Selector, bool) {
	r.mu.Lock()
	if c, ok := r.cache[ref]; ok && time.Since(c.at) < selectorTTL {
		r.mu.Unlock()
		return c.selector, true
	}
	r.mu.Unlock()

	gv, err := schema.ParseGroupVersion(ref.apiVersion)
	if err != nil {
		return nil, false
	}
	mapping, err := r.Mapper.RESTMapping(schema.GroupKind{Group: gv.Group, Kind: ref.kind}, gv.Version)
	if err != nil {
		r.log("cannot map HPA target kind", ref, err)
		return nil, false
	}
	sc, err := r.Scales.Scales(ref.namespace).Get(ctx, mapping.Resource.GroupResource(), ref.name, metav1.GetOptions{})
	if err != nil {
		r.log("cannot read /scale of HPA target", ref, err)
		return nil, false
	}
	sel, err := labels.Parse(sc.Status.Selector)
	if err != nil || sel.Empty() {
		// An empty selector would select every pod in the namespace.
		r.log("HPA target has no usable selector in /scale", ref, err)
		return nil, false
	}
	r.mu.Lock()
	if r.cache == nil {
		r.cache = map[objectRef]cachedSelector{}
	}
	r.cache[ref] = cachedSelector{selector: sel, at: time.Now()}
	r.mu.Unlock()
	return sel, true
}

func (r *Resolver) log(msg string, ref objectRef, err error) {
	if r.Logger != nil {
		r.Logger.Warn(msg, "namespace", ref.namespace, "kind", ref.kind, "name", ref.name, "err", err)
	}
}
