package scaler_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/redis-autoscaler/redis-autoscaler/scaler/api/v1alpha1"
	"github.com/redis-autoscaler/redis-autoscaler/scaler/redisops"
	"github.com/redis-autoscaler/redis-autoscaler/test/redistest"
)

// startSentinel runs Debian's redis-sentinel on a free loopback port,
// monitoring masterIP as "mymaster" with a quorum of 1.
func startSentinel(t *testing.T, masterIP string) (addr string, c *redis.Client) {
	t.Helper()
	bin, err := exec.LookPath("redis-sentinel")
	if err != nil {
		t.Skip("redis-sentinel not installed (apt-get install redis-sentinel)")
	}
	port, err := redistest.FreePort()
	require.NoError(t, err)
	dir := t.TempDir()
	conf := filepath.Join(dir, "sentinel.conf")
	require.NoError(t, os.WriteFile(conf, []byte(fmt.Sprintf(`port %d
bind 127.0.0.1
daemonize no
dir %s
logfile %s
sentinel monitor mymaster %s 6379 1
sentinel down-after-milliseconds mymaster 2000
sentinel failover-timeout mymaster 10000
sentinel parallel-syncs mymaster 2
`, port, dir, filepath.Join(dir, "sentinel.log"), masterIP)), 0o600))
	cmd := exec.Command(bin, conf)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		_ = cmd.Wait()
		if t.Failed() {
			b, _ := os.ReadFile(filepath.Join(dir, "sentinel.log"))
			t.Logf("sentinel log:\n%s", b)
		}
	})
	addr = fmt.Sprintf("127.0.0.1:%d", port)
	c = redis.NewClient(&redis.Options{Addr: addr, Protocol: 2, DisableIdentity: true})
	t.Cleanup(func() { c.Close() })
	require.Eventually(t, func() bool { return c.Ping(context.Background()).Err() == nil }, 10*time.Second, 50*time.Millisecond)
	return addr, c
}

// With spec.sentinel the scaler follows Sentinel's master, scales down
// through SENTINEL FAILOVER when the master would be removed, and resets
// Sentinel's stale replica list afterwards.
func TestSentinelMode(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "sentinel")
	e.startScaler(nil)
	// Replicas connect from 127.0.0.1 here; announcing the pod IP lets
	// Sentinel tell them apart (as on hosts with several addresses).
	e.createGroup("cache", 3, "--replica-announce-ip", "$(POD_IP)")
	m := e.waitConverged("cache", 3, 60*time.Second)
	require.Equal(t, "cache-0", m.Name)
	for i := range 100 {
		require.NoError(t, e.redis(m.Status.PodIP).Set(e.ctx, fmt.Sprintf("s%d", i), i, 0).Err())
	}
	addr, sc := startSentinel(t, m.Status.PodIP)
	require.Eventually(t, func() bool {
		n, err := redisops.SentinelReplicaCount(e.ctx, sc, "mymaster")
		return err == nil && n == 2
	}, 30*time.Second, 100*time.Millisecond, "sentinel discovers both replicas")

	g := e.group("cache")
	patch := client.MergeFrom(g.DeepCopy())
	g.Spec.Sentinel = &v1alpha1.SentinelSpec{Address: addr, MasterName: "mymaster"}
	require.NoError(t, e.cl.Patch(e.ctx, g, patch))

	// Sentinel moves the master to cache-2 (cache-1 made ineligible); the
	// scaler follows Sentinel.
	cache1 := e.pod("cache-1").Status.PodIP
	require.NoError(t, e.redis(cache1).ConfigSet(e.ctx, "replica-priority", "0").Err())
	require.Eventually(t, func() bool {
		prios, err := redisops.SentinelReplicaPriorities(e.ctx, sc, "mymaster")
		return err == nil && prios[cache1+":6379"] == 0
	}, 30*time.Second, 200*time.Millisecond, "sentinel sees the priority (it reads replicas' INFO every 10 s)")
	require.NoError(t, redisops.SentinelFailover(e.ctx, sc, "mymaster"))
	require.EventuallyWithT(t, func(ct *assert.CollectT) {
		require.Equal(ct, "cache-2", e.converged(ct, "cache", 3).Name)
	}, 60*time.Second, 100*time.Millisecond)
	require.NoError(t, e.redis(e.pod("cache-1").Status.PodIP).ConfigSet(e.ctx, "replica-priority", "100").Err())

	// Scale to 2: the master is removed, so Sentinel fails over first.
	e.scale("cache", 2)
	m = e.waitConverged("cache", 2, 90*time.Second)
	require.Contains(t, []string{"cache-0", "cache-1"}, m.Name)
	host, _, err := redisops.SentinelMaster(e.ctx, sc, "mymaster")
	require.NoError(t, err)
	require.Equal(t, m.Status.PodIP, host)
	e.requireEvent("Switchover")
	keys := make([]string, 100)
	for i := range keys {
		keys[i] = fmt.Sprintf("s%d", i)
	}
	e.requireKeys(m.Status.PodIP, keys)
	require.Eventually(t, func() bool {
		n, err := redisops.SentinelReplicaCount(e.ctx, sc, "mymaster")
		return err == nil && n <= 1
	}, 60*time.Second, 200*time.Millisecond, "sentinel forgets the removed pod")
}
