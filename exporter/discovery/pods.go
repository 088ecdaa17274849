// Package discovery finds Redis pods in Kubernetes and lists them as scrape
// targets, following pods as they come and go with a list and a watch of
// pods (see Config for why not client-go).
package discovery

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sort"
	"strconv"
	"sync"
	"time"

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
	// Logger tells of list and watch failures (default slog.Default()).
	Logger *slog.Logger
}

// Pod is what discovery keeps of a pod.
type Pod struct {
	Namespace, Name string
	Phase           string // "Running", ...
	IP              string
	Deleting        bool // has a deletion timestamp
	Ports           []Port
}

// Port is a container port.
type Port struct {
	Name   string
	Number int
}

// Pods lists Running pods matching Options, kept current by a watch.
type Pods struct {
	opts Options
	api  *apiClient
	log  *slog.Logger

	mu   sync.RWMutex
	pods map[string]Pod // by namespace/name
	// synced is closed after the first complete list; fatal receives an
	// error the API server will not change its mind about (forbidden, a
	// bad selector).
	synced   chan struct{}
	syncOnce sync.Once
	fatal    chan error
}

// NewForConfig watches pods through the API server of cfg, listing only
// those the options select (the selector is applied by the server).
func NewForConfig(cfg Config, opts Options) (*Pods, error) {
	api, err := newAPIClient(cfg)
	if err != nil {
		return nil, err
	}
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	return &Pods{opts: opts, api: api, log: log, pods: map[string]Pod{},
		synced: make(chan struct{}), fatal: make(chan error, 1)}, nil
}

// Start lists and watches pods until ctx ends, and waits for the first
// list, so the first scrape already sees every pod. An API server that
// refuses the request (RBAC, a bad selector) fails Start at once; one that
// does not answer fails it after a minute.
func (p *Pods) Start(ctx context.Context) error {
	go p.run(ctx)
	wait, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	select {
	case <-p.synced:
		return nil
	case err := <-p.fatal:
		return err
	case <-wait.Done():
		return fmt.Errorf("kubernetes pods were not listed within a minute: %w", wait.Err())
	}
}

// run lists, then watches from the list's resource version, until ctx
// ends; a failed list is retried with back-off (1 s doubling to 30 s), an
// expired watch (410 Gone) or a failed one starts over with a list.
func (p *Pods) run(ctx context.Context) {
	backoff := time.Second
	for ctx.Err() == nil {
		rv, err := p.list(ctx)
		if err != nil {
			var se *statusError
			if errors.As(err, &se) && se.permanent() {
				select {
				case p.fatal <- err:
				default:
				}
			}
			if ctx.Err() == nil {
				p.log.Warn("listing kubernetes pods failed; retrying", "err", err, "in", backoff)
			}
			sleep(ctx, backoff)
			backoff = min(2*backoff, 30*time.Second)
			continue
		}
		backoff = time.Second
		p.syncOnce.Do(func() { close(p.synced) })
		for ctx.Err() == nil {
			if rv, err = p.watch(ctx, rv); err != nil {
				if ctx.Err() == nil && !errors.Is(err, errExpired) {
					p.log.Warn("watching kubernetes pods failed; listing again", "err", err)
					sleep(ctx, time.Second)
				}
				break
			}
		}
	}
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// set replaces every pod (after a list).
func (p *Pods) set(pods map[string]Pod) {
	p.mu.Lock()
	p.pods = pods
	p.mu.Unlock()
}

func (p *Pods) apply(kind string, pod Pod) {
	k := pod.Namespace + "/" + pod.Name
	p.mu.Lock()
	defer p.mu.Unlock()
	if kind == "DELETED" {
		delete(p.pods, k)
		return
	}
	p.pods[k] = pod
}

// Targets lists the pods to scrape now, sorted by namespace and name.
func (p *Pods) Targets() []target.Target {
	p.mu.RLock()
	out := make([]target.Target, 0, len(p.pods))
	for _, pod := range p.pods {
		if t, ok := TargetFor(pod, p.opts); ok {
			out = append(out, t)
		}
	}
	p.mu.RUnlock()
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
func TargetFor(pod Pod, opts Options) (target.Target, bool) {
	if pod.Phase != "Running" || pod.IP == "" || pod.Deleting {
		return target.Target{}, false
	}
	port := opts.Port
	if port == 0 {
		port = redisPort(pod)
	}
	return target.Target{
		Network:   "tcp",
		Address:   net.JoinHostPort(pod.IP, strconv.Itoa(port)),
		TLS:       opts.TLS,
		Namespace: pod.Namespace,
		Pod:       pod.Name,
	}, true
}

func redisPort(pod Pod) int {
	fallback := 0
	for _, cp := range pod.Ports {
		switch {
		case cp.Name == "redis" || cp.Name == "tcp-redis":
			return cp.Number
		case cp.Number == 6379 && fallback == 0:
			fallback = 6379
		}
	}
	if fallback != 0 {
		return fallback
	}
	return 6379
}
