// Package embedded is the adapter's default value source: it scrapes the
// Redis pods the HPAs care about itself, with the exporter's scraper, and
// keeps a short window of samples per pod. No Prometheus is needed.
package embedded

import (
	"context"
	"crypto/tls"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/redis-autoscaler/redis-autoscaler/adapter/source"
	"github.com/redis-autoscaler/redis-autoscaler/exporter/discovery"
	"github.com/redis-autoscaler/redis-autoscaler/exporter/engine"
	"github.com/redis-autoscaler/redis-autoscaler/exporter/target"
)

// Options tune the embedded source.
type Options struct {
	Interval     time.Duration // scrape interval (default 5s)
	Window       time.Duration // span of samples kept per pod (default 1m)
	MaxStaleness time.Duration // values older than this are not served (default 3 intervals)
	Quantile     float64       // response-time quantile over the window (default 0.99)
	Timeout      time.Duration // one pod's scrape (default: the interval, at most 5s)
	Concurrency  int
	Port         int  // Redis port override (default: container port "redis", else 6379)
	TLS          bool // scrape pods with rediss://
	TLSConfig    *tls.Config
	Credentials  target.Credentials
	Logger       *slog.Logger
}

func (o *Options) defaults() {
	if o.Interval <= 0 {
		o.Interval = 5 * time.Second
	}
	if o.Window <= 0 {
		o.Window = time.Minute
	}
	if o.MaxStaleness <= 0 {
		o.MaxStaleness = 3 * o.Interval
	}
	if o.Quantile <= 0 || o.Quantile > 1 {
		o.Quantile = 0.99
	}
	if o.Timeout <= 0 {
		o.Timeout = min(o.Interval, 5*time.Second)
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
}

// PodsFunc lists the pods to scrape now.
type PodsFunc func(ctx context.Context) []*corev1.Pod

// Source scrapes pods on an interval and serves values from memory.
type Source struct {
	opts   Options
	pods   PodsFunc
	engine *engine.Engine
	pool   *engine.Pool

	mu      sync.RWMutex
	windows map[string]window // "namespace/pod" -> samples
	current map[string]*corev1.Pod
	// values are computed once per round, so a request for 500 pods is 500
	// map reads, not 500 window computations.
	values  valueIndex
	noLimit map[string]bool // pods already logged as having no memory limit

	scrapes      prometheus.Counter
	scrapeErrors *prometheus.CounterVec
	scraped      prometheus.Gauge
}

// New builds a source scraping the pods pods returns.
func New(pods PodsFunc, opts Options) *Source {
	opts.defaults()
	s := &Source{
		opts:    opts,
		pods:    pods,
		pool:    engine.NewPool(opts.TLSConfig, opts.Timeout),
		windows: map[string]window{},
		current: map[string]*corev1.Pod{},
		values:  valueIndex{},
		noLimit: map[string]bool{},
		scrapes: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "redis_autoscaler_adapter_scrapes_total", Help: "Scrape rounds of the embedded source."}),
		scrapeErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "redis_autoscaler_adapter_scrape_errors_total", Help: "Pod scrapes that failed, by namespace."}, []string{"namespace"}),
		scraped: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "redis_autoscaler_adapter_scraped_pods", Help: "Pods scraped in the last round."}),
	}
	s.engine = engine.New(s.targets, s.pool, engine.Options{
		Concurrency: opts.Concurrency, Timeout: opts.Timeout, Deadline: opts.Interval, Logger: opts.Logger,
	})
	return s
}

// Collectors are the source's own metrics, for the adapter's /metrics.
func (s *Source) Collectors() []prometheus.Collector {
	return []prometheus.Collector{s.scrapes, s.scrapeErrors, s.scraped}
}

// targets is called by the collector at the start of each round.
func (s *Source) targets() []target.Target {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]target.Target, 0, len(s.current))
	for _, pod := range s.current {
		if t, ok := TargetOf(pod, s.opts.Port, s.opts.TLS); ok {
			out = append(out, s.opts.Credentials.Apply(t))
		}
	}
	return out
}

// TargetOf is the Redis of pod, by the exporter's discovery rule (port
// override, else the container port named redis, else 6379): the adapter
// scrapes exactly the pods the exporter would.
func TargetOf(pod *corev1.Pod, port int, tls bool) (target.Target, bool) {
	return discovery.TargetFor(podOf(pod), discovery.Options{Port: port, TLS: tls})
}

// podOf is what the exporter's discovery reads of a pod.
func podOf(pod *corev1.Pod) discovery.Pod {
	p := discovery.Pod{Namespace: pod.Namespace, Name: pod.Name, Phase: string(pod.Status.Phase),
		IP: pod.Status.PodIP, Deleting: pod.DeletionTimestamp != nil}
	for _, c := range pod.Spec.Containers {
		for _, cp := range c.Ports {
			p.Ports = append(p.Ports, discovery.Port{Name: cp.Name, Number: int(cp.ContainerPort)})
		}
	}
	return p
}

// Run scrapes every interval until ctx ends.
func (s *Source) Run(ctx context.Context) {
	// Non-sliding: a round starts every interval, however long the previous
	// one took, so the samples stay evenly spaced for the rate windows.
	wait.NonSlidingUntilWithContext(ctx, s.Round, s.opts.Interval)
	s.pool.Close()
}

// Round resolves the pods and scrapes them once. Exposed for tests.
func (s *Source) Round(ctx context.Context) {
	pods := s.pods(ctx)
	current := make(map[string]*corev1.Pod, len(pods))
	for _, p := range pods {
		current[p.Namespace+"/"+p.Name] = p
	}
	s.mu.Lock()
	s.current = current
	for k := range s.windows {
		if _, ok := current[k]; !ok {
			delete(s.windows, k)
			s.values.drop(k)
		}
	}
	for k := range s.noLimit {
		if _, ok := current[k]; !ok {
			delete(s.noLimit, k)
		}
	}
	s.mu.Unlock()

	res := s.engine.Scrape(ctx)
	s.scrapes.Inc()
	s.scraped.Set(float64(len(res.Results)))
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range res.Results {
		key := r.Target.Namespace + "/" + r.Target.Pod
		// Every scraped namespace has a series, 0 until the first error,
		// so dashboards and rate() see errors start rather than appear.
		errs := s.scrapeErrors.WithLabelValues(r.Target.Namespace)
		var smp sample
		switch {
		case r.Err == nil:
			smp = toSample(r)
		case r.Stalled > 0:
			// Reached but not answering (a busy script, a timeout): as slow
			// as its clients find it, not missing (a missing pod counts as
			// idle to an HPA scaling up).
			errs.Inc()
			smp = sample{At: time.Now(), RTT: r.Stalled, Stalled: true}
		default:
			// Refused, wrong password: left out, counted.
			errs.Inc()
			continue
		}
		w := s.windows[key].add(smp, s.opts.Window)
		s.windows[key] = w
		if pod, ok := current[key]; ok {
			s.values.set(pod, s.compute(w, pod, key))
		}
	}
}

// podValues are one pod's served values, computed from its window.
type podValues map[string]source.Value

func (s *Source) compute(w window, pod *corev1.Pod, key string) podValues {
	pv := make(podValues, len(source.Names))
	for _, metric := range source.Names {
		if v, window, at, ok := s.value(metric, w, pod, key); ok {
			pv[metric] = source.Value{Value: v, Timestamp: at, Window: window}
		}
	}
	return pv
}

// valueIndex holds the served values by metric, namespace and pod name,
// so that a request for 500 pods is 500 lookups without building a key
// per pod (a profile at 500 pods found the concatenation and the two map
// levels per pod among the request's costs).
type valueIndex map[string]map[string]map[string]source.Value

func (x valueIndex) set(pod *corev1.Pod, pv podValues) {
	for _, metric := range source.Names {
		byNS := x[metric]
		if byNS == nil {
			byNS = map[string]map[string]source.Value{}
			x[metric] = byNS
		}
		byName := byNS[pod.Namespace]
		if byName == nil {
			byName = map[string]source.Value{}
			byNS[pod.Namespace] = byName
		}
		if v, ok := pv[metric]; ok {
			byName[pod.Name] = v
		} else {
			delete(byName, pod.Name)
		}
	}
}

// drop forgets the pod "namespace/name".
func (x valueIndex) drop(key string) {
	ns, name, _ := strings.Cut(key, "/")
	for _, byNS := range x {
		if byName := byNS[ns]; byName != nil {
			delete(byName, name)
			if len(byName) == 0 {
				delete(byNS, ns)
			}
		}
	}
}

func toSample(r *engine.Result) sample {
	info := r.Sample.Info
	f := func(k string) float64 { v, _ := info.Float(k); return v }
	s := sample{
		// Cloned: a substring would keep the whole INFO reply alive for as
		// long as the sample stays in the window.
		At: r.Sample.At, RunID: strings.Clone(info.Fields["run_id"]), RTT: r.Sample.RTT,
		Commands: f("total_commands_processed"), Instant: f("instantaneous_ops_per_sec"),
		Used: f("used_memory"), Max: f("maxmemory"), Clients: f("connected_clients"),
		Replica: info.Role() == "slave",
	}
	if r.Lag != nil {
		s.Lag, s.HasLag = r.Lag.Seconds, true
	}
	return s
}

// PodValues implements source.Source from the values of the last round; it
// never waits for Redis.
func (s *Source) PodValues(ctx context.Context, metric string, pods []*corev1.Pod) (map[string]source.Value, error) {
	vals := make([]source.Value, len(pods))
	_ = s.PodValuesAligned(ctx, metric, pods, vals)
	out := make(map[string]source.Value, len(pods))
	for i, v := range vals {
		if !v.Timestamp.IsZero() {
			out[pods[i].Name] = v
		}
	}
	return out, nil
}

// PodValuesAligned is PodValues in the pods' order (source.Aligned):
// values[i] is pods[i]'s, zero when it has no fresh value.
func (s *Source) PodValuesAligned(_ context.Context, metric string, pods []*corev1.Pod, values []source.Value) error {
	now := time.Now()
	s.mu.RLock()
	defer s.mu.RUnlock()
	byNS := s.values[metric]
	var ns string
	var byName map[string]source.Value
	for i, pod := range pods {
		if byName == nil || pod.Namespace != ns {
			ns, byName = pod.Namespace, byNS[pod.Namespace]
		}
		// Each value is as old as the samples it comes from: a stalled
		// pod's response time is fresh while its ops/s ages out.
		if v, ok := byName[pod.Name]; ok && now.Sub(v.Timestamp) <= s.opts.MaxStaleness {
			values[i] = v
		} else {
			values[i] = source.Value{}
		}
	}
	return nil
}

// value is metric's value over w, the time span it covers and when its
// newest sample was taken.
func (s *Source) value(metric string, w window, pod *corev1.Pod, key string) (float64, time.Duration, time.Time, bool) {
	if metric == source.ResponseTime {
		v, span, ok := w.responseTime(s.opts.Quantile)
		return v, span, w[len(w)-1].At, ok
	}
	last, ok := w.lastAnswered()
	if !ok {
		return 0, 0, time.Time{}, false
	}
	switch metric {
	case source.OpsPerSecond:
		v, span, ok := w.opsPerSecond()
		return v, span, last.At, ok
	case source.ConnectedClients:
		return last.Clients, 0, last.At, true
	case source.ReplicationLag:
		if !last.Replica {
			return 0, 0, last.At, true // a master is never behind itself
		}
		return last.Lag, 0, last.At, last.HasLag
	case source.MemoryFraction:
		v, ok := memoryFraction(last, containerMemoryLimit(pod))
		if !ok && !s.noLimit[key] {
			s.noLimit[key] = true
			s.opts.Logger.Info("pod has no memory fraction: Redis has no maxmemory and its container no memory limit",
				"namespace", pod.Namespace, "pod", pod.Name)
		}
		return v, 0, last.At, ok
	}
	return 0, 0, time.Time{}, false
}

// containerMemoryLimit is the memory limit of the pod's Redis container: the
// one named "redis", else the one whose image names redis, else the first.
func containerMemoryLimit(pod *corev1.Pod) float64 {
	cs := pod.Spec.Containers
	if len(cs) == 0 {
		return 0
	}
	pick := &cs[0]
	for i := range cs {
		if cs[i].Name == "redis" {
			pick = &cs[i]
			break
		}
		if strings.Contains(cs[i].Image, "redis") {
			pick = &cs[i]
		}
	}
	if q, ok := pick.Resources.Limits[corev1.ResourceMemory]; ok {
		return float64(q.Value())
	}
	return 0
}
