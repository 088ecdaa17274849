package scaler_test

import (
	"context"
	"fmt"
	"os"
	"sort"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/redis-autoscaler/redis-autoscaler/scaler"
	"github.com/redis-autoscaler/redis-autoscaler/scaler/api/v1alpha1"
	"github.com/redis-autoscaler/redis-autoscaler/scaler/controller"
	"github.com/redis-autoscaler/redis-autoscaler/scaler/redisops"
	"github.com/redis-autoscaler/redis-autoscaler/test/cluster"
)

// One control plane for the package; each test has its own namespace.
func TestMain(m *testing.M) {
	scaler.RouteGlobalLoggers(logr.Discard())
	cluster.Main(m)
}

// scale writes spec.replicas through the scale subresource, as
// `kubectl scale rrg/x --replicas=n` and the HPA do.
func (e *env) scale(name string, n int32) {
	g := e.group(name)
	s := &autoscalingv1.Scale{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: e.ns}, Spec: autoscalingv1.ScaleSpec{Replicas: n}}
	require.NoError(e.t, e.cl.SubResource("scale").Update(e.ctx, g, client.WithSubResourceBody(s)))
	require.EqualValues(e.t, n, *e.group(name).Spec.Replicas)
}

func (e *env) createGroup(name string, replicas int32, args ...string) {
	e.createGroupEdited(name, replicas, nil, args...)
}

func (e *env) createGroupEdited(name string, replicas int32, edit func(*appsv1.StatefulSet), args ...string) {
	sts := cluster.RedisStatefulSet(name, replicas, args...)
	if edit != nil {
		edit(sts)
	}
	// For args like --replica-announce-ip $(POD_IP).
	sts.Spec.Template.Spec.Containers[0].Env = []corev1.EnvVar{{Name: "POD_IP",
		ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "status.podIP"}}}}
	sts.Namespace = e.ns
	require.NoError(e.t, e.cl.Create(e.ctx, sts))
	g := &v1alpha1.RedisReplicationGroup{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: e.ns},
		Spec: v1alpha1.RedisReplicationGroupSpec{
			StatefulSetName: name, Replicas: &replicas, Addressing: v1alpha1.AddressingIP,
		},
	}
	require.NoError(e.t, e.cl.Create(e.ctx, g))
}

// makeMaster moves the master to pod by hand (the same switchover the
// scaler uses) and waits for the scaler to accept it. A reconcile that
// observed the pods in the middle of the hand switchover sees two masters
// and may keep the old one (nothing is lost: the target took no writes);
// then it is tried again.
func (e *env) makeMaster(app, pod string, n int) {
	for attempt := 1; ; attempt++ {
		m := e.waitConverged(app, n, 30*time.Second)
		if m.Name == pod {
			return
		}
		require.Less(e.t, attempt, 5, "the scaler keeps %s as master", m.Name)
		var target corev1.Pod
		var others []redisops.Node
		for _, p := range e.pods(app) {
			switch p.Name {
			case pod:
				target = p
			case m.Name:
			default:
				others = append(others, redisops.Node{Name: p.Name, Client: e.redis(p.Status.PodIP)})
			}
		}
		_, err := redisops.Switchover(e.ctx, redisops.Node{Name: m.Name, Client: e.redis(m.Status.PodIP), Host: m.Status.PodIP, Port: 6379},
			redisops.Node{Name: pod, Client: e.redis(target.Status.PodIP)}, target.Status.PodIP, 6379, others, redisops.SwitchoverOptions{})
		require.NoError(e.t, err)
	}
}

// The scenario of the issue, step by step, with the invariant (one master,
// everyone else in sync with it) checked after each step.
func TestScaleSwitchoverAndRestart(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "scale")
	stop := e.startScaler(nil)
	e.createGroup("cache", 1)
	m := e.waitConverged("cache", 1, 60*time.Second)
	require.Equal(t, "cache-0", m.Name)
	g := e.group("cache")
	require.Equal(t, "app=cache", g.Status.Selector)
	before := make([]string, 200)
	for i := range before {
		before[i] = fmt.Sprintf("before-%d", i)
		require.NoError(t, e.redis(m.Status.PodIP).Set(e.ctx, before[i], i, 0).Err())
	}

	// Scale up to 4: three replicas attached, in sync, with the data.
	scaledAt := time.Now()
	e.scale("cache", 4)
	attach := e.attachTimes("cache", 3, 90*time.Second)
	m = e.waitConverged("cache", 4, 60*time.Second)
	t.Logf("scale 1 -> 4 converged in %v; Running -> synced per pod: %v", time.Since(scaledAt).Round(time.Millisecond), attach)
	for _, p := range e.pods("cache") {
		e.requireKeys(p.Status.PodIP, before)
	}

	// The highest ordinal is the master; scale to 2 under writes.
	e.makeMaster("cache", "cache-3", 4)
	w := e.startWriter("cache", "w1-")
	require.Eventually(t, func() bool { return w.Count() > 100 }, 20*time.Second, 10*time.Millisecond)
	e.scale("cache", 2)
	m = e.waitConverged("cache", 2, 60*time.Second)
	require.Contains(t, []string{"cache-0", "cache-1"}, m.Name)
	n := w.Count()
	require.Eventually(t, func() bool { return w.Count() > n+100 }, 20*time.Second, 10*time.Millisecond, "writes continue on the new master")
	acked := w.Finish()
	t.Logf("scale 4 -> 2: master %s, %d writes acknowledged, %d failed", m.Name, len(acked), w.Failed())
	e.requireKeys(m.Status.PodIP, append(acked, before...))
	t.Logf("event %s", e.requireEvent("Switchover"))
	last := e.group("cache").Status.LastSwitchoverTime
	require.NotNil(t, last, "status.lastSwitchoverTime after the switchover")
	require.WithinRange(t, last.Time, scaledAt.Truncate(time.Second), time.Now())

	// Kill the master's process: the runner restarts it empty. The group
	// keeps its data: a replica is promoted, the restarted pod follows it.
	w = e.startWriter("cache", "w2-")
	require.Eventually(t, func() bool { return w.Count() > 100 }, 20*time.Second, 10*time.Millisecond)
	e.signal(m.Name, syscall.SIGKILL)
	killed := m.Name
	require.EventuallyWithT(t, func(ct *assert.CollectT) {
		m = e.converged(ct, "cache", 2)
		require.NotEqual(ct, killed, m.Name)
		p := e.pod(killed)
		require.EqualValues(ct, 1, p.Status.ContainerStatuses[0].RestartCount)
	}, 60*time.Second, 50*time.Millisecond)
	n = w.Count()
	require.Eventually(t, func() bool { return w.Count() > n+50 }, 20*time.Second, 10*time.Millisecond)
	acked = w.Finish()
	t.Logf("master %s killed: %s promoted; %d writes acknowledged, %d failed", killed, m.Name, len(acked), w.Failed())
	e.requireKeys(m.Status.PodIP, append(acked, before...))
	e.requireKeys(e.pod(killed).Status.PodIP, before)
	t.Logf("event %s", e.requireEvent("MasterDown", "MasterRestartedEmpty"))

	// Restart the scaler in the middle of a switchover: scale to 3, make
	// cache-2 the master, scale to 2 with a scaler that stops right after
	// promoting; a new scaler converges.
	e.scale("cache", 3)
	e.waitConverged("cache", 3, 60*time.Second)
	e.makeMaster("cache", "cache-2", 3)
	stop()
	// This scaler dies right after promoting the new master: nothing is
	// re-pointed and the old master stays paused until the pause expires
	// (the panic ends the reconcile; controller-runtime recovers it, and
	// the cancelled context stops the scaler).
	dying, kill := context.WithCancel(context.Background())
	promoted := make(chan struct{})
	var once sync.Once
	stop2 := e.startScalerWith(dying, func() {
		once.Do(func() { close(promoted); kill() })
		panic("scaler dies mid-switchover")
	})
	w = e.startWriter("cache", "w3-")
	require.Eventually(t, func() bool { return w.Count() > 100 }, 20*time.Second, 10*time.Millisecond)
	e.scale("cache", 2)
	select {
	case <-promoted:
	case <-time.After(60 * time.Second):
		t.Fatal("switchover never reached the promotion")
	}
	stop2()
	masters := 0
	for _, p := range e.pods("cache") {
		if o, err := e.observe(p.Status.PodIP); err == nil && o.IsMaster() {
			masters++
		}
	}
	// The old master (paused) and the promoted target: the next scaler
	// keeps the one with replicas and demotes the other.
	require.Equal(t, 2, masters, "masters after a switchover interrupted between promotion and re-pointing")
	e.startScaler(nil)
	m = e.waitConverged("cache", 2, 60*time.Second)
	acked = w.Finish()
	t.Logf("scaler restarted mid-switchover: master %s; %d writes acknowledged, %d failed", m.Name, len(acked), w.Failed())
	t.Logf("event %s", e.requireEvent("MultipleMasters"))
	if os.Getenv("SCALER_EVENTS") != "" {
		var list corev1.EventList
		require.NoError(t, e.cl.List(e.ctx, &list, client.InNamespace(e.ns)))
		sort.Slice(list.Items, func(i, j int) bool { return list.Items[i].LastTimestamp.Before(&list.Items[j].LastTimestamp) })
		for _, ev := range list.Items {
			if ev.InvolvedObject.Kind == "RedisReplicationGroup" {
				t.Logf("%s %s x%d %s: %s", ev.FirstTimestamp.Format("15:04:05"), ev.LastTimestamp.Format("15:04:05"), ev.Count, ev.Reason, ev.Message)
			}
		}
	}
	e.requireKeys(m.Status.PodIP, append(acked, before...))
}

func (e *env) pod(name string) *corev1.Pod {
	var p corev1.Pod
	require.NoError(e.t, e.cl.Get(e.ctx, client.ObjectKey{Namespace: e.ns, Name: name}, &p))
	return &p
}

// eventsWith lists the messages of the group events with this reason.
func (e *env) eventsWith(reason string) []string {
	var list corev1.EventList
	require.NoError(e.t, e.cl.List(context.Background(), &list, client.InNamespace(e.ns)))
	var out []string
	for _, ev := range list.Items {
		if ev.Reason == reason && ev.InvolvedObject.Kind == "RedisReplicationGroup" {
			out = append(out, ev.Message)
		}
	}
	return out
}

// requireEvent waits for an event on the group with one of the reasons
// and returns its message.
func (e *env) requireEvent(reasons ...string) (message string) {
	return e.requireEventWithin(10*time.Second, reasons...)
}

func (e *env) requireEventWithin(timeout time.Duration, reasons ...string) (message string) {
	require.EventuallyWithT(e.t, func(ct *assert.CollectT) {
		var list corev1.EventList
		require.NoError(ct, e.cl.List(context.Background(), &list, client.InNamespace(e.ns)))
		for _, ev := range list.Items {
			for _, r := range reasons {
				if ev.Reason == r && (ev.InvolvedObject.Kind == "RedisReplicationGroup" || ev.InvolvedObject.Kind == "RedisCluster") {
					message = ev.Reason + ": " + ev.Message
					return
				}
			}
		}
		ct.Errorf("no event with reason %v", reasons)
	}, timeout, 100*time.Millisecond)
	return message
}

// attachTimes waits for n pods (other than the master) to be labelled
// synced=true and returns, per pod, the time from when the test first saw
// its container Running to when it first saw the label (polling every
// 20 ms; container start times in the pod status have 1 s granularity).
func (e *env) attachTimes(app string, n int, timeout time.Duration) map[string]time.Duration {
	out := map[string]time.Duration{}
	running := map[string]time.Time{}
	require.Eventually(e.t, func() bool {
		now := time.Now()
		for _, p := range e.pods(app) {
			if _, ok := running[p.Name]; !ok && len(p.Status.ContainerStatuses) == 1 && p.Status.ContainerStatuses[0].State.Running != nil {
				running[p.Name] = now
			}
			if _, seen := out[p.Name]; seen || p.Labels[controller.LabelSynced] != "true" {
				continue
			}
			if start, ok := running[p.Name]; ok {
				out[p.Name] = now.Sub(start).Round(10 * time.Millisecond)
			}
		}
		return len(out) >= n
	}, timeout, 20*time.Millisecond)
	return out
}
