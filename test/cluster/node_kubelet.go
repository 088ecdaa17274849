package cluster

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
)

// kubeletConfig is the KubeletConfiguration that registered a Ready node
// on this machine (../shared/NOTES.md, "A real node"):
//   - cgroupfs with cgroupsPerQOS: true. With false the kubelet runs pods
//     but v1.34.4 panics on the first in-place resize;
//   - failCgroupV1: false: this host has only cgroup v1;
//   - enforceNodeAllocatable: [] and localStorageCapacityIsolation: false:
//     the node shares the host, whose limits are not its own;
//   - address: the node IP, where the API server reaches it for
//     logs/exec/port-forward (bound to loopback it refuses the API server);
//   - x509 client authentication against the cluster CA with everything
//     allowed to an authenticated client: only the API server (client
//     certificate kube-apiserver-kubelet-client) reaches it.
func kubeletConfig(dir, caFile, socket, cgroupRoot string, port int) string {
	return fmt.Sprintf(`apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: %s
port: %d
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: 0
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: false}
  x509: {clientCAFile: %q}
authorization: {mode: AlwaysAllow}
containerRuntimeEndpoint: unix://%s
cgroupDriver: cgroupfs
cgroupsPerQOS: true
cgroupRoot: /%s
failCgroupV1: false
failSwapOn: false
enforceNodeAllocatable: []
localStorageCapacityIsolation: false
enableControllerAttachDetach: false
clusterDomain: cluster.local
clusterDNS: [%s]
resolvConf: %q
podLogsDir: %q
staticPodPath: ""
syncFrequency: 10s
fileCheckFrequency: 10s
nodeStatusUpdateFrequency: 5s
nodeStatusReportFrequency: 30s
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
evictionHard: {memory.available: 1Mi, nodefs.available: 1%%, imagefs.available: 1%%}
evictionPressureTransitionPeriod: 5s
serializeImagePulls: false
maxPods: 110
shutdownGracePeriod: 0s
`, RealNodeIP, port, caFile, socket, cgroupRoot, RealDNSServiceIP,
		filepath.Join(dir, "resolv.conf"), filepath.Join(dir, "pod-logs"))
}

// startKubelet writes the kubelet's credentials and configuration and
// starts it. It registers its Node itself.
func (c *Cluster) startKubelet(ctx context.Context) error {
	dir := filepath.Join(c.Dir, "kubelet")
	for _, d := range []string{dir, filepath.Join(dir, "pod-logs"), filepath.Join(dir, "pki")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	// The node's identity, as the Node authorizer and NodeRestriction
	// admission know it.
	cfg, err := c.clientCertConfig("system:node:"+c.NodeName, "system:nodes")
	if err != nil {
		return err
	}
	kubeconfig := filepath.Join(dir, "kubelet.kubeconfig")
	if err := writeKubeconfig(kubeconfig, "kubelet", "default", cfg); err != nil {
		return err
	}
	// Pods' upstream resolver: CoreDNS answers cluster names and nothing
	// else (there is no outside network), so the file only has to exist.
	if err := os.WriteFile(filepath.Join(dir, "resolv.conf"), []byte("nameserver "+RealNodeIP+"\n"), 0o644); err != nil {
		return err
	}
	ports, err := freePorts(1)
	if err != nil {
		return err
	}
	configPath := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(configPath, []byte(kubeletConfig(dir, c.CAFile, c.node.containerdSocket, realCgroupRoot, ports[0])), 0o644); err != nil {
		return err
	}
	logFile := filepath.Join(c.Dir, "kubelet.log")
	p, err := startProcess(processSpec{
		Name: "kubelet", Path: c.node.bins.Kubelet,
		Args: []string{
			"--config=" + configPath,
			"--kubeconfig=" + kubeconfig,
			"--root-dir=" + dir,
			"--cert-dir=" + filepath.Join(dir, "pki"),
			"--hostname-override=" + c.NodeName,
			"--node-ip=" + RealNodeIP,
			"--node-labels=redisautoscaler.io/test-node=real",
			"--v=1",
		},
		LogFile: logFile,
		Env:     nodeEnv(),
	})
	if err != nil {
		return err
	}
	c.procs.add(p)
	c.node.kubelet = p
	return c.waitNodeReady(ctx, logFile)
}

// waitNodeReady waits until the kubelet's Node is Ready and untainted (the
// node-lifecycle controller lifts the not-ready taint admission put on it).
func (c *Cluster) waitNodeReady(ctx context.Context, logFile string) error {
	var last string
	err := wait.PollUntilContextTimeout(ctx, pollInterval, 90*time.Second, true, func(ctx context.Context) (bool, error) {
		if c.node.kubelet.exited() {
			return false, fmt.Errorf("kubelet exited: %v\n%s", c.node.kubelet.err, tailFile(logFile, 40))
		}
		node, err := c.Client.CoreV1().Nodes().Get(ctx, c.NodeName, metav1.GetOptions{})
		if err != nil {
			last = err.Error()
			return false, nil
		}
		for _, cond := range node.Status.Conditions {
			if cond.Type == corev1.NodeReady {
				last = fmt.Sprintf("Ready=%s (%s: %s), taints %v", cond.Status, cond.Reason, cond.Message, node.Spec.Taints)
				return cond.Status == corev1.ConditionTrue && len(node.Spec.Taints) == 0, nil
			}
		}
		last = "no Ready condition yet"
		return false, nil
	})
	if err != nil {
		return fmt.Errorf("wait for node %s Ready: %w (last: %s)\n%s", c.NodeName, err, last, tailFile(logFile, 40))
	}
	return nil
}
