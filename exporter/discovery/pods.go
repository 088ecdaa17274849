// Package discovery finds Redis pods in Kubernetes and lists them as scrape
// targets, following pods as they come and go through a client-go informer.
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
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	listersv1 "k8s.io/client-go/listers/core/v1"
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
	factory  informers.SharedInformerFactory
	lister   listersv1.PodLister
	synced   cache.InformerSynced
}

// New validates the options and prepares the informer; Start runs it.
func New(client kubernetes.Interface, opts Options) (*Pods, error) {
	sel, err := labels.Parse(opts.Selector)
	if err != nil {
		return nil, fmt.Errorf("kubernetes selector %q: %w", opts.Selector, err)
	}
	factory := informers.NewSharedInformerFactoryWithOptions(client, 10*time.Minute,
		informers.WithNamespace(opts.Namespace),
		informers.WithTweakListOptions(func(o *metav1.ListOptions) { o.LabelSelector = sel.String() }))
	podInformer := factory.Core().V1().Pods()
	return &Pods{opts: opts, selector: sel, factory: factory, lister: podInformer.Lister(), synced: podInformer.Informer().HasSynced}, nil
}

// Start runs the informer until ctx ends and waits for its first sync, so the
// first scrape already sees every pod.
func (p *Pods) Start(ctx context.Context) error {
	p.factory.Start(ctx.Done())
	// Bounded: an API server that never answers must not hang start-up.
	syncCtx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if !cache.WaitForCacheSync(syncCtx.Done(), p.synced) {
		return fmt.Errorf("kubernetes pod informer did not sync within a minute: %w", syncCtx.Err())
	}
	return nil
}

// Targets lists the pods to scrape now, sorted by namespace and name.
func (p *Pods) Targets() []target.Target {
	pods, err := p.lister.List(p.selector)
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
