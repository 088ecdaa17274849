package cluster

import (
	"context"
	"fmt"
	"k8s.io/apimachinery/pkg/util/wait"
	"net/http"
	"os"
	"path/filepath"
	"time"
)

// startKubeProxy runs kube-proxy in iptables mode as system:kube-proxy
// (bootstrap role system:node-proxier). It routes ClusterIPs, so pods use
// Services (in-cluster config reaches the API server through the
// "kubernetes" Service, kube-dns reaches CoreDNS) exactly as on a real
// cluster; the aggregator's own endpoint routing would cover only the
// API server's side. conntrack limits are left alone (maxPerCore 0): the
// host's are not the node's to change.
func (c *Cluster) startKubeProxy(ctx context.Context) error {
	cfg, err := c.clientCertConfig("system:kube-proxy")
	if err != nil {
		return err
	}
	kubeconfig := filepath.Join(c.Dir, "kube-proxy.kubeconfig")
	if err := writeKubeconfig(kubeconfig, "kube-proxy", "kube-system", cfg); err != nil {
		return err
	}
	ports, err := freePorts(2)
	if err != nil {
		return err
	}
	config := filepath.Join(c.Dir, "kube-proxy.yaml")
	if err := os.WriteFile(config, []byte(fmt.Sprintf(`apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection: {kubeconfig: %q, qps: 50, burst: 100}
mode: iptables
hostnameOverride: %s
bindAddress: %s
clusterCIDR: %s
healthzBindAddress: 127.0.0.1:%d
metricsBindAddress: 127.0.0.1:%d
conntrack: {maxPerCore: 0, min: 0}
iptables: {syncPeriod: 5s, minSyncPeriod: 0s}
`, kubeconfig, c.NodeName, RealNodeIP, RealPodCIDR, ports[0], ports[1])), 0o644); err != nil {
		return err
	}
	logFile := filepath.Join(c.Dir, "kube-proxy.log")
	p, err := startProcess(processSpec{
		Name: "kube-proxy", Path: c.node.bins.KubeProxy,
		Args:    []string{"--config=" + config, "--v=1"},
		LogFile: logFile,
		Env:     nodeEnv(),
	})
	if err != nil {
		return err
	}
	c.procs.add(p)
	// Healthy once it has written the rules of every Service it knows
	// (kube-dns and kubernetes among them).
	healthz := fmt.Sprintf("http://127.0.0.1:%d/healthz", ports[0])
	err = wait.PollUntilContextTimeout(ctx, pollInterval, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		if p.exited() {
			return false, fmt.Errorf("kube-proxy exited: %v\n%s", p.err, tailFile(logFile, 20))
		}
		resp, err := http.Get(healthz)
		if err != nil {
			return false, nil
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK, nil
	})
	if err != nil {
		return fmt.Errorf("wait for kube-proxy: %w\n%s", err, tailFile(logFile, 20))
	}
	return nil
}
