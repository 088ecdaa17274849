package e2e

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/redis-autoscaler/redis-autoscaler/test/cluster"
)

// Metric is one HPA metric: the value the HPA read and its target.
type Metric struct {
	Current float64 `json:"current"`
	Target  float64 `json:"target"`
}

// Sample is the loop's state at one instant.
type Sample struct {
	T       time.Time         `json:"t"`
	Load    float64           `json:"load_ops_per_second"` // asked of the load generator
	Desired int32             `json:"desired"`             // HPA's desired replicas
	Spec    int32             `json:"spec"`                // group spec.replicas
	Pods    int               `json:"pods"`                // pods not being deleted
	Ready   int               `json:"ready"`
	Synced  int               `json:"synced"` // master + synced replicas
	Master  string            `json:"master"`
	Metrics map[string]Metric `json:"metrics"`
}

// Event is a scaler action or an HPA decision.
type Event struct {
	T       time.Time `json:"t"`
	Source  string    `json:"source"` // the object: HorizontalPodAutoscaler or RedisReplicationGroup
	Reason  string    `json:"reason"`
	Message string    `json:"message"`
}

func (e Event) String() string {
	return fmt.Sprintf("%s %s %s: %s", e.T.Format("15:04:05"), e.Source, e.Reason, e.Message)
}

// Recorder samples the loop every second and collects Events.
type Recorder struct {
	env     *Env
	load    func() float64
	mu      sync.Mutex
	samples []Sample
	events  []Event
	seen    map[string]int32
	onEvent func(Event)
	stop    context.CancelFunc
	done    chan struct{}
}

// Record starts a Recorder; load reports the asked rate (nil: 0), onEvent
// (may be nil) sees each new Event.
func (e *Env) Record(ctx context.Context, load func() float64, onEvent func(Event)) *Recorder {
	ctx, cancel := context.WithCancel(ctx)
	r := &Recorder{env: e, load: load, onEvent: onEvent, seen: map[string]int32{}, stop: cancel, done: make(chan struct{})}
	go r.run(ctx)
	return r
}

// Stop stops sampling.
func (r *Recorder) Stop() { r.stop(); <-r.done }

// Samples and Events copy what was recorded so far.
func (r *Recorder) Samples() []Sample {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Sample{}, r.samples...)
}

func (r *Recorder) Events() []Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Event{}, r.events...)
}

// Last is the latest sample (zero before the first).
func (r *Recorder) Last() Sample {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.samples) == 0 {
		return Sample{}
	}
	return r.samples[len(r.samples)-1]
}

func (r *Recorder) run(ctx context.Context) {
	defer close(r.done)
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		r.sample(ctx)
		r.collectEvents(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (r *Recorder) sample(ctx context.Context) {
	s := Sample{T: time.Now(), Metrics: map[string]Metric{}}
	if r.load != nil {
		s.Load = r.load()
	}
	if hpa, err := r.env.HPA(ctx); err == nil {
		s.Desired = hpa.Status.DesiredReplicas
		targets := map[string]float64{}
		for _, m := range hpa.Spec.Metrics {
			if m.Pods != nil && m.Pods.Target.AverageValue != nil {
				targets[m.Pods.Metric.Name] = m.Pods.Target.AverageValue.AsApproximateFloat64()
			}
		}
		for _, m := range hpa.Status.CurrentMetrics {
			if m.Pods != nil {
				s.Metrics[m.Pods.Metric.Name] = Metric{Current: m.Pods.Current.AverageValue.AsApproximateFloat64(), Target: targets[m.Pods.Metric.Name]}
			}
		}
	}
	if n, err := r.env.GroupReplicas(ctx); err == nil {
		s.Spec = n
	}
	if pods, err := r.env.Pods(ctx); err == nil {
		m, synced, _ := Roles(pods)
		for i := range pods {
			if pods[i].DeletionTimestamp != nil {
				continue
			}
			s.Pods++
			if cluster.PodReady(&pods[i]) {
				s.Ready++
			}
		}
		if m != nil {
			s.Master = m.Name
			s.Synced = 1 + len(synced)
		}
	}
	r.mu.Lock()
	r.samples = append(r.samples, s)
	r.mu.Unlock()
}

// collectEvents keeps the HPA's and the group's Events (each new one, and
// each repeat of a counted one).
func (r *Recorder) collectEvents(ctx context.Context) {
	list, err := r.env.C.Client.CoreV1().Events(Namespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		return
	}
	var fresh []Event
	for _, ev := range list.Items {
		kind := ev.InvolvedObject.Kind
		if kind != "HorizontalPodAutoscaler" && kind != "RedisReplicationGroup" {
			continue
		}
		if r.seen[string(ev.UID)] >= max(ev.Count, 1) {
			continue
		}
		r.seen[string(ev.UID)] = max(ev.Count, 1)
		t := ev.LastTimestamp.Time
		if t.IsZero() {
			t = ev.EventTime.Time
		}
		if t.IsZero() {
			t = ev.CreationTimestamp.Time
		}
		fresh = append(fresh, Event{T: t, Source: kind, Reason: ev.Reason, Message: ev.Message})
	}
	sort.Slice(fresh, func(i, j int) bool { return fresh[i].T.Before(fresh[j].T) })
	r.mu.Lock()
	r.events = append(r.events, fresh...)
	r.mu.Unlock()
	if r.onEvent != nil {
		for _, ev := range fresh {
			r.onEvent(ev)
		}
	}
}
