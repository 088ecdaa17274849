package cluster

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
)

// containerKind says how the runner runs a container. There is no container
// runtime: only images whose program exists on the host can run.
type containerKind int

const (
	kindUnsupported containerKind = iota
	kindRedis                     // Debian's redis-server
	kindAutoscaler                // this project's binary
)

// classify decides how to run a container from its image and command.
func classify(c *corev1.Container) containerKind {
	img := strings.ToLower(c.Image)
	switch {
	case strings.Contains(img, "redis-autoscaler"):
		return kindAutoscaler
	case len(c.Command) > 0 && filepath.Base(c.Command[0]) == "redis-server":
		return kindRedis
	case strings.Contains(img, "redis"):
		return kindRedis
	}
	return kindUnsupported
}

// podState is the runner's view of one pod instance (one UID).
type podState struct {
	uid       types.UID
	key       string // namespace/name
	ip        string
	dir       string
	startTime time.Time

	mu          sync.Mutex
	terminating bool
	containers  []*containerState
}

// containerState mirrors what a kubelet tracks per container.
type containerState struct {
	spec         corev1.Container
	kind         containerKind
	proc         *process
	startedAt    time.Time
	restartCount int32
	everStarted  bool
	last         *corev1.ContainerStateTerminated // LastTerminationState
	terminated   *corev1.ContainerStateTerminated // final state, not restarted
	backoffUntil time.Time
	ready        bool
	probeFails   int    // consecutive failed readiness checks
	waiting      string // reason while not running
	waitingMsg   string
	// set at start, used by the readiness check
	port     int
	password string
	tlsOnly  bool // Redis listens only on its TLS port
}

// beginTermination marks the pod as terminating; false if it already was.
func (st *podState) beginTermination() bool {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.terminating {
		return false
	}
	st.terminating = true
	return true
}

func (st *podState) isTerminating() bool {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.terminating
}

// stopAll stops every container as a kubelet does: its preStop hook
// first (the sleep action; other hook kinds need a container runtime),
// then SIGTERM, SIGKILL once the grace period, hook included, is over.
func (st *podState) stopAll(grace time.Duration) {
	st.beginTermination()
	st.mu.Lock()
	type stopping struct {
		proc *process
		hook time.Duration
	}
	var procs []stopping
	for _, c := range st.containers {
		if c.proc != nil {
			procs = append(procs, stopping{c.proc, preStopSleep(&c.spec)})
		}
	}
	st.mu.Unlock()
	var wg sync.WaitGroup
	for _, p := range procs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			left := grace
			if hook := min(p.hook, grace); hook > 0 {
				select {
				case <-p.proc.done:
				case <-time.After(hook):
				}
				left -= hook
			}
			p.proc.stop(left)
		}()
	}
	wg.Wait()
}

// preStopSleep is the container's preStop sleep action, if any.
func preStopSleep(c *corev1.Container) time.Duration {
	if c.Lifecycle == nil || c.Lifecycle.PreStop == nil || c.Lifecycle.PreStop.Sleep == nil {
		return 0
	}
	return time.Duration(c.Lifecycle.PreStop.Sleep.Seconds) * time.Second
}

func (st *podState) pid(container string) (int, bool) {
	st.mu.Lock()
	defer st.mu.Unlock()
	for _, c := range st.containers {
		if c.spec.Name == container && c.proc != nil && !c.proc.exited() {
			return c.proc.pid(), true
		}
	}
	return 0, false
}

// admit creates the state of a pod newly bound to this node: a pod IP and a
// directory for its logs and container-private data.
func (r *PodRunner) admit(ctx context.Context, pod *corev1.Pod) (*podState, error) {
	var ports []int
	for i := range pod.Spec.Containers {
		c := &pod.Spec.Containers[i]
		if classify(c) == kindRedis {
			ports = append(ports, redisPort(c, expandAll(c.Args, nil)))
		}
		for _, p := range c.Ports {
			ports = append(ports, int(p.ContainerPort))
		}
	}
	ip, err := r.ips.allocate(ports)
	if err != nil {
		return nil, err
	}
	st := &podState{
		uid:       pod.UID,
		key:       pod.Namespace + "/" + pod.Name,
		ip:        ip,
		dir:       filepath.Join(r.opts.Dir, pod.Namespace+"_"+pod.Name+"_"+string(pod.UID)),
		startTime: time.Now(),
	}
	if err := os.MkdirAll(st.dir, 0o755); err != nil {
		r.ips.release(ip)
		return nil, err
	}
	for i := range pod.Spec.Containers {
		c := pod.Spec.Containers[i]
		cs := &containerState{spec: c, kind: classify(&c), waiting: "ContainerCreating"}
		switch {
		case cs.kind == kindUnsupported:
			cs.waiting = "UnsupportedImage"
			cs.waitingMsg = "test/cluster runs only redis and redis-autoscaler images"
			r.recorder.Eventf(pod, corev1.EventTypeWarning, "UnsupportedImage",
				"container %q (image %q) cannot run without a container runtime; it stays Waiting", c.Name, c.Image)
		case cs.kind == kindAutoscaler && r.opts.RedisAutoscalerBin == "":
			cs.waiting = "BinaryNotConfigured"
			cs.waitingMsg = "set REDIS_AUTOSCALER_BIN to run redis-autoscaler containers"
			r.recorder.Eventf(pod, corev1.EventTypeWarning, "BinaryNotConfigured",
				"container %q not started: REDIS_AUTOSCALER_BIN is not set", c.Name)
			r.log.Warn("redis-autoscaler pod skipped: REDIS_AUTOSCALER_BIN not set", "pod", st.key)
		}
		st.containers = append(st.containers, cs)
	}
	r.mu.Lock()
	r.states[pod.UID] = st
	r.byKey[st.key] = st
	r.mu.Unlock()
	r.log.Debug("pod admitted", "pod", st.key, "ip", ip)
	return st, nil
}

// runContainers starts, restarts and probes containers. It returns how long
// until a restart back-off ends (0: nothing pending).
func (r *PodRunner) runContainers(ctx context.Context, pod *corev1.Pod, st *podState) time.Duration {
	if st.isTerminating() {
		return 0
	}
	var requeue time.Duration
	for _, c := range st.containers {
		if c.kind == kindUnsupported || (c.kind == kindAutoscaler && r.opts.RedisAutoscalerBin == "") {
			continue
		}
		st.mu.Lock()
		if c.proc != nil && c.proc.exited() {
			r.containerExited(pod, st, c)
		}
		needStart := c.proc == nil && c.terminated == nil
		wait := time.Until(c.backoffUntil)
		st.mu.Unlock()
		if needStart && wait > 0 {
			if requeue == 0 || wait < requeue {
				requeue = wait
			}
			continue
		}
		if needStart {
			if err := r.startContainer(ctx, pod, st, c); err != nil {
				st.mu.Lock()
				c.waiting, c.waitingMsg = "CreateContainerError", err.Error()
				c.backoffUntil = time.Now().Add(2 * time.Second)
				st.mu.Unlock()
				r.recorder.Eventf(pod, corev1.EventTypeWarning, "Failed", "container %q: %v", c.spec.Name, err)
				requeue = 2 * time.Second
			}
			continue
		}
		if c.proc != nil {
			ok := r.probe(ctx, pod, st, c)
			st.mu.Lock()
			c.observeProbe(ok)
			st.mu.Unlock()
		}
	}
	return requeue
}

// observeProbe applies a readiness result like a kubelet with the default
// thresholds: one success makes the container ready, and a ready container
// turns unready only after failureThreshold (default 3) failures in a row,
// so one slow PING under load does not flap the pod out of the HPA's view.
// Called with st.mu held.
func (c *containerState) observeProbe(ok bool) {
	if ok {
		c.ready, c.probeFails = true, 0
		return
	}
	c.probeFails++
	threshold := 3
	if p := c.spec.ReadinessProbe; c.kind != kindRedis && p != nil && p.FailureThreshold > 0 {
		threshold = int(p.FailureThreshold)
	}
	if c.probeFails >= threshold {
		c.ready = false
	}
}

// containerExited records an exit and applies the restart policy, with a
// back-off that doubles from 500ms to 10s (a kubelet starts at 10s; tests
// want crashes handled fast). Called with st.mu held.
func (r *PodRunner) containerExited(pod *corev1.Pod, st *podState, c *containerState) {
	code := c.proc.exitCode()
	now := time.Now()
	term := &corev1.ContainerStateTerminated{
		ExitCode:    code,
		Reason:      "Error",
		StartedAt:   metaTime(c.startedAt),
		FinishedAt:  metaTime(now),
		ContainerID: containerID(c.proc),
	}
	if code == 0 {
		term.Reason = "Completed"
	}
	c.proc, c.ready, c.probeFails = nil, false, 0
	restart := pod.Spec.RestartPolicy == corev1.RestartPolicyAlways || pod.Spec.RestartPolicy == "" ||
		(pod.Spec.RestartPolicy == corev1.RestartPolicyOnFailure && code != 0)
	r.log.Info("container exited", "pod", st.key, "container", c.spec.Name, "exitCode", code, "restart", restart)
	if !restart {
		c.terminated = term
		return
	}
	c.last = term
	backoff := min(500*time.Millisecond<<min(c.restartCount, 5), 10*time.Second)
	if now.Sub(c.startedAt) > time.Minute {
		backoff = 500 * time.Millisecond // it ran long enough: reset, as a kubelet does
	}
	c.backoffUntil = now.Add(backoff)
	c.waiting, c.waitingMsg = "CrashLoopBackOff", fmt.Sprintf("back-off %s restarting failed container", backoff)
	r.recorder.Eventf(pod, corev1.EventTypeWarning, "BackOff", "Back-off restarting container %s (exit code %d)", c.spec.Name, code)
}

// startContainer starts the container's process.
func (r *PodRunner) startContainer(ctx context.Context, pod *corev1.Pod, st *podState, c *containerState) error {
	mounts, err := r.prepareMounts(ctx, pod, st, &c.spec)
	if err != nil {
		return err
	}
	env, vars, err := r.containerEnv(ctx, pod, st, &c.spec)
	if err != nil {
		return err
	}
	var spec processSpec
	switch c.kind {
	case kindRedis:
		spec, err = r.redisProcess(pod, st, c, mounts, env, vars)
	case kindAutoscaler:
		spec, err = r.autoscalerProcess(ctx, pod, st, c, mounts, env, vars)
	}
	if err != nil {
		return err
	}
	spec.Name = st.key + "/" + c.spec.Name
	spec.LogFile = filepath.Join(st.dir, c.spec.Name+".log")
	p, err := startProcess(spec)
	if err != nil {
		return err
	}
	r.procs.add(p)
	st.mu.Lock()
	if c.everStarted {
		c.restartCount++
	}
	c.everStarted = true
	c.proc, c.startedAt, c.ready, c.probeFails = p, time.Now(), false, 0
	c.waiting, c.waitingMsg = "", ""
	st.mu.Unlock()
	r.log.Info("container started", "pod", st.key, "container", c.spec.Name, "ip", st.ip, "pid", p.pid(), "restarts", c.restartCount)
	r.recorder.Eventf(pod, corev1.EventTypeNormal, "Started", "Started container %s (pid %d)", c.spec.Name, p.pid())
	// An exit must be noticed without waiting for the next tick.
	go func() {
		<-p.done
		r.queue.Add(st.key)
	}()
	return nil
}

func containerID(p *process) string {
	if p == nil {
		return ""
	}
	return fmt.Sprintf("test-cluster://%d", p.pid())
}
