package scaler_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
)

// TestClusterChaos is the randomized fault test of a RedisCluster (issue
// 25 case 6), as TestChaos is of a group. A cluster of 2–4 shards × 1
// replica (AOF fsynced on every write, on a volume: a node restarted in
// place keeps its identity and every write it answered) takes SET + WAIT 1
// writes of new keys and overwrites of earlier ones from several clients
// that route by the slot map and follow MOVED and ASK, while a schedule,
// random but reproducible from the printed seed, injects one fault at a
// time: kill -9 of a master's or a replica's Redis, SIGSTOP of a master
// shorter and longer than the node timeout (Redis fails it over), a
// scaler restart, a scaler killed mid-migration, scale out and in, and a
// rollout restart. After each fault the cluster must settle (balanced,
// every pod in sync). At the end every acknowledged write must be readable
// and the history of writes and final reads linearizable per key
// (porcupine). Reads during the run are not checked: a master resumed
// after a failover it slept through answers reads from its old data until
// it hears of the failover, which is Redis Cluster's documented behaviour,
// not the scaler's.
//
// CLUSTER_CHAOS_DURATION (default 40s) bounds the schedule, CHAOS_SEED
// replays one; `make chaos` runs it longer.
func TestClusterChaos(t *testing.T) {
	t.Parallel()
	duration, seed := schedule(t, "cluster chaos", "CLUSTER_CHAOS_DURATION", 40*time.Second)
	e := newEnv(t, "cchaos")
	ctx, cancel := context.WithTimeout(context.Background(), duration+6*time.Minute)
	t.Cleanup(cancel)
	e.ctx = ctx
	c := &clusterChaos{e: e, shards: 3, rng: rand.New(rand.NewPCG(seed, 0xc1)), counts: map[string]int{}}
	c.stopScaler = e.startScaler(nil)
	e.createClusterWith("rc", 3, 1, durableNodes)
	addrs := e.waitClusterBalanced("rc", 3, 1, 90*time.Second)
	w := e.startClusterWorkload(addrs, 4, seed)
	require.Eventually(t, func() bool { return w.ackedCount() > 100 }, 30*time.Second, 10*time.Millisecond)

	start := time.Now()
	var failoverGaps []time.Duration // faults that move a shard's master
	for i := 1; time.Since(start) < duration; i++ {
		f := c.pick()
		began := time.Now()
		w.window()
		detail := f.run(c)
		c.counts[f.name]++
		e.waitClusterBalanced("rc", c.shards, 1, 4*time.Minute)
		gap := w.window()
		if f.movesMaster {
			failoverGaps = append(failoverGaps, gap)
		}
		t.Logf("fault %d %s%s: settled in %v, %d shards, %d writes acknowledged, longest gap %v",
			i, f.name, detail, time.Since(began).Round(time.Millisecond), c.shards, w.ackedCount(), gap.Round(time.Millisecond))
		time.Sleep(time.Duration(300+c.rng.IntN(1200)) * time.Millisecond)
	}
	w.finish()
	addrs = e.waitClusterBalanced("rc", c.shards, 1, 2*time.Minute)
	v, err := w.checkCluster(ctx, addrs)
	require.NoError(t, err)
	slices.Sort(failoverGaps)
	t.Logf("cluster chaos seed %d: %d faults %v; %d keys, %d writes acknowledged, %d unknown, %d refused; lost %d; history %s; "+
		"%d master changes (kill, stop past the node timeout, rollout), longest gap between acknowledged writes in each: p50 %v max %v; overall %v",
		seed, sum(c.counts), c.counts, v.keys, v.acked, v.unknown, v.refused, len(v.lost), v.linearizable,
		len(failoverGaps), quantile(failoverGaps, 0.5).Round(time.Millisecond), quantile(failoverGaps, 1).Round(time.Millisecond), v.maxGap.Round(time.Millisecond))
	assert.Empty(t, v.lost, "acknowledged writes lost")
	assert.Equal(t, porcupine.Ok, v.linearizable, "history not linearizable per key:\n%s", strings.Join(v.illegal, "\n"))
	assert.Positive(t, v.acked)
}

// durableNodes gives each node a volume for its data and nodes.conf and
// AOF fsynced before each reply: a node killed and restarted within the
// node timeout keeps its identity, its slots and every write it answered
// (the configuration the Guaranteed condition asks for).
func durableNodes(sts *appsv1.StatefulSet) {
	c := &sts.Spec.Template.Spec.Containers[0]
	c.Args = append(c.Args, "--dir", "/data", "--appendonly", "yes", "--appendfsync", "always")
	c.VolumeMounts = append(c.VolumeMounts, corev1.VolumeMount{Name: "data", MountPath: "/data"})
	sts.Spec.Template.Spec.Volumes = append(sts.Spec.Template.Spec.Volumes, corev1.Volume{Name: "data",
		VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}})
}

type clusterChaos struct {
	e          *env
	shards     int
	rng        *rand.Rand
	counts     map[string]int
	stopScaler func()
}

var clusterFaults = []fault2{
	{"kill-master", 3, func(c *clusterChaos) string { return c.kill(c.pod(true)) }, true},
	{"kill-replica", 2, func(c *clusterChaos) string { return c.kill(c.pod(false)) }, false},
	{"stop-master-briefly", 2, func(c *clusterChaos) string { return c.pause(c.pod(true), c.between(300, 1500)) }, false},
	{"stop-master-past-node-timeout", 2, func(c *clusterChaos) string { return c.pause(c.pod(true), c.between(4000, 6000)) }, true},
	{"restart-scaler", 1, func(c *clusterChaos) string {
		c.stopScaler()
		time.Sleep(c.between(0, 1500))
		c.stopScaler = c.e.startScaler(nil)
		return ""
	}, false},
	{"scaler-dies-mid-migration", 1, (*clusterChaos).scalerDiesMidMigration, false},
	{"scale", 2, func(c *clusterChaos) string {
		from := c.shards
		for c.shards == from {
			c.shards = 2 + c.rng.IntN(3)
		}
		c.e.scaleCluster("rc", int32(c.shards))
		return fmt.Sprintf(" %d -> %d", from, c.shards)
	}, false},
	{"rollout", 1, func(c *clusterChaos) string {
		rev := c.e.rolloutRestart("rc")
		c.e.waitClusterRolledOut("rc", rev, c.shards, 1, 4*time.Minute)
		return " to " + rev
	}, true},
}

// fault2 is a fault of the cluster schedule; movesMaster when it makes a
// shard change master (its write gap is a failover's).
type fault2 struct {
	name        string
	weight      int
	run         func(c *clusterChaos) string
	movesMaster bool
}

func (c *clusterChaos) pick() fault2 {
	return pickWeighted(c.rng, clusterFaults, func(f fault2) int { return f.weight })
}

func (c *clusterChaos) between(loMS, hiMS int) time.Duration { return between(c.rng, loMS, hiMS) }

// pod picks a random master (or replica) of the cluster, by its labels.
func (c *clusterChaos) pod(master bool) string {
	role := "replica"
	if master {
		role = "master"
	}
	var names []string
	for _, p := range c.e.pods("rc") {
		if p.Labels["redisautoscaler.io/role"] == role {
			names = append(names, p.Name)
		}
	}
	require.NotEmpty(c.e.t, names, "no %s", role)
	return names[c.rng.IntN(len(names))]
}

func (c *clusterChaos) kill(pod string) string {
	c.e.signal(pod, syscall.SIGKILL)
	return " " + pod
}

func (c *clusterChaos) pause(pod string, d time.Duration) string {
	c.e.signal(pod, syscall.SIGSTOP)
	time.Sleep(d)
	c.e.signal(pod, syscall.SIGCONT)
	return fmt.Sprintf(" %s for %v", pod, d)
}

// scalerDiesMidMigration starts a scale out or in with a scaler that dies
// after its first migrated batch (a slot left open), then a healthy one.
func (c *clusterChaos) scalerDiesMidMigration() string {
	c.stopScaler()
	dying, kill := context.WithCancel(context.Background())
	var once sync.Once
	died := make(chan struct{})
	stop := c.e.startScalerOpts(dying, func(o *scalerOpts) {
		o.afterSlotBatch = func() { once.Do(func() { close(died); kill() }) }
	})
	from := c.shards
	if c.shards < 4 {
		c.shards++
	} else {
		c.shards--
	}
	c.e.scaleCluster("rc", int32(c.shards))
	reached := true
	select {
	case <-died:
	case <-time.After(60 * time.Second):
		reached = false
	}
	stop()
	c.stopScaler = c.e.startScaler(nil)
	return fmt.Sprintf(" %d -> %d (died after a batch: %v)", from, c.shards, reached)
}

// clusterWorkload is the history checker's clients for a cluster: the
// workload's bookkeeping, writes routed by the slot map.
type clusterWorkload struct {
	*workload
	cc      *redis.ClusterClient
	mu2     sync.Mutex
	clients map[string]*redis.Client
}

func (e *env) startClusterWorkload(addrs []string, workers int, seed uint64) *clusterWorkload {
	w := &clusterWorkload{
		workload: &workload{e: e, start: time.Now(), keys: map[string]*keyState{}, stop: make(chan struct{}), pinned: true},
		cc:       redis.NewClusterClient(&redis.ClusterOptions{Addrs: addrs}),
		clients:  map[string]*redis.Client{},
	}
	e.t.Cleanup(func() { w.cc.Close() })
	for i := range workers {
		w.wg.Add(1)
		go func() {
			defer w.wg.Done()
			w.run(i, rand.New(rand.NewPCG(seed, uint64(i))))
		}()
	}
	return w
}

func (w *clusterWorkload) node(addr string) *redis.Client {
	w.mu2.Lock()
	defer w.mu2.Unlock()
	c, ok := w.clients[addr]
	if !ok {
		c = redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1, DialTimeout: time.Second, ReadTimeout: 2 * time.Second})
		w.clients[addr] = c
		w.e.t.Cleanup(func() { c.Close() })
	}
	return c
}

// run writes new keys and overwrites live ones, as workload.client does.
func (w *clusterWorkload) run(id int, rng *rand.Rand) {
	var live []*liveKey
	next := 0
	for {
		select {
		case <-w.stop:
			return
		default:
		}
		var k *liveKey
		if len(live) > 0 && rng.Float64() < 0.5 {
			k = live[rng.IntN(len(live))]
		} else {
			k = &liveKey{name: fmt.Sprintf("c%d-%06d", id, next)}
			next++
			live = append(live, k)
			if len(live) > 16 {
				live = live[1:]
			}
		}
		if !w.write(k) {
			live = slices.DeleteFunc(live, func(l *liveKey) bool { return l == k })
			time.Sleep(10 * time.Millisecond)
		}
	}
}

// Outcomes of one write.
const (
	writeAcked   = iota // applied and on a replica (WAIT 1)
	writeNotDone        // refused or never sent: it did not happen
	writeUnknown        // applied but not acknowledged, or lost in flight
)

// write sends SET + WAIT 1 to the key's master. It returns false when the
// outcome is unknown (the key is retired).
func (w *clusterWorkload) write(k *liveKey) bool {
	k.version++
	value := fmt.Sprint(k.version)
	in := kvInput{Key: k.name, Write: true, Value: value}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	call := w.now()
	switch w.send(ctx, k.name, value) {
	case writeAcked:
		ret := w.now()
		w.record(porcupine.Operation{Input: in, Call: call, Output: kvOutput{}, Return: ret}, func(s *keyState) {
			s.acked, s.hasAck, s.maybe = value, true, nil
			w.acked++
			w.ackedNow()
		})
		k.value, k.exists = value, true
		return true
	case writeNotDone:
		w.mu.Lock()
		w.refused++
		w.mu.Unlock()
		k.version--
		return true
	default:
		w.record(porcupine.Operation{Input: in, Call: call, Output: kvOutput{}, Return: never}, func(s *keyState) {
			s.maybe = append(s.maybe, value)
			w.unknown++
		})
		return false
	}
}

// send routes by the slot map and follows MOVED and ASK, as a cluster
// client does; an error reply (CLUSTERDOWN, TRYAGAIN, READONLY, LOADING)
// means the SET did not run, so it is sent again after a fresh slot map,
// up to 10 times.
func (w *clusterWorkload) send(ctx context.Context, key, value string) int {
	node, err := w.cc.MasterForKey(ctx, key)
	if err != nil {
		return writeNotDone
	}
	asking := false
	for range 10 {
		var set *redis.StatusCmd
		var wait *redis.Cmd
		_, _ = node.Pipelined(ctx, func(p redis.Pipeliner) error {
			if asking {
				p.Do(ctx, "ASKING")
			}
			set = p.Set(ctx, key, value, 0)
			wait = p.Do(ctx, "WAIT", 1, 300)
			return nil
		})
		serr := set.Err()
		if serr == nil {
			if n, werr := wait.Int(); werr == nil && n >= 1 {
				return writeAcked
			}
			return writeUnknown
		}
		msg := serr.Error()
		f := strings.Fields(msg)
		var rerr redis.Error
		var nerr *net.OpError
		switch {
		case strings.HasPrefix(msg, "MOVED ") && len(f) == 3:
			w.cc.ReloadState(ctx)
			node, asking = w.node(f[2]), false
		case strings.HasPrefix(msg, "ASK ") && len(f) == 3:
			node, asking = w.node(f[2]), true
		case errors.As(serr, &rerr) || errors.As(serr, &nerr) && nerr.Op == "dial":
			time.Sleep(20 * time.Millisecond)
			w.cc.ReloadState(ctx)
			if node, err = w.cc.MasterForKey(ctx, key); err != nil {
				return writeNotDone
			}
			asking = false
		default:
			return writeUnknown
		}
	}
	return writeNotDone
}

// checkCluster reads every key through the slot map (after the cluster
// settled and writes stopped) and checks the history.
func (w *clusterWorkload) checkCluster(ctx context.Context, addrs []string) (verdict, error) {
	cc := redis.NewClusterClient(&redis.ClusterOptions{Addrs: addrs})
	defer cc.Close()
	return w.checkWith(ctx, func(names []string) (map[string]kvOutput, error) {
		out := map[string]kvOutput{}
		cmds, err := cc.Pipelined(ctx, func(p redis.Pipeliner) error {
			for _, k := range names {
				p.Get(ctx, k)
			}
			return nil
		})
		if err != nil && !errors.Is(err, redis.Nil) {
			return nil, err
		}
		for i, c := range cmds {
			v, err := c.(*redis.StringCmd).Result()
			if err != nil && !errors.Is(err, redis.Nil) {
				// Pipelined reports the first error only: one that is
				// not "no such key" must not read as a lost write.
				return nil, fmt.Errorf("GET %s: %w", names[i], err)
			}
			out[names[i]] = kvOutput{Value: v, Exists: err == nil}
		}
		return out, nil
	}, nil)
}
