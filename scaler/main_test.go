package scaler_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/redis-autoscaler/redis-autoscaler/scaler"
	"github.com/redis-autoscaler/redis-autoscaler/scaler/api/v1alpha1"
	"github.com/redis-autoscaler/redis-autoscaler/test/cluster"
	"github.com/redis-autoscaler/redis-autoscaler/test/redistest"
)

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// runMain runs scaler.Main as the command would, until stop is called.
func (e *env) runMain(args ...string) (stderr *syncBuffer, stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	stderr = &syncBuffer{}
	done := make(chan int, 1)
	go func() { done <- scaler.Main(ctx, args, io.Discard, stderr) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case code := <-done:
				assert.Zero(e.t, code, stderr.String())
			case <-time.After(30 * time.Second):
				e.t.Error("scaler.Main did not return")
			}
		})
	}
	e.t.Cleanup(stop)
	return stderr, stop
}

// Two copies of the command with leader election, a group with a password
// from a Secret (replicas get masterauth): one leads and converges the
// group; when it stops, the other takes over. The password appears in no
// log line, event or metric.
func TestMainPasswordLeaderElectionMetrics(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "main")
	e.password = "pw-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	require.NoError(t, e.cl.Create(e.ctx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "redis-auth", Namespace: e.ns},
		Data:       map[string][]byte{"password": []byte(e.password)},
	}))
	sts := cluster.RedisStatefulSet("auth", 1, "--requirepass", e.password)
	sts.Namespace = e.ns
	require.NoError(t, e.cl.Create(e.ctx, sts))
	three := int32(3)
	require.NoError(t, e.cl.Create(e.ctx, &v1alpha1.RedisReplicationGroup{
		ObjectMeta: metav1.ObjectMeta{Name: "auth", Namespace: e.ns},
		Spec: v1alpha1.RedisReplicationGroupSpec{
			StatefulSetName: "auth", Replicas: &three, Addressing: v1alpha1.AddressingIP,
			Auth: &v1alpha1.AuthSpec{PasswordSecretRef: &v1alpha1.SecretKeyRef{Name: "redis-auth"}},
		},
	}))

	// The scaler runs as a ServiceAccount bound to the generated
	// ClusterRole (through a RoleBinding in the namespace): the RBAC in
	// deploy/ is enough, and nothing more is used.
	require.NoError(t, e.c.Apply(e.ctx, "../deploy/rbac/scaler/role.yaml"))
	require.NoError(t, e.cl.Create(e.ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "scaler", Namespace: e.ns}}))
	require.NoError(t, e.cl.Create(e.ctx, &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "scaler", Namespace: e.ns},
		RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: "redis-autoscaler-scaler"},
		Subjects:   []rbacv1.Subject{{Kind: "ServiceAccount", Name: "scaler", Namespace: e.ns}},
	}))
	kubeconfig, err := e.c.ServiceAccountKubeconfig(e.ctx, e.ns, "scaler")
	require.NoError(t, err)

	// Copy 0 starts first and leads; copy 1 waits for the lease.
	var logs []*syncBuffer
	var stops []func()
	var metricsAddrs []string
	for i := range 2 {
		port, err := redistest.FreePort()
		require.NoError(t, err)
		addr := fmt.Sprintf("127.0.0.1:%d", port)
		metricsAddrs = append(metricsAddrs, addr)
		l, stop := e.runMain("--kubeconfig", kubeconfig, "--namespace", e.ns,
			"--leader-elect", "--leader-election-namespace", e.ns,
			"--metrics-bind-address", addr, "--health-probe-bind-address", "0", "--log-format", "json")
		logs, stops = append(logs, l), append(stops, stop)
		if i == 0 {
			require.Eventually(t, func() bool {
				var lease coordinationv1.Lease
				err := e.cl.Get(e.ctx, client.ObjectKey{Namespace: e.ns, Name: scaler.LeaderElectionID}, &lease)
				return err == nil && lease.Spec.HolderIdentity != nil && *lease.Spec.HolderIdentity != ""
			}, 30*time.Second, 50*time.Millisecond)
		}
	}
	m := e.waitConverged("auth", 3, 90*time.Second)
	require.Equal(t, "auth-0", m.Name)

	// Metrics of the scaler are on /metrics (each copy's own registry:
	// the leader's shows what it did).
	var body string
	require.EventuallyWithT(t, func(ct *assert.CollectT) {
		resp, err := http.Get("http://" + metricsAddrs[0] + "/metrics")
		require.NoError(ct, err)
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		require.NoError(ct, err)
		body = string(b)
		for _, name := range []string{"redis_autoscaler_scaler_reconciles_total", "redis_autoscaler_scaler_reconcile_duration_seconds_count",
			"redis_autoscaler_scaler_topology_commands_total{command=\"replicaof\"}",
			`redis_autoscaler_scaler_attach_duration_seconds_count{group="auth",namespace="` + e.ns + `"}`,

			`redis_autoscaler_scaler_group_replicas{group="auth",namespace="` + e.ns + `",state="synced"} 3`,
			`redis_autoscaler_scaler_group_replicas{group="auth",namespace="` + e.ns + `",state="desired"} 3`,
			`redis_autoscaler_scaler_group_master{group="auth",namespace="` + e.ns + `",pod="auth-0"} 1`} {
			require.Contains(ct, body, name)
		}
		// Every pod of the group, one master and in-sync replicas (which
		// pod is which may move under load, so any).
		for _, re := range []string{
			`redis_autoscaler_scaler_group_pod_info\{group="auth",namespace="` + e.ns + `",pod="auth-[0-2]",role="master",synced="false"\} 1`,
			`redis_autoscaler_scaler_group_pod_info\{group="auth",namespace="` + e.ns + `",pod="auth-[0-2]",role="replica",synced="true"\} 1`,
		} {
			require.Regexp(ct, re, body)
		}
	}, 30*time.Second, 200*time.Millisecond)

	// The other copy takes over when the leader stops (it releases the
	// lease on the way out).
	stops[0]()
	e.scale("auth", 2)
	e.waitConverged("auth", 2, 90*time.Second)
	require.EventuallyWithT(t, func(ct *assert.CollectT) {
		// Copy 0 is gone; copy 1 took over and scaled down.
		resp, err := http.Get("http://" + metricsAddrs[1] + "/metrics")
		require.NoError(ct, err)
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		require.NoError(ct, err)
		require.Contains(ct, string(b), `redis_autoscaler_scaler_scale_events_total{direction="down",group="auth",namespace="`+e.ns+`"} 1`)
	}, 20*time.Second, 200*time.Millisecond)

	var events corev1.EventList
	require.NoError(t, e.cl.List(e.ctx, &events, client.InNamespace(e.ns)))
	require.NotEmpty(t, events.Items)
	for _, ev := range events.Items {
		require.NotContains(t, ev.Message, e.password, "event %s", ev.Reason)
	}
	for i, l := range logs {
		require.NotContains(t, l.String(), e.password, "log of copy %d", i)
		require.NotContains(t, l.String(), "forbidden", "log of copy %d: the RBAC lacks something", i)
	}
	require.NotContains(t, body, e.password, "metrics")
}
