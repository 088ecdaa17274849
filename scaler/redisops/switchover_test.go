package redisops_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/redis-autoscaler/redis-autoscaler/scaler/redisops"
	"github.com/redis-autoscaler/redis-autoscaler/scaler/topology"
	"github.com/redis-autoscaler/redis-autoscaler/test/redistest"
)

type group struct {
	servers []*redistest.Server
	clients []*redis.Client
	auth    redisops.Auth
}

// startGroup starts n redis-servers and attaches 1..n-1 to 0, waiting until
// every replica is in sync.
func startGroup(t *testing.T, n int, password string) *group {
	t.Helper()
	g := &group{auth: redisops.Auth{Password: password}}
	for range n {
		s := redistest.StartWith(t, redistest.Options{Password: password, Args: []string{"--repl-diskless-sync-delay", "0"}})
		c := redis.NewClient(redisops.ClientOptions(s.Host, s.Port, g.auth, nil))
		t.Cleanup(func() { c.Close() })
		g.servers = append(g.servers, s)
		g.clients = append(g.clients, c)
	}
	ctx := context.Background()
	for i := 1; i < n; i++ {
		require.NoError(t, redisops.Attach(ctx, g.clients[i], g.servers[0].Host, g.servers[0].Port, g.auth))
	}
	for i := 1; i < n; i++ {
		g.waitInSync(t, i, 0)
	}
	return g
}

// logOnFailure logs every server's log when the test fails.
func (g *group) logOnFailure(t *testing.T) {
	t.Cleanup(func() {
		if !t.Failed() {
			return
		}
		for i, srv := range g.servers {
			b, _ := os.ReadFile(filepath.Join(srv.Dir, "redis.log"))
			t.Logf("server %d log:\n%s", i, b)
		}
	})
}

func (g *group) observe(t *testing.T, i int) topology.Pod {
	t.Helper()
	var p topology.Pod
	require.NoError(t, redisops.Observe(context.Background(), g.clients[i], &p))
	return p
}

func (g *group) waitInSync(t *testing.T, replica, master int) {
	t.Helper()
	m := g.servers[master]
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		var p topology.Pod
		require.NoError(c, redisops.Observe(context.Background(), g.clients[replica], &p))
		require.Truef(c, p.InSyncWith(m.Host, m.Port), "replica %d: %+v", replica, p)
	}, 10*time.Second, 20*time.Millisecond)
}

func (g *group) node(i int) redisops.Node {
	return redisops.Node{Name: fmt.Sprintf("redis-%d", i), Client: g.clients[i], Host: g.servers[i].Host, Port: g.servers[i].Port}
}

func TestObserve(t *testing.T) {
	g := startGroup(t, 2, "")
	ctx := context.Background()
	require.NoError(t, g.clients[0].Set(ctx, "a", "1", 0).Err())
	require.NoError(t, g.clients[0].Do(ctx, "WAIT", 1, 1000).Err())

	m := g.observe(t, 0)
	assert.True(t, m.IsMaster())
	assert.Equal(t, 1, m.ConnectedReplicas)
	assert.EqualValues(t, 1, m.Keys)
	assert.Positive(t, m.Offset)
	assert.Len(t, m.RunID, 40)

	r := g.observe(t, 1)
	assert.Equal(t, topology.RoleReplica, r.Role)
	assert.Equal(t, g.servers[0].Host, r.MasterHost)
	assert.Equal(t, g.servers[0].Port, r.MasterPort)
	assert.True(t, r.LinkUp)
	assert.False(t, r.SyncInProgress)
	assert.Equal(t, m.Offset, r.Offset)
	assert.EqualValues(t, 1, r.Keys)
}

// A writer sends SET + WAIT 1 continuously while the master moves from
// server 0 to server 1: every write acknowledged by WAIT is on the new
// master afterwards, and the write pause is reported.
func TestSwitchoverLosesNoAcknowledgedWrite(t *testing.T) {
	for _, password := range []string{"", "s3cret-pw"} {
		name := "no auth"
		if password != "" {
			name = "masterauth"
		}
		t.Run(name, func(t *testing.T) {
			g := startGroup(t, 3, password)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()

			var current atomic.Pointer[redis.Client]
			current.Store(g.clients[0])
			w := redistest.StartAckWriter(redistest.AckWriterOptions{Ctx: ctx, Prefix: "k", Wait: 200 * time.Millisecond, Target: current.Load})
			ackedCount := w.Count
			require.Eventually(t, func() bool { return ackedCount() > 200 }, 10*time.Second, 5*time.Millisecond)

			s1 := g.servers[1]
			res, err := redisops.Switchover(ctx, g.node(0), g.node(1), s1.Host, s1.Port, []redisops.Node{g.node(2)},
				redisops.SwitchoverOptions{PauseTimeout: 2 * time.Second, Auth: g.auth})
			require.NoError(t, err)
			current.Store(g.clients[1])
			before := ackedCount()
			require.Eventually(t, func() bool { return ackedCount() > before+200 }, 10*time.Second, 5*time.Millisecond,
				"writes continue on the new master")
			acked, failed := w.Finish(), w.Failed()
			t.Logf("write pause %v at offset %d; %d writes acknowledged, %d not", res.WritePause, res.Offset, len(acked), failed)
			assert.Less(t, res.WritePause, 2*time.Second)

			assert.True(t, g.observe(t, 1).IsMaster())
			g.waitInSync(t, 0, 1)
			g.waitInSync(t, 2, 1)
			newMaster := g.clients[1]
			for _, chunk := range chunks(acked, 500) {
				vals, err := newMaster.MGet(ctx, chunk...).Result()
				require.NoError(t, err)
				for i, v := range vals {
					require.NotNilf(t, v, "acknowledged write %s lost", chunk[i])
				}
			}
		})
	}
}

// A target that does not replicate the master never catches up: the
// switchover is aborted, and the old master takes writes again.
func TestSwitchoverAbortsAndUnpauses(t *testing.T) {
	g := startGroup(t, 2, "")
	lone := redistest.Start(t)
	loneClient := redis.NewClient(redisops.ClientOptions(lone.Host, lone.Port, redisops.Auth{}, nil))
	t.Cleanup(func() { loneClient.Close() })
	ctx := context.Background()
	require.NoError(t, g.clients[0].Set(ctx, "x", "1", 0).Err())
	require.NoError(t, g.clients[0].Do(ctx, "WAIT", 1, 1000).Err())

	res, err := redisops.Switchover(ctx, g.node(0), redisops.Node{Name: "lone", Client: loneClient}, lone.Host, lone.Port, nil,
		redisops.SwitchoverOptions{PauseTimeout: 200 * time.Millisecond})
	require.ErrorIs(t, err, redisops.ErrCatchUpTimeout)
	assert.GreaterOrEqual(t, res.WritePause, 200*time.Millisecond)

	wctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
	defer cancel()
	require.NoError(t, g.clients[0].Set(wctx, "y", "2", 0).Err(), "writes resumed on the old master")
	assert.True(t, g.observe(t, 0).IsMaster())
	assert.True(t, g.observe(t, 1).InSyncWith(g.servers[0].Host, g.servers[0].Port))
}

func TestAttachWrongPasswordFailsLink(t *testing.T) {
	g := startGroup(t, 1, "right")
	r := redistest.StartWith(t, redistest.Options{Password: "right"})
	rc := redis.NewClient(redisops.ClientOptions(r.Host, r.Port, redisops.Auth{Password: "right"}, nil))
	t.Cleanup(func() { rc.Close() })
	err := redisops.Attach(context.Background(), rc, g.servers[0].Host, g.servers[0].Port, redisops.Auth{Password: "right"})
	require.NoError(t, err)
	g.clients = append(g.clients, rc)
	g.servers = append(g.servers, r)
	g.waitInSync(t, 1, 0)

	// Errors never carry the password.
	bad := redis.NewClient(redisops.ClientOptions(r.Host, r.Port, redisops.Auth{Password: "wrong-pw"}, nil))
	t.Cleanup(func() { bad.Close() })
	err = redisops.Attach(context.Background(), bad, g.servers[0].Host, g.servers[0].Port, redisops.Auth{Password: "wrong-pw"})
	require.Error(t, err)
	assert.False(t, strings.Contains(err.Error(), "wrong-pw"), err.Error())
	assert.False(t, errors.Is(err, context.DeadlineExceeded))
}

func chunks(s []string, n int) [][]string {
	var out [][]string
	for len(s) > n {
		out = append(out, s[:n])
		s = s[n:]
	}
	if len(s) > 0 {
		out = append(out, s)
	}
	return out
}

// Case 4 of issue 11: the write pause must not lapse mid-switchover. A
// step after the pause (here the promotion's aftermath) is slower than the
// pause's expiry; writes acknowledged by the old master's other replica
// during that time must not be discarded by re-pointing it. Either the
// switchover finishes before the pause can lapse, or it aborts with the
// old master still master and nothing lost.
func TestSwitchoverPauseNeverLapses(t *testing.T) {
	g := startGroup(t, 3, "")
	g.logOnFailure(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// The writer keeps writing to the old master: a client that has not
	// yet learnt about the switchover.
	w := redistest.StartAckWriter(redistest.AckWriterOptions{Ctx: ctx, Prefix: "p", Wait: 100 * time.Millisecond,
		Target: func() *redis.Client { return g.clients[0] }})
	time.Sleep(200 * time.Millisecond)
	s1 := g.servers[1]
	pause := 300 * time.Millisecond
	res, err := redisops.Switchover(ctx, g.node(0), g.node(1), s1.Host, s1.Port, []redisops.Node{g.node(2)},
		redisops.SwitchoverOptions{PauseTimeout: pause, AfterPromote: func() { time.Sleep(4 * time.Second) }})
	time.Sleep(300 * time.Millisecond)
	acked := w.Finish()
	t.Logf("switchover: %v; write pause %v; %d writes acknowledged", err, res.WritePause, len(acked))
	// Settle: whoever is master now must hold every acknowledged write,
	// and there is exactly one.
	var masters []int
	for i := range g.clients {
		if g.observe(t, i).IsMaster() {
			masters = append(masters, i)
		}
	}
	require.Len(t, masters, 1, "exactly one master after the switchover or its abort")
	m := masters[0]
	if err != nil {
		assert.Equal(t, 0, m, "an aborted switchover leaves the old master in place")
	}
	for _, chunk := range chunks(acked, 500) {
		vals, err := g.clients[m].MGet(ctx, chunk...).Result()
		require.NoError(t, err)
		for i, v := range vals {
			require.NotNilf(t, v, "acknowledged write %s lost", chunk[i])
		}
	}
	for i := range g.clients {
		if i != m {
			g.waitInSync(t, i, m)
		}
	}
	// Writes stopped: every replica reaches the master's offset.
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		mo, err := redisops.Offset(ctx, g.clients[m])
		require.NoError(c, err)
		for i := range g.clients {
			o, err := redisops.Offset(ctx, g.clients[i])
			require.NoError(c, err)
			require.Equal(c, mo, o, "server %d", i)
		}
	}, 10*time.Second, 10*time.Millisecond)
	for _, chunk := range chunks(acked, 500) {
		for i := range g.clients {
			vals, err := g.clients[i].MGet(ctx, chunk...).Result()
			require.NoError(t, err)
			for j, v := range vals {
				require.NotNilf(t, v, "acknowledged write %s lost on server %d", chunk[j], i)
			}
		}
	}
}
