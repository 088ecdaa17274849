package scaler_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/redis-autoscaler/redis-autoscaler/backup"
	"github.com/redis-autoscaler/redis-autoscaler/scaler/api/v1alpha1"
)

// loadedGroup creates a 3-pod group "db", waits until it converges and
// writes n keys k:0.. to its master, acknowledged by both replicas.
func (e *env) loadedGroup(n int) (corev1.Pod, *redis.Client, []string) {
	e.createGroup("db", 3, "--repl-diskless-sync-delay", "0")
	m := e.waitConverged("db", 3, 90*time.Second)
	mc := e.redis(m.Status.PodIP)
	keys := make([]string, n)
	p := mc.Pipeline()
	for i := range keys {
		keys[i] = "k:" + strconv.Itoa(i)
		p.Set(e.ctx, keys[i], i, 0)
	}
	_, err := p.Exec(e.ctx)
	require.NoError(e.t, err)
	require.NoError(e.t, mc.Do(e.ctx, "WAIT", 2, 5000).Err())
	return m, mc, keys
}

// annotateGroup merge-patches the group's annotations (nil removes one).
func (e *env) annotateGroup(name string, kv map[string]any) {
	raw, err := json.Marshal(map[string]any{"metadata": map[string]any{"annotations": kv}})
	require.NoError(e.t, err)
	require.NoError(e.t, e.cl.Patch(e.ctx, e.group(name), client.RawPatch(types.MergePatchType, raw)))
}

// A group's backup comes from an in-sync replica and is recorded in the
// group's status; --keep prunes older ones. Its restore (while the scaler
// holds the topology) leaves the master with exactly the backup and all
// three pods in sync, and releases the hold.
func TestGroupBackupAndRestore(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "backup")
	stop := e.startScaler(nil)
	defer stop()
	m, mc, keys := e.loadedGroup(3000)
	require.NoError(t, mc.HSet(e.ctx, "h", "f", "v").Err())
	require.NoError(t, mc.RPush(e.ctx, "l", 1, 2, 3).Err())
	require.NoError(t, mc.Do(e.ctx, "WAIT", 2, 5000).Err())

	dir := t.TempDir()
	var stdout, stderr bytes.Buffer
	type command func(context.Context, []string, io.Writer, io.Writer) int
	run := func(cmd command, args ...string) int {
		stdout.Reset()
		stderr.Reset()
		return cmd(e.ctx, append(args, "--group", e.ns+"/db", "--kubeconfig", e.c.KubeconfigPath), &stdout, &stderr)
	}
	for i := range 3 {
		rc := run(backup.MainBackup, "--out-dir", dir, "--keep", "2")
		require.Zero(t, rc, "backup %d: %s", i, stderr.String())
		require.Contains(t, stdout.String(), "3002 keys")
		require.Contains(t, stdout.String(), "(replica)", "taken from a replica")
		time.Sleep(time.Second) // file names have a resolution of one second
	}
	files, err := filepath.Glob(filepath.Join(dir, "db-*.rdb"))
	require.NoError(t, err)
	require.Len(t, files, 2, "--keep 2")
	st := e.group("db").Status.Backup
	require.NotNil(t, st)
	assert.EqualValues(t, 3, st.Succeeded)
	assert.EqualValues(t, 3002, st.LastKeys)
	assert.Equal(t, filepath.Base(files[1]), st.LastFile)
	sc, err := backup.ReadSidecar(files[1])
	require.NoError(t, err)
	assert.Equal(t, "replica", sc.Role)
	assert.Equal(t, e.ns+"/db", sc.Group)

	// The data changes; a restore without --force is refused and holds
	// nothing afterwards.
	require.NoError(t, mc.FlushAll(e.ctx).Err())
	require.NoError(t, mc.Set(e.ctx, "junk", 1, 0).Err())
	rc := run(backup.MainRestore, "--in", files[1])
	require.Equal(t, 1, rc)
	require.Contains(t, stderr.String(), "--force")
	assert.NotContains(t, e.group("db").Annotations, v1alpha1.AnnotationHoldUntil)

	rc = run(backup.MainRestore, "--in", files[1], "--force")
	require.Zero(t, rc, "restore: %s", stderr.String())
	t.Logf("%s%s", stderr.String(), stdout.String())
	g := e.group("db")
	assert.NotContains(t, g.Annotations, v1alpha1.AnnotationHoldUntil, "hold released")
	held := meta.FindStatusCondition(g.Status.Conditions, v1alpha1.ConditionTopologyHeld)
	require.NotNil(t, held, "the scaler acknowledged the hold")
	m2 := e.waitConverged("db", 3, 60*time.Second)
	assert.Equal(t, m.Name, m2.Name, "the master stays the master")
	require.Eventually(t, func() bool {
		return meta.IsStatusConditionPresentAndEqual(e.group("db").Status.Conditions, v1alpha1.ConditionTopologyHeld, metav1.ConditionFalse)
	}, 10*time.Second, 50*time.Millisecond)
	for _, p := range e.pods("db") {
		c := e.redis(p.Status.PodIP)
		require.EqualValues(t, 3002, c.DBSize(e.ctx).Val(), "%s holds the backup's keys", p.Name)
		require.Zero(t, c.Exists(e.ctx, "junk").Val(), "%s: written after the backup", p.Name)
		e.requireKeys(p.Status.PodIP, keys)
	}
	require.Equal(t, []string{"1", "2", "3"}, mc.LRange(e.ctx, "l", 0, -1).Val())

	// While held, the scaler leaves the topology alone even as it
	// reconciles (each annotation change is an event): a replica made a
	// master by hand stays one; released, the scaler re-attaches it.
	until := time.Now().Add(time.Minute).Truncate(time.Second)
	e.annotateGroup("db", map[string]any{v1alpha1.AnnotationHoldUntil: until.UTC().Format(time.RFC3339)})
	require.Eventually(t, func() bool {
		c := meta.FindStatusCondition(e.group("db").Status.Conditions, v1alpha1.ConditionTopologyHeld)
		return c != nil && c.Status == metav1.ConditionTrue && c.Message == v1alpha1.HoldMessage(until, "")
	}, 10*time.Second, 50*time.Millisecond)
	var detached corev1.Pod
	for _, p := range e.pods("db") {
		if p.Name != m.Name {
			detached = p
		}
	}
	dc := e.redis(detached.Status.PodIP)
	require.NoError(t, dc.ReplicaOf(e.ctx, "NO", "ONE").Err())
	for i := range 10 {
		e.annotateGroup("db", map[string]any{"test/poke": strconv.Itoa(i)})
		time.Sleep(200 * time.Millisecond)
	}
	assert.Equal(t, "master", dc.Do(e.ctx, "ROLE").Val().([]any)[0], "held: %s left detached", detached.Name)
	e.annotateGroup("db", map[string]any{v1alpha1.AnnotationHoldUntil: nil})
	require.Equal(t, m.Name, e.waitConverged("db", 3, 60*time.Second).Name)
	assert.Equal(t, "slave", dc.Do(e.ctx, "ROLE").Val().([]any)[0], "released: %s re-attached", detached.Name)

	// A corrupt file is refused before the group is held.
	bad := filepath.Join(dir, "bad.rdb")
	b, err := os.ReadFile(files[1])
	require.NoError(t, err)
	b[len(b)/2] ^= 1
	require.NoError(t, os.WriteFile(bad, b, 0o600))
	rc = run(backup.MainRestore, "--in", bad, "--force")
	require.Equal(t, 1, rc)
	require.Contains(t, stderr.String(), "not a complete RDB")
	require.EqualValues(t, 3002, mc.DBSize(e.ctx).Val())
}

// A restore killed (kill -9) in the middle of its transfer leaves the
// master replicating a one-off master that is gone, and the group held.
// Once the hold lapses the scaler restores a working topology with the
// data the group had: nothing was replaced, nothing is lost.
func TestGroupRestoreDiedMidway(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "restore-died")
	stop := e.startScaler(nil)
	defer stop()
	_, mc, keys := e.loadedGroup(500)

	// What a killed restore leaves behind: its hold, and the master
	// pointed at a port nobody listens on any more.
	until := time.Now().Add(4 * time.Second).Truncate(time.Second).Add(time.Second)
	e.annotateGroup("db", map[string]any{
		v1alpha1.AnnotationHoldUntil: until.UTC().Format(time.RFC3339), v1alpha1.AnnotationHoldReason: "restore of x.rdb"})
	require.Eventually(t, func() bool {
		return meta.IsStatusConditionTrue(e.group("db").Status.Conditions, v1alpha1.ConditionTopologyHeld)
	}, 10*time.Second, 50*time.Millisecond)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	dead := l.Addr().(*net.TCPAddr).Port
	require.NoError(t, l.Close())
	require.NoError(t, mc.ReplicaOf(e.ctx, "127.0.0.1", strconv.Itoa(dead)).Err())

	time.Sleep(time.Until(until))
	recovered := e.waitConverged("db", 3, 60*time.Second)
	t.Logf("hold lapsed; %s is the master", recovered.Name)
	for _, p := range e.pods("db") {
		e.requireKeys(p.Status.PodIP, keys)
	}
	assert.True(t, meta.IsStatusConditionFalse(e.group("db").Status.Conditions, v1alpha1.ConditionTopologyHeld))
}
