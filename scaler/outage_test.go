package scaler_test

import (
	"context"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Issue 25 case 11: an API outage. The API server is stopped for 60 s
// (clients get connection refused, so every reconcile fails); 5 s in,
// the master is killed (kill -9) and comes back as a replica of the
// placeholder, with no master in the group. Within 10 s of the API
// server's return the group has a master again, with every acknowledged
// write: a reconcile that failed all through the outage is retried within
// controller.MaxBackoff, where controller-runtime's default doubling had
// reached about 40 s. (In-process, without leader election: a deployed
// scaler would lose its Lease and be restarted by the kubelet.)
func TestAPIOutageThenMasterLost(t *testing.T) {
	t.Parallel()
	e := newEnvOwnCluster(t, "outage")
	e.startScaler(nil)
	e.createGroup("og", 3, "--replicaof", "127.0.0.1", "1")
	m := e.waitConverged("og", 3, 60*time.Second)
	w := e.startWriter("og", "w:")
	require.Eventually(t, func() bool { return w.Count() > 200 }, 30*time.Second, 10*time.Millisecond)

	e.c.StopAPIServer()
	stopped := time.Now()
	time.Sleep(5 * time.Second)
	e.signal(m.Name, syscall.SIGKILL)
	time.Sleep(time.Until(stopped.Add(60 * time.Second)))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	require.NoError(t, e.c.StartAPIServer(ctx))
	back := time.Now()
	e.ctx = ctx
	m = e.waitConverged("og", 3, time.Minute)
	took := time.Since(back)
	before := w.Count()
	require.Eventually(t, func() bool { return w.Count() > before+100 }, 30*time.Second, 10*time.Millisecond)
	acked := w.Finish()
	t.Logf("master %s, converged %v after the API server answered again; %d writes acknowledged, %d not", m.Name, took.Round(time.Millisecond), len(acked), w.Failed())
	assert.Less(t, took, 10*time.Second, "recovered late after the API outage")
	e.requireKeys(m.Status.PodIP, acked)
}
