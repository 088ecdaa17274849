package scaler_test

import (
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The classic wipe-out (spotahome/redis-operator#95,
// OT-CONTAINER-KIT/redis-operator#1158): the master restarts without
// persistence while nobody is watching, and comes back empty under the
// same address. Replicas reconnect and would load its empty dataset. The
// scaler sees a master with a new run_id and no keys while replicas still
// hold data, promotes the best replica and attaches the restarted pod to it.
//
// The scaler is stopped during the crash so the restart is seen only
// afterwards (not the faster "master pod down" path). The StatefulSet's
// repl-diskless-sync-delay of 5 s keeps the replicas' data during the
// window the scaler needs to come back.
func TestMasterRestartedEmptyIsNotFollowed(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "wipeout")
	stop := e.startScaler(nil)
	e.createGroup("cache", 3, "--repl-diskless-sync-delay", "5")
	m := e.waitConverged("cache", 3, 60*time.Second)
	keys := make([]string, 500)
	for i := range keys {
		keys[i] = fmt.Sprintf("keep-%d", i)
		require.NoError(t, e.redis(m.Status.PodIP).Set(e.ctx, keys[i], i, 0).Err())
	}
	require.NoError(t, e.redis(m.Status.PodIP).Do(e.ctx, "WAIT", 2, 5000).Err())
	oldRunID := e.group("cache").Status.MasterRunID
	require.NotEmpty(t, oldRunID)

	stop()
	e.signal(m.Name, syscall.SIGKILL)
	require.EventuallyWithT(t, func(ct *assert.CollectT) {
		o, err := e.observe(m.Status.PodIP)
		require.NoError(ct, err)
		require.NotEqual(ct, oldRunID, o.RunID)
		require.Zero(ct, o.Keys)
	}, 20*time.Second, 20*time.Millisecond, "the master restarts empty")

	e.startScaler(nil)
	e.requireEvent("MasterRestartedEmpty")
	var master string
	require.EventuallyWithT(t, func(ct *assert.CollectT) {
		master = e.converged(ct, "cache", 3).Name
		require.NotEqual(ct, m.Name, master)
	}, 60*time.Second, 50*time.Millisecond)
	for _, p := range e.pods("cache") {
		e.requireKeys(p.Status.PodIP, keys)
	}
	t.Logf("%s restarted empty; %s promoted, all 3 pods hold the data", m.Name, master)
}
