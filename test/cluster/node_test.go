package cluster_test

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	"github.com/redis-autoscaler/redis-autoscaler/test/cluster"
)

// redisPod is a Redis pod as the examples run it: the redis:7.0 image,
// an exec readiness probe (redis-cli in the image), a preStop hook, a PVC.
func redisPod(ns, name, claim string) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: map[string]string{"app": name}},
		Spec: corev1.PodSpec{
			TerminationGracePeriodSeconds: ptr.To(int64(5)),
			Containers: []corev1.Container{{
				Name: "redis", Image: "redis:7.0", ImagePullPolicy: corev1.PullIfNotPresent,
				// No password: protected mode off so that other pods
				// may connect (through the Service).
				Args:  []string{"redis-server", "--appendonly", "yes", "--dir", "/data", "--protected-mode", "no"},
				Ports: []corev1.ContainerPort{{Name: "redis", ContainerPort: 6379}},
				ReadinessProbe: &corev1.Probe{
					ProbeHandler:  corev1.ProbeHandler{Exec: &corev1.ExecAction{Command: []string{"redis-cli", "ping"}}},
					PeriodSeconds: 1,
				},
				Lifecycle: &corev1.Lifecycle{PreStop: &corev1.LifecycleHandler{
					Exec: &corev1.ExecAction{Command: []string{"sh", "-c", "redis-cli set prestop ran"}},
				}},
				VolumeMounts: []corev1.VolumeMount{{Name: "data", MountPath: "/data"}},
			}},
			Volumes: []corev1.Volume{{Name: "data", VolumeSource: corev1.VolumeSource{
				PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: claim},
			}}},
		},
	}
}

// TestRealNode: the node runs our images in containers with pod IPs on the
// CNI bridge, resolves Service names through CoreDNS, routes ClusterIPs
// through kube-proxy, binds PVCs, runs exec probes and preStop hooks,
// serves kubectl logs and exec, restarts a killed container on the same
// IP with its data, reports a pod that cannot start with the kubelet's
// reason, and leaves nothing on the host after Stop.
func TestRealNode(t *testing.T) {
	c := cluster.StartReal(t)
	ctx := ctxT(t, 5*time.Minute)
	ns := c.Namespace(t, "node")

	claim := &corev1.PersistentVolumeClaim{
		ObjectMeta: metav1.ObjectMeta{Name: "data", Namespace: ns},
		Spec: corev1.PersistentVolumeClaimSpec{
			AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			Resources:   corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")}},
		},
	}
	_, err := c.Client.CoreV1().PersistentVolumeClaims(ns).Create(ctx, claim, metav1.CreateOptions{})
	require.NoError(t, err)
	start := time.Now()
	_, err = c.Client.CoreV1().Pods(ns).Create(ctx, redisPod(ns, "db", "data"), metav1.CreateOptions{})
	require.NoError(t, err)
	_, err = c.Client.CoreV1().Services(ns).Create(ctx, &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "db", Namespace: ns},
		Spec: corev1.ServiceSpec{Selector: map[string]string{"app": "db"},
			Ports: []corev1.ServicePort{{Name: "redis", Port: 6379, TargetPort: intstr.FromString("redis")}}},
	}, metav1.CreateOptions{})
	require.NoError(t, err)
	require.NoError(t, c.WaitPodsReady(ctx, ns, "app=db", 1, 2*time.Minute))
	t.Logf("Redis pod Running and Ready %v after create (PVC bound, exec probe passed)", time.Since(start).Round(100*time.Millisecond))

	pod, err := c.Client.CoreV1().Pods(ns).Get(ctx, "db", metav1.GetOptions{})
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(pod.Status.PodIP, "10.251.0."), "pod IP %s from the CNI bridge", pod.Status.PodIP)
	require.Equal(t, cluster.RealNodeIP, pod.Status.HostIP)

	t.Run("ClusterIPs never leave the machine", func(t *testing.T) {
		// An address of the Service CIDR that no Service has: routed
		// onto the bridge, not through the default route.
		out, err := exec.Command("ip", "route", "get", "10.252.0.254").CombinedOutput()
		require.NoError(t, err, "%s", out)
		assert.Contains(t, string(out), "dev ra-cni0")
	})

	t.Run("kubectl exec and logs", func(t *testing.T) {
		out, err := c.Kubectl(ctx, "-n", ns, "exec", "db", "--", "redis-cli", "set", "k", "v")
		require.NoError(t, err)
		assert.Equal(t, "OK", strings.TrimSpace(out))
		out, err = c.Kubectl(ctx, "-n", ns, "logs", "db")
		require.NoError(t, err)
		assert.Contains(t, out, "Ready to accept connections")
	})

	t.Run("DNS and Service routing", func(t *testing.T) {
		// A second pod reaches the first by its Service name: CoreDNS
		// answers, kube-proxy routes the ClusterIP.
		client := redisPod(ns, "client", "data")
		client.Spec.Volumes = nil
		client.Spec.Containers[0].VolumeMounts = nil
		client.Spec.Containers[0].Args = []string{"redis-server", "--save", "", "--protected-mode", "no"}
		_, err := c.Client.CoreV1().Pods(ns).Create(ctx, client, metav1.CreateOptions{})
		require.NoError(t, err)
		require.NoError(t, c.WaitPodsReady(ctx, ns, "app=client", 1, time.Minute))
		out, err := c.Kubectl(ctx, "-n", ns, "exec", "client", "--", "nslookup", "db."+ns+".svc.cluster.local")
		require.NoError(t, err)
		svc, err := c.Client.CoreV1().Services(ns).Get(ctx, "db", metav1.GetOptions{})
		require.NoError(t, err)
		assert.Contains(t, out, svc.Spec.ClusterIP, "the Service name resolves to its ClusterIP")
		out, err = c.Kubectl(ctx, "-n", ns, "exec", "client", "--", "redis-cli", "-h", "db", "get", "k")
		require.NoError(t, err)
		assert.Equal(t, "v", strings.TrimSpace(out), "the short name (search path) through the ClusterIP reaches db")
		// The API server through the "kubernetes" Service, as in-cluster
		// config does it.
		out, err = c.Kubectl(ctx, "-n", ns, "exec", "client", "--", "nslookup", "kubernetes.default.svc.cluster.local")
		require.NoError(t, err)
		assert.Contains(t, out, "10.252.0.1")
	})

	t.Run("kill -9 restarts on the same IP with the data", func(t *testing.T) {
		_, err := c.Kubectl(ctx, "-n", ns, "exec", "db", "--", "redis-cli", "bgrewriteaof")
		require.NoError(t, err)
		time.Sleep(500 * time.Millisecond)
		pod, err := c.Client.CoreV1().Pods(ns).Get(ctx, "db", metav1.GetOptions{})
		require.NoError(t, err)
		pids, err := c.ContainerPIDs(pod.Status.ContainerStatuses[0].ContainerID)
		require.NoError(t, err)
		for _, pid := range pids {
			require.NoError(t, syscall.Kill(pid, syscall.SIGKILL))
		}
		require.EventuallyWithT(t, func(ct *assert.CollectT) {
			p, err := c.Client.CoreV1().Pods(ns).Get(ctx, "db", metav1.GetOptions{})
			require.NoError(ct, err)
			require.Len(ct, p.Status.ContainerStatuses, 1)
			s := p.Status.ContainerStatuses[0]
			assert.Equal(ct, int32(1), s.RestartCount)
			assert.True(ct, s.Ready)
			if term := s.LastTerminationState.Terminated; assert.NotNil(ct, term) {
				assert.Equal(ct, int32(137), term.ExitCode)
			}
			assert.Equal(ct, pod.Status.PodIP, p.Status.PodIP)
		}, 90*time.Second, 500*time.Millisecond)
		out, err := c.Kubectl(ctx, "-n", ns, "exec", "db", "--", "redis-cli", "get", "k")
		require.NoError(t, err)
		assert.Equal(t, "v", strings.TrimSpace(out), "the AOF on the PVC survived the crash")
	})

	t.Run("a pod that cannot start says why", func(t *testing.T) {
		bad := redisPod(ns, "bad", "data")
		bad.Spec.Volumes, bad.Spec.Containers[0].VolumeMounts = nil, nil
		bad.Spec.Containers[0].Image = "example.invalid/no-such-image:1"
		bad.Spec.Containers[0].ImagePullPolicy = corev1.PullNever
		_, err := c.Client.CoreV1().Pods(ns).Create(ctx, bad, metav1.CreateOptions{})
		require.NoError(t, err)
		err = c.WaitPodsReady(ctx, ns, "app=bad", 1, 8*time.Second)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "ErrImageNeverPull")
	})

	t.Run("preStop runs on deletion", func(t *testing.T) {
		require.NoError(t, c.Client.CoreV1().Pods(ns).Delete(ctx, "db", metav1.DeleteOptions{}))
		require.EventuallyWithT(t, func(ct *assert.CollectT) {
			_, err := c.Client.CoreV1().Pods(ns).Get(ctx, "db", metav1.GetOptions{})
			assert.Error(ct, err)
		}, time.Minute, 500*time.Millisecond)
		// The hook's write is in the AOF on the PVC: a new pod on the
		// same claim reads it.
		_, err := c.Client.CoreV1().Pods(ns).Create(ctx, redisPod(ns, "db2", "data"), metav1.CreateOptions{})
		require.NoError(t, err)
		require.NoError(t, c.WaitPodsReady(ctx, ns, "app=db2", 1, time.Minute))
		out, err := c.Kubectl(ctx, "-n", ns, "exec", "db2", "--", "redis-cli", "get", "prestop")
		require.NoError(t, err)
		assert.Equal(t, "ran", strings.TrimSpace(out))
	})

	dir := c.Dir
	c.Stop()
	assert.Empty(t, cluster.NodeLeftovers(dir), "Stop leaves nothing on the host")
	assert.NoDirExists(t, dir)
}

// realNodeChildEnv makes the test binary a harness that starts a real
// node, runs a pod, reports and waits to be killed (TestRealNodeKilled).
const realNodeChildEnv = "REAL_NODE_CHILD"

// TestRealNodeKilled: a harness killed with SIGKILL (a panic or a `go
// test` timeout look the same to the host) leaves no container, shim,
// mount, namespace, bridge, rule or process: its reaper cleans up.
func TestRealNodeKilled(t *testing.T) {
	if os.Getenv(realNodeChildEnv) == "1" {
		realNodeChild(t)
		return
	}
	if _, err := cluster.FindNodeBinaries(); err != nil {
		cluster.StartReal(t) // fails (or skips) with the reason
	}
	exe, err := os.Executable()
	require.NoError(t, err)
	cmd := exec.Command(exe, "-test.run", "^TestRealNodeKilled$", "-test.v")
	cmd.Env = append(os.Environ(), realNodeChildEnv+"=1")
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	cmd.Stderr = os.Stderr
	require.NoError(t, cmd.Start())
	dir := ""
	buf := make([]byte, 64*1024)
	var seen strings.Builder
	deadline := time.Now().Add(15 * time.Minute)
	for dir == "" && time.Now().Before(deadline) {
		n, err := stdout.Read(buf)
		seen.Write(buf[:n])
		for _, line := range strings.Split(seen.String(), "\n") {
			if d, ok := strings.CutPrefix(strings.TrimSpace(line), "REAL-NODE-READY "); ok {
				dir = d
			}
		}
		if err != nil {
			break
		}
	}
	require.NotEmpty(t, dir, "child never reported a running pod:\n%s", seen.String())
	require.NotEmpty(t, cluster.NodeLeftovers(dir), "a running node is visible to the check")
	require.NoError(t, cmd.Process.Kill())
	_ = cmd.Wait()
	require.EventuallyWithT(t, func(ct *assert.CollectT) {
		assert.Empty(ct, cluster.NodeLeftovers(dir))
		assert.NoDirExists(ct, dir)
	}, time.Minute, time.Second, "the reaper removes everything")
}

func realNodeChild(t *testing.T) {
	c := cluster.Start(t, func(o *cluster.Options) { o.Node = cluster.NodeReal })
	ctx := ctxT(t, 2*time.Minute)
	pod := redisPod("default", "victim", "")
	pod.Spec.Volumes, pod.Spec.Containers[0].VolumeMounts = nil, nil
	_, err := c.Client.CoreV1().Pods("default").Create(ctx, pod, metav1.CreateOptions{})
	require.NoError(t, err)
	require.NoError(t, c.WaitPodsReady(ctx, "default", "app=victim", 1, time.Minute))
	fmt.Printf("\nREAL-NODE-READY %s\n", c.Dir)
	time.Sleep(3 * time.Minute) // killed long before
}
