package cluster

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	typedcorev1 "k8s.io/client-go/kubernetes/typed/core/v1"
	listersv1 "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	"k8s.io/client-go/util/workqueue"
)

// RunnerOptions configure a PodRunner.
type RunnerOptions struct {
	Config   *rest.Config // admin credentials
	NodeName string
	// Dir holds per-pod directories and PVC data (keyed by namespace/claim,
	// so data outlives pods as a PersistentVolume would).
	Dir                string
	RedisServer        string // path of redis-server
	RedisAutoscalerBin string // empty: redis-autoscaler pods are not run
	// NetBase is B of the loopback 127.B.0.0/16 pods get addresses from
	// (0: random); ClusterIPs in 127.B.255.0/24 are proxied to pods.
	NetBase int
	Logger  *slog.Logger
}

// PodRunner stands in for the kubelet (and the scheduler) of the single
// node: it binds unscheduled pods to the node, runs host processes for the
// containers it understands, and reports pod status as a kubelet would.
type PodRunner struct {
	opts     RunnerOptions
	log      *slog.Logger
	client   kubernetes.Interface
	factory  informers.SharedInformerFactory
	pods     listersv1.PodLister
	synced   cache.InformerSynced
	queue    workqueue.TypedRateLimitingInterface[string]
	events   record.EventBroadcaster
	recorder record.EventRecorder
	ips      *ipAllocator
	services *serviceProxy
	slices   map[string]*discoveryv1.EndpointSlice // last written, by namespace/name (runEndpointSlices only)

	procs processSet // every pod process ever started (its own lock)

	mu     sync.Mutex
	states map[types.UID]*podState
	byKey  map[string]*podState // namespace/name -> current instance
}

// NewPodRunner builds a runner; call Run to start it.
func NewPodRunner(o RunnerOptions) (*PodRunner, error) {
	// The runner writes FQDN EndpointSlices (runner_endpoints.go); the API
	// server warns on each that the type is deprecated.
	cfg := rest.CopyConfig(o.Config)
	cfg.WarningHandler = rest.NoWarnings{}
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if err := os.MkdirAll(o.Dir, 0o755); err != nil {
		return nil, err
	}
	factory := informers.NewSharedInformerFactory(client, 0)
	podInformer := factory.Core().V1().Pods()
	r := &PodRunner{
		opts:    o,
		log:     o.Logger,
		client:  client,
		factory: factory,
		pods:    podInformer.Lister(),
		synced:  podInformer.Informer().HasSynced,
		queue: workqueue.NewTypedRateLimitingQueueWithConfig(
			workqueue.NewTypedItemExponentialFailureRateLimiter[string](100*time.Millisecond, 5*time.Second),
			workqueue.TypedRateLimitingQueueConfig[string]{Name: "pod-runner"}),
		ips:    newIPAllocator(o.NetBase),
		states: map[types.UID]*podState{},
		byKey:  map[string]*podState{},
	}
	r.services = newServiceProxy(r.pods, o.Logger)
	if _, err := factory.Core().V1().Services().Informer().AddEventHandler(r.services.handlers()); err != nil {
		return nil, err
	}
	r.events = record.NewBroadcaster()
	r.recorder = r.events.NewRecorder(scheme.Scheme, corev1.EventSource{Component: "kubelet", Host: o.NodeName})
	_, err = podInformer.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    r.enqueue,
		UpdateFunc: func(_, obj any) { r.enqueue(obj) },
		DeleteFunc: r.enqueue,
	})
	return r, err
}

func (r *PodRunner) enqueue(obj any) {
	if key, err := cache.DeletionHandlingMetaNamespaceKeyFunc(obj); err == nil {
		r.queue.Add(key)
	}
}

// Run runs until ctx ends, then stops every pod process.
func (r *PodRunner) Run(ctx context.Context) error {
	defer r.stopAll()
	defer r.services.closeAll()
	defer r.queue.ShutDown()
	r.events.StartRecordingToSink(&typedcorev1.EventSinkImpl{Interface: r.client.CoreV1().Events("")})
	defer r.events.Shutdown()
	r.factory.Start(ctx.Done())
	defer r.factory.Shutdown()
	if !cache.WaitForCacheSync(ctx.Done(), r.synced) {
		return ctx.Err()
	}
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r.processNext(ctx) {
			}
		}()
	}
	go r.runEndpointSlices(ctx)
	// Readiness is re-checked every second, as a kubelet probe would.
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			r.queue.ShutDown()
			wg.Wait()
			return ctx.Err()
		case <-tick.C:
			r.mu.Lock()
			for key := range r.byKey {
				r.queue.Add(key)
			}
			r.mu.Unlock()
		}
	}
}

// WaitForSync waits until the pod informer has synced.
func (r *PodRunner) WaitForSync(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if !cache.WaitForCacheSync(ctx.Done(), r.synced) {
		return errors.New("pod runner: informer did not sync")
	}
	return nil
}

func (r *PodRunner) processNext(ctx context.Context) bool {
	key, quit := r.queue.Get()
	if quit {
		return false
	}
	defer r.queue.Done(key)
	requeue, err := r.sync(ctx, key)
	switch {
	case err != nil && ctx.Err() == nil:
		r.log.Warn("sync pod", "pod", key, "err", err)
		r.queue.AddRateLimited(key)
	case requeue > 0:
		r.queue.Forget(key)
		r.queue.AddAfter(key, requeue)
	default:
		r.queue.Forget(key)
	}
	return true
}

// sync moves one pod toward its desired state. It returns a delay after
// which the pod must be looked at again (restart back-off).
func (r *PodRunner) sync(ctx context.Context, key string) (time.Duration, error) {
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return 0, nil
	}
	pod, err := r.pods.Pods(ns).Get(name)
	if apierrors.IsNotFound(err) {
		// Gone from the API (force-deleted or our own final delete).
		if st := r.stateByKey(key); st != nil {
			r.forget(st)
			go st.stopAll(0)
		}
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	if pod.Spec.NodeName == "" {
		return 0, r.bind(ctx, pod)
	}
	if pod.Spec.NodeName != r.opts.NodeName {
		return 0, nil
	}
	// A pod re-created under the same name (StatefulSet) is a new instance.
	if st := r.stateByKey(key); st != nil && st.uid != pod.UID {
		r.forget(st)
		go st.stopAll(0)
	}
	st := r.stateFor(pod)
	if pod.DeletionTimestamp != nil {
		r.terminate(ctx, pod, st)
		return 0, nil
	}
	if st == nil {
		if pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed {
			return 0, nil
		}
		if st, err = r.admit(ctx, pod); err != nil {
			return 0, err
		}
	}
	requeue := r.runContainers(ctx, pod, st)
	return requeue, r.updateStatus(ctx, pod, st)
}

// bind does the scheduler's job. Every pod fits: there is one node and no
// resource accounting; node selectors and affinity are not evaluated.
func (r *PodRunner) bind(ctx context.Context, pod *corev1.Pod) error {
	if s := pod.Spec.SchedulerName; s != "" && s != corev1.DefaultSchedulerName {
		return nil
	}
	err := r.client.CoreV1().Pods(pod.Namespace).Bind(ctx, &corev1.Binding{
		ObjectMeta: metav1.ObjectMeta{Name: pod.Name, UID: pod.UID},
		Target:     corev1.ObjectReference{Kind: "Node", Name: r.opts.NodeName},
	}, metav1.CreateOptions{})
	if apierrors.IsConflict(err) || apierrors.IsNotFound(err) {
		return nil // already bound or gone; the informer brings the news
	}
	if err != nil {
		return fmt.Errorf("bind: %w", err)
	}
	r.recorder.Eventf(pod, corev1.EventTypeNormal, "Scheduled", "Successfully assigned %s/%s to %s", pod.Namespace, pod.Name, r.opts.NodeName)
	return nil
}

// terminate stops the pod's processes within its grace period and then
// completes the deletion, as the kubelet does.
func (r *PodRunner) terminate(ctx context.Context, pod *corev1.Pod, st *podState) {
	if st != nil && !st.beginTermination() {
		return // already in progress
	}
	grace := 30 * time.Second
	if pod.DeletionGracePeriodSeconds != nil {
		grace = time.Duration(*pod.DeletionGracePeriodSeconds) * time.Second
	}
	go func() {
		if st != nil {
			st.stopAll(grace)
		}
		zero := int64(0)
		err := r.client.CoreV1().Pods(pod.Namespace).Delete(ctx, pod.Name, metav1.DeleteOptions{
			GracePeriodSeconds: &zero,
			Preconditions:      &metav1.Preconditions{UID: &pod.UID},
		})
		if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) && ctx.Err() == nil {
			r.log.Warn("complete pod deletion", "pod", pod.Namespace+"/"+pod.Name, "err", err)
		}
		if st != nil {
			r.forget(st)
		}
	}()
}

func (r *PodRunner) stateByKey(key string) *podState {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.byKey[key]
}

func (r *PodRunner) stateFor(pod *corev1.Pod) *podState {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.states[pod.UID]
}

func (r *PodRunner) forget(st *podState) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.states[st.uid] == st {
		delete(r.states, st.uid)
		r.ips.release(st.ip)
	}
	if r.byKey[st.key] == st {
		delete(r.byKey, st.key)
	}
}

// PIDs returns every pod process the runner ever started.
func (r *PodRunner) PIDs() []int { return r.procs.pids() }

// ContainerPID returns the PID of a running container process, so tests can
// kill it to simulate a crash.
func (r *PodRunner) ContainerPID(namespace, pod, container string) (int, bool) {
	st := r.stateByKey(namespace + "/" + pod)
	if st == nil {
		return 0, false
	}
	return st.pid(container)
}

// stopAll stops every pod process (on shutdown) without touching the API.
// It works from the list of every process ever started rather than from
// live pod states, so processes of pods being torn down are covered too.
func (r *PodRunner) stopAll() {
	r.mu.Lock()
	for _, st := range r.states {
		st.beginTermination() // no restarts from here on
	}
	procs := r.procs.list()
	r.mu.Unlock()
	var wg sync.WaitGroup
	for _, p := range procs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p.stop(2 * time.Second)
		}()
	}
	wg.Wait()
}
