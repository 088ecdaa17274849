// Package discovery finds Redis pods in Kubernetes and lists them as scrape
// targets, following pods as they come and go through a client-go informer.
//
// It talks to the API server with a REST client that knows only core/v1:
// client-go's clientset registers every API group at start-up, which would
// cost the lean exporter (cmd/redis-exporter) ~15 MB of RSS for nothing.
package discovery

import (
	"context"
	"fmt"
	"net"
	"sort"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	listersv1 "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"

	"github.com/redis-autoscaler/redis-autoscaler/exporter/target"
)

// Options select the pods to scrape.
type Options struct {
	// Namespace to watch; "" watches all namespaces.
	Namespace string
	// Selector is a label selector ("app=redis"); "" selects every pod.
	Selector string
	// Port overrides the Redis port; 0 uses the container port named
	// "redis" (or "tcp-redis"), else a container port 6379, else 6379.
	Port int
	// TLS scrapes pods with rediss://.
	TLS bool
}

// Pods lists Running pods matching Options from an informer cache.
type Pods struct {
	opts     Options
	selector labels.Selector
	informer cache.SharedIndexInformer
	lister   listersv1.PodLister
}

// NewForConfig watches pods through the API server at rc, listing only
// those the options select.
func NewForConfig(rc *rest.Config, opts Options) (*Pods, error) {
	sel, err := labels.Parse(opts.Selector)
	if err != nil {
		return nil, fmt.Errorf("kubernetes selector %q: %w", opts.Selector, err)
	}
	client, err := podsClient(rc)
	if err != nil {
		return nil, err
	}
	lw := cache.NewFilteredListWatchFromClient(client, "pods", opts.Namespace, func(o *metav1.ListOptions) {
		o.LabelSelector = sel.String()
	})
	return New(lw, opts)
}

// podsClient is a REST client for core/v1 that decodes Pods and nothing else.
func podsClient(rc *rest.Config) (*rest.RESTClient, error) {
	scheme := runtime.NewScheme()
	if err := corev1.AddToScheme(scheme); err != nil {
		return nil, err
	}
	metav1.AddToGroupVersion(scheme, corev1.SchemeGroupVersion)
	cfg := rest.CopyConfig(rc)
	cfg.GroupVersion = &corev1.SchemeGroupVersion
	cfg.APIPath = "/api"
	cfg.NegotiatedSerializer = serializer.NewCodecFactory(scheme).WithoutConversion()
	if cfg.UserAgent == "" {
		cfg.UserAgent = rest.DefaultKubernetesUserAgent()
	}
	return rest.RESTClientFor(cfg)
}

// New prepares an informer over lw (which should already be restricted
// to the options' namespace and selector; both are applied again when
// listing); Start runs it.
func New(lw cache.ListerWatcher, opts Options) (*Pods, error) {
	sel, err := labels.Parse(opts.Selector)
	if err != nil {
		return nil, fmt.Errorf("kubernetes selector %q: %w", opts.Selector, err)
	}
	informer := cache.NewSharedIndexInformer(lw, &corev1.Pod{}, 10*time.Minute,
		cache.Indexers{cache.NamespaceIndex: cache.MetaNamespaceIndexFunc})
	return &Pods{opts: opts, selector: sel, informer: informer, lister: listersv1.NewPodLister(informer.GetIndexer())}, nil
}

// Start runs the informer until ctx ends and waits for its first sync, so the
// first scrape already sees every pod.
func (p *Pods) Start(ctx context.Context) error {
	go p.informer.Run(ctx.Done())
	// Bounded: an API server that never answers must not hang start-up.
	syncCtx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if !cache.WaitForCacheSync(syncCtx.Done(), p.informer.HasSynced) {
		return fmt.Errorf("kubernetes pod informer did not sync within a minute: %w", syncCtx.Err())
	}
	return nil
}

// Targets lists the pods to scrape now, sorted by namespace and name.
func (p *Pods) Targets() []target.Target {
	var pods []*corev1.Pod
	var err error
	if p.opts.Namespace == "" {
		pods, err = p.lister.List(p.selector)
	} else {
		pods, err = p.lister.Pods(p.opts.Namespace).List(p.selector)
	}
	if err != nil {
		return nil
	}
	out := make([]target.Target, 0, len(pods))
	for _, pod := range pods {
		if t, ok := TargetFor(pod, p.opts); ok {
			out = append(out, t)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Namespace != out[j].Namespace {
			return out[i].Namespace < out[j].Namespace
		}
		return out[i].Pod < out[j].Pod
	})
	return out
}

// TargetFor is a pure function: a pod is a target when it runs, has an IP
// and is not being deleted. Only Port and TLS of opts are used.
func TargetFor(pod *corev1.Pod, opts Options) (target.Target, bool) {
	if pod.Status.Phase != corev1.PodRunning || pod.Status.PodIP == "" || pod.DeletionTimestamp != nil {
		return target.Target{}, false
	}
	port := opts.Port
	if port == 0 {
		port = redisPort(pod)
	}
	return target.Target{
		Network:   "tcp",
		Address:   net.JoinHostPort(pod.Status.PodIP, strconv.Itoa(port)),
		TLS:       opts.TLS,
		Namespace: pod.Namespace,
		Pod:       pod.Name,
	}, true
}

func redisPort(pod *corev1.Pod) int {
	fallback := 0
	for _, c := range pod.Spec.Containers {
		for _, cp := range c.Ports {
			switch {
			case cp.Name == "redis" || cp.Name == "tcp-redis":
				return int(cp.ContainerPort)
			case cp.ContainerPort == 6379 && fallback == 0:
				fallback = 6379
			}
		}
	}
	if fallback != 0 {
		return fallback
	}
	return 6379
}
