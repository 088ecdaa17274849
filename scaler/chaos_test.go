package scaler_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/redis-autoscaler/redis-autoscaler/scaler/api/v1alpha1"
	"github.com/redis-autoscaler/redis-autoscaler/scaler/topology"
)

// TestChaos is the randomized fault test of the scaler's promise. A group
// of 3–5 pods (the shipped example StatefulSet) takes SET + WAIT 1 writes
// and reads while a schedule, random but reproducible from the printed
// seed, injects one fault at a time: kill -9 of the master's or a
// replica's Redis, SIGSTOP/SIGCONT of a pod (also during an initial sync),
// a graceful delete of the master pod, a scaler restart (also between
// promotion and re-pointing), scale up and down through /scale. After
// every fault the group must settle: exactly one master, every other pod
// replicating it, synced labels true. At the end every acknowledged write
// is on the master and every replica, and the history is linearizable
// per key (porcupine).
//
// CHAOS_DURATION (default 45s) bounds the schedule, CHAOS_SEED replays
// one; `make chaos DURATION=10m SEED=…` runs it longer.
func TestChaos(t *testing.T) {
	t.Parallel()
	duration, seed := schedule(t, "chaos", "CHAOS_DURATION", 45*time.Second)

	e := newEnv(t, "chaos")
	ctx, cancel := context.WithTimeout(context.Background(), duration+5*time.Minute)
	t.Cleanup(cancel)
	e.ctx = ctx
	c := &chaos{e: e, app: "cache", n: 3, rng: rand.New(rand.NewPCG(seed, 0x5eed)), counts: map[string]int{}}
	c.stopScaler = e.startScaler(nil)
	e.createExample(3, func(sts *appsv1.StatefulSet, _ *v1alpha1.RedisReplicationGroup) {
		// Faults come faster than a kubelet's default back-off would let
		// a crashed Redis restart; the grace period bounds a stopped pod.
		sts.Spec.Template.Spec.TerminationGracePeriodSeconds = ptr.To(int64(10))
	})
	e.waitConverged(c.app, c.n, 90*time.Second)
	w := e.startWorkload(c.app, 4, seed)
	require.Eventually(t, func() bool { return w.ackedCount() > 100 }, 30*time.Second, 10*time.Millisecond)

	start := time.Now()
	for i := 1; time.Since(start) < duration; i++ {
		f := c.pick()
		began := time.Now()
		detail := f.run(c)
		c.counts[f.name]++
		m := e.waitConverged(c.app, c.n, 120*time.Second)
		t.Logf("fault %d %s%s: settled in %v, %d pods, master %s, %d writes acknowledged",
			i, f.name, detail, time.Since(began).Round(time.Millisecond), c.n, m.Name, w.ackedCount())
		time.Sleep(time.Duration(500+c.rng.IntN(1500)) * time.Millisecond)
	}
	w.finish()

	v := e.settleAndCheck(w, c.app, c.n)

	pauses := e.writePauses()
	t.Logf("chaos seed %d: %d faults %v; %d keys, %d writes acknowledged, %d unknown, %d refused, %d reads; "+
		"lost %d; replica differences %d; history %s; %d switchovers, write pause p50 %v max %v; longest gap between acknowledged writes %v",
		seed, sum(c.counts), c.counts, v.keys, v.acked, v.unknown, v.refused, v.reads, len(v.lost), len(v.replicaDiffs),
		v.linearizable, len(pauses), quantile(pauses, 0.5), quantile(pauses, 1), v.maxGap.Round(time.Millisecond))
	assert.Empty(t, v.lost, "acknowledged writes lost on the master")
	assert.Empty(t, v.replicaDiffs, "synced replicas differ from the master")
	assert.Equal(t, porcupine.Ok, v.linearizable, "history not linearizable per key:\n%s", strings.Join(v.illegal, "\n"))
	assert.Positive(t, v.acked)
}

// schedule reads a fault schedule's length (env, else def) and seed
// (CHAOS_SEED, else a new one), and logs both so a failure can be replayed.
func schedule(t *testing.T, what, env string, def time.Duration) (time.Duration, uint64) {
	duration := def
	if d, err := time.ParseDuration(os.Getenv(env)); err == nil {
		duration = d
	}
	seed := uint64(time.Now().UnixNano())
	if s, err := strconv.ParseUint(os.Getenv("CHAOS_SEED"), 10, 64); err == nil {
		seed = s
	}
	t.Logf("%s seed %d, duration %v (replay: make chaos SEED=%d DURATION=%v)", what, seed, duration, seed, duration)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("FAILED with %s seed %d", what, seed)
		}
	})
	return duration, seed
}

// chaos is the fault schedule's state.
type chaos struct {
	e          *env
	app        string
	n          int
	rng        *rand.Rand
	counts     map[string]int
	stopScaler func()
}

type fault struct {
	name   string
	weight int
	// run injects the fault and returns a detail for the log.
	run func(c *chaos) string
}

var faults = []fault{
	{"kill-master", 3, func(c *chaos) string { return c.kill(c.master()) }},
	{"kill-replica", 2, func(c *chaos) string { return c.kill(c.replica()) }},
	{"stop-master", 2, func(c *chaos) string { return c.pause(c.master(), c.between(300, 2500)) }},
	{"stop-replica", 1, func(c *chaos) string { return c.pause(c.replica(), c.between(300, 2500)) }},
	{"stop-during-sync", 1, (*chaos).stopDuringSync},
	{"delete-master", 3, func(c *chaos) string { return c.deletePod(c.master()) }},
	{"restart-scaler", 1, func(c *chaos) string {
		c.stopScaler()
		time.Sleep(c.between(0, 1500))
		c.stopScaler = c.e.startScaler(nil)
		return ""
	}},
	{"scaler-dies-mid-switchover", 1, (*chaos).scalerDiesMidSwitchover},
	{"scale", 2, func(c *chaos) string {
		from := c.n
		for c.n == from {
			c.n = 3 + c.rng.IntN(3)
		}
		c.e.scale(c.app, int32(c.n))
		return fmt.Sprintf(" %d -> %d", from, c.n)
	}},
}

func (c *chaos) pick() fault {
	return pickWeighted(c.rng, faults, func(f fault) int { return f.weight })
}

func (c *chaos) between(loMS, hiMS int) time.Duration { return between(c.rng, loMS, hiMS) }

// pickWeighted draws one of items, each as likely as its weight (the
// fault schedules of a group and of a cluster).
func pickWeighted[T any](rng *rand.Rand, items []T, weight func(T) int) T {
	total := 0
	for _, it := range items {
		total += weight(it)
	}
	r := rng.IntN(total)
	for _, it := range items {
		if r < weight(it) {
			return it
		}
		r -= weight(it)
	}
	panic("unreachable")
}

// between draws a duration from loMS to hiMS milliseconds.
func between(rng *rand.Rand, loMS, hiMS int) time.Duration {
	return time.Duration(loMS+rng.IntN(hiMS-loMS+1)) * time.Millisecond
}

func (c *chaos) master() string { return c.e.group(c.app).Status.Master }

// replica picks a pod other than the master, by the schedule's randomness.
func (c *chaos) replica() string {
	m := c.master()
	var names []string
	for _, p := range c.e.pods(c.app) {
		if p.Name != m {
			names = append(names, p.Name)
		}
	}
	slices.Sort(names)
	return names[c.rng.IntN(len(names))]
}

func (c *chaos) kill(pod string) string {
	c.e.signal(pod, syscall.SIGKILL)
	return " " + pod
}

func (c *chaos) pause(pod string, d time.Duration) string {
	pid := c.e.signal(pod, syscall.SIGSTOP)
	time.Sleep(d)
	require.NoError(c.e.t, syscall.Kill(pid, syscall.SIGCONT))
	return fmt.Sprintf(" %s for %v", pod, d)
}

// stopDuringSync kills a replica and, as soon as its restarted Redis is
// in its initial sync, stops it or the master for a while.
func (c *chaos) stopDuringSync() string {
	r := c.replica()
	stopMaster := c.rng.IntN(2) == 0
	old := c.e.signal(r, syscall.SIGKILL)
	require.Eventually(c.e.t, func() bool {
		p, ok := c.e.c.Runner.ContainerPID(c.e.ns, r, "redis")
		return ok && p != old
	}, 60*time.Second, 2*time.Millisecond)
	// Poll the restarted replica until it is in its sync (bounded; a
	// small dataset may sync between two polls).
	caught := false
	deadline := time.Now().Add(10 * time.Second)
	ip := c.e.pod(r).Status.PodIP
	for time.Now().Before(deadline) && !caught {
		if o, err := c.e.observe(ip); err == nil && o.Role == topology.RoleReplica && o.MasterPort != 1 &&
			(o.SyncInProgress || !o.LinkUp) {
			caught = true
			break
		}
		time.Sleep(2 * time.Millisecond)
	}
	name := r
	if stopMaster {
		name = c.master()
	}
	d := c.between(300, 1500)
	c.pause(name, d)
	return fmt.Sprintf(" %s restarted, %s stopped for %v (during its sync: %v)", r, name, d, caught)
}

func (c *chaos) deletePod(pod string) string {
	p := c.e.pod(pod)
	uid := p.UID
	require.NoError(c.e.t, c.e.cl.Delete(c.e.ctx, p, client.Preconditions{UID: &uid}))
	return " " + pod
}

// scalerDiesMidSwitchover runs a scaler that dies right after promoting
// the new master of a switchover (nothing re-pointed, the old master
// paused), forces a switchover by deleting the master pod, then starts a
// healthy scaler.
func (c *chaos) scalerDiesMidSwitchover() string {
	c.stopScaler()
	dying, kill := context.WithCancel(context.Background())
	promoted := make(chan struct{})
	var once sync.Once
	stop := c.e.startScalerWith(dying, func() {
		once.Do(func() { close(promoted); kill() })
		panic("scaler dies mid-switchover")
	})
	m := c.master()
	c.deletePod(m)
	reached := true
	select {
	case <-promoted:
	case <-time.After(30 * time.Second):
		reached = false
	}
	stop()
	c.stopScaler = c.e.startScaler(nil)
	return fmt.Sprintf(" deleting %s (died after promotion: %v)", m, reached)
}

var pauseRE = regexp.MustCompile(`writes paused ([0-9.]+[µnm]?s)`)

// writePauses are the write pauses the group's Switchover events report.
func (e *env) writePauses() []time.Duration {
	var list corev1.EventList
	require.NoError(e.t, e.cl.List(e.ctx, &list, client.InNamespace(e.ns)))
	var out []time.Duration
	for _, ev := range list.Items {
		if ev.Reason != "Switchover" || ev.InvolvedObject.Kind != "RedisReplicationGroup" {
			continue
		}
		if m := pauseRE.FindStringSubmatch(ev.Message); m != nil {
			if d, err := time.ParseDuration(m[1]); err == nil {
				for range max(ev.Count, 1) {
					out = append(out, d)
				}
			}
		}
	}
	slices.Sort(out)
	return out
}

func quantile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[int(q*float64(len(sorted)-1))]
}

func sum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}
