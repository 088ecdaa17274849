package scaler_test

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/redis-autoscaler/redis-autoscaler/scaler/api/v1alpha1"
	"github.com/redis-autoscaler/redis-autoscaler/scaler/clusterops"
	"github.com/redis-autoscaler/redis-autoscaler/scaler/controller"
	"github.com/redis-autoscaler/redis-autoscaler/test/cluster"
)

// clusterNodeTimeout is clusterArgs' cluster-node-timeout.
const clusterNodeTimeout = 2 * time.Second

// Issue 25 case 1: a master fails over in the middle of a slot move.
// The destination case is a known failure, behind make unfixed: the
// stalled destination's replica takes over only the slots it had heard
// the destination owned, so the old destination comes back still a
// master of slots given to it just before the stall, and it and its
// promoted replica both hold keys of the slots left open: Fix finds two
// destinations and does not guess which copy wins.
// The scaler reshards 3 -> 4 shards under writes; after the 30th batch
// of keys the source of an open slot (or, in the second case, its
// destination) is stopped for 3× the node timeout, long enough for Redis
// to promote its replica, which never had the slot's MIGRATING or
// IMPORTING state. The cluster must end balanced with every acknowledged
// key readable, the scaler must finish the open move on the new master
// (no FixFailed loop), and a reader running throughout must find a key
// missing only between the promotion and the scaler's fix.
func TestClusterFailoverMidMigration(t *testing.T) {
	for _, end := range []string{"source", "destination"} {
		t.Run(end, func(t *testing.T) {
			if end == "destination" && os.Getenv("UNFIXED") == "" {
				t.Skip("a known failure of issue 25 (case 1, a destination failed over mid-move); run with make unfixed")
			}
			t.Parallel()
			e := newEnv(t, "rcluster-fo-"+end[:3])
			w := e.startLoadedCluster(3, 20_000)
			addrs := e.waitClusterBalanced("rc", 3, 1, 30*time.Second)
			r := startKeyReader(addrs, keysOf("pre:", 20_000))

			e.stopScalers()
			var batches atomic.Int64
			stopped := make(chan string, 1)
			failed := make(chan error, 1)
			e.startScalerOpts(context.Background(), func(o *scalerOpts) {
				o.afterSlotBatch = func() {
					if batches.Add(1) != 30 {
						return
					}
					// The batch's slot is still open here: the hook runs
					// before the move's SETSLOT NODE.
					pod, err := e.stopOpenEnd(end)
					if err != nil {
						failed <- err
						return
					}
					stopped <- pod
				}
			})
			e.scaleCluster("rc", 4)
			var pod string
			select {
			case pod = <-stopped:
			case err := <-failed:
				t.Fatal(err)
			case <-time.After(time.Minute):
				t.Fatal("no migration started")
			}
			t.Logf("%s of an open slot (%s) stopped after the 30th batch, at %s", end, pod, time.Now().Format("15:04:05.000"))
			time.Sleep(3 * clusterNodeTimeout)
			e.signal(pod, syscall.SIGCONT)

			addrs = e.waitClusterBalanced("rc", 4, 1, 2*time.Minute)
			missing, first, last := r.stop()
			t.Logf("reader: %d reads of a key missing, between %v and %v after the reader started", missing, first, last)
			e.requireEvent("MigrationResumed")
			assert.Zero(t, e.eventCount("FixFailed"), "the open move was not finished on the promoted replica")
			// The stopped shard refused writes until its replica took
			// over: those were not acknowledged.
			acked := finishWriter(t, w, true)
			requireAllKeys(t, addrs, keysOf("pre:", 20_000))
			requireAllKeys(t, addrs, acked)
			// Between the promotion and the scaler's fix, keys the move
			// had already taken read as missing on the new owner (Redis
			// 7.0 does not replicate a slot's MIGRATING state): the fix
			// comes at the next look, not after the stopped node returns.
			if missing > 0 {
				assert.Less(t, last-first, 2*clusterNodeTimeout, "keys read as missing for too long")
			}
		})
	}
}

// stopOpenEnd sends SIGSTOP to the pod that is the source (MIGRATING) or
// the destination (IMPORTING) of an open slot move. It runs inside the
// scaler's hook, off the test's goroutine: it reports errors instead of
// failing the test.
func (e *env) stopOpenEnd(end string) (string, error) {
	var pods corev1.PodList
	if err := e.cl.List(e.ctx, &pods, client.InNamespace(e.ns)); err != nil {
		return "", err
	}
	for _, p := range pods.Items {
		me, err := clusterops.OpenSlots(e.ctx, e.redis(p.Status.PodIP))
		if err != nil {
			continue
		}
		if (end == "source" && len(me.Migrating) > 0) || (end == "destination" && len(me.Importing) > 0) {
			_, err := e.trySignal(p.Name, syscall.SIGSTOP)
			return p.Name, err
		}
	}
	return "", fmt.Errorf("no pod is the %s of an open slot", end)
}

// keyReader reads a set of keys that exist (acknowledged writes) through a
// cluster client in a loop, and counts the reads that found one missing:
// an error (a shard down) is not a missing key, a 0 from EXISTS is.
type keyReader struct {
	start          time.Time
	missing        atomic.Int64
	mu             sync.Mutex
	first, last    time.Duration
	stopCh, doneCh chan struct{}
}

func startKeyReader(addrs, keys []string) *keyReader {
	r := &keyReader{start: time.Now(), stopCh: make(chan struct{}), doneCh: make(chan struct{})}
	cc := redis.NewClusterClient(&redis.ClusterOptions{Addrs: addrs, ReadTimeout: time.Second})
	go func() {
		defer close(r.doneCh)
		defer cc.Close()
		ctx := context.Background()
		for {
			for i := 0; i < len(keys); i += 500 {
				select {
				case <-r.stopCh:
					return
				default:
				}
				batch := keys[i:min(len(keys), i+500)]
				cmds, _ := cc.Pipelined(ctx, func(p redis.Pipeliner) error {
					for _, k := range batch {
						p.Exists(ctx, k)
					}
					return nil
				})
				failed := false
				for _, c := range cmds {
					n, err := c.(*redis.IntCmd).Result()
					if err == nil && n == 0 {
						r.seen()
					}
					failed = failed || err != nil
				}
				if failed {
					// As a client that refreshes its slot map on errors:
					// it finds a promoted replica before the old master
					// answers MOVED.
					cc.ReloadState(ctx)
				}
			}
		}
	}()
	return r
}

func (r *keyReader) seen() {
	r.missing.Add(1)
	at := time.Since(r.start)
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.first == 0 {
		r.first = at
	}
	r.last = at
}

// stop ends the reader; missing is how many reads found a key missing,
// first and last when (since the reader started).
func (r *keyReader) stop() (missing int64, first, last time.Duration) {
	close(r.stopCh)
	<-r.doneCh
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.missing.Load(), r.first, r.last
}

// Issue 25 case 5, as a user met it: a 6-pod cluster-enabled StatefulSet
// whose nodes cannot meet (here: no cluster-announce-ip, so on the pod
// runner's shared loopback each node is reached at the wrong address; on
// a real cluster a NetworkPolicy on the bus port does the same). Within
// 30 s of its pods running, the RedisCluster is Degraded with a condition
// that names every node that did not join and its cluster bus address;
// meanwhile another cluster is formed by the same scaler (forming one
// holds no worker).
func TestClusterNodesCannotMeet(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "rcluster-meet")
	e.startScaler(nil)
	sts := cluster.RedisStatefulSet("stuck", 6, "--cluster-enabled", "yes", "--cluster-node-timeout", "2000", "--appendonly", "no", "--save", "")
	sts.Namespace = e.ns
	require.NoError(t, e.cl.Create(e.ctx, sts))
	var pods []corev1.Pod
	require.EventuallyWithT(t, func(ct *assert.CollectT) {
		pods = e.pods("stuck")
		require.Len(ct, pods, 6)
		for _, p := range pods {
			require.True(ct, controller.PodRunning(&p), p.Name)
			require.NotEmpty(ct, p.Status.PodIP, p.Name)
		}
	}, time.Minute, 100*time.Millisecond)
	shards, perShard := int32(3), int32(1)
	require.NoError(t, e.cl.Create(e.ctx, &v1alpha1.RedisCluster{
		ObjectMeta: metav1.ObjectMeta{Name: "stuck", Namespace: e.ns},
		Spec:       v1alpha1.RedisClusterSpec{StatefulSetName: "stuck", Shards: &shards, ReplicasPerShard: &perShard},
	}))
	start := time.Now()
	e.createCluster("ok", 2, 1)

	var msg string
	require.EventuallyWithT(t, func(ct *assert.CollectT) {
		c := meta.FindStatusCondition(e.rcluster("stuck").Status.Conditions, v1alpha1.ConditionDegraded)
		require.NotNil(ct, c)
		require.Equal(ct, metav1.ConditionTrue, c.Status)
		require.Equal(ct, "NodesCannotMeet", c.Reason, c.Message)
		msg = c.Message
		// Every node the one they are met through does not know is
		// named, with its cluster bus address.
		m := regexp.MustCompile(`is unknown to (\S+) \(cluster bus ([0-9.]+):16379\)`).FindStringSubmatch(msg)
		require.NotNil(ct, m, msg)
		ref := e.pod(m[1])
		require.Equal(ct, ref.Status.PodIP, m[2])
		nodes, err := clusterops.Nodes(e.ctx, e.redis(ref.Status.PodIP))
		require.NoError(ct, err)
		named := 0
		for _, p := range pods {
			me, err := clusterops.OpenSlots(e.ctx, e.redis(p.Status.PodIP))
			require.NoError(ct, err)
			known := slices.ContainsFunc(nodes, func(n clusterops.Node) bool { return n.ID == me.ID && !n.Has("handshake") })
			if p.Name == ref.Name || known {
				continue
			}
			require.Contains(ct, msg, fmt.Sprintf("%s (pod %s, cluster bus %s:16379", p.Name, p.Status.PodIP, p.Status.PodIP))
			named++
		}
		require.Positive(ct, named)
	}, 30*time.Second, 200*time.Millisecond)
	t.Logf("Degraded %v after the RedisCluster was created: %s", time.Since(start).Round(time.Millisecond), msg)
	e.requireEvent("NodesCannotMeet")
	e.waitClusterBalanced("ok", 2, 1, 90*time.Second)
}
