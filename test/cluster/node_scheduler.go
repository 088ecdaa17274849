package cluster

import (
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// startScheduler runs kube-scheduler as system:kube-scheduler, whose
// bootstrap RBAC roles (system:kube-scheduler, system:volume-scheduler) are
// what a real control plane gives it.
func (c *Cluster) startScheduler() error {
	cfg, err := c.clientCertConfig("system:kube-scheduler")
	if err != nil {
		return err
	}
	kubeconfig := filepath.Join(c.Dir, "kube-scheduler.kubeconfig")
	if err := writeKubeconfig(kubeconfig, "kube-scheduler", "kube-system", cfg); err != nil {
		return err
	}
	config := filepath.Join(c.Dir, "kube-scheduler.yaml")
	if err := os.WriteFile(config, []byte(fmt.Sprintf(`apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
clientConnection: {kubeconfig: %q, qps: 100, burst: 200}
leaderElection: {leaderElect: false}
`, kubeconfig)), 0o644); err != nil {
		return err
	}
	logFile := filepath.Join(c.Dir, "kube-scheduler.log")
	p, err := startProcess(processSpec{
		Name: "kube-scheduler", Path: c.node.bins.KubeScheduler,
		Args:    []string{"--config=" + config, "--secure-port=0", "--v=1"},
		LogFile: logFile,
	})
	if err != nil {
		return err
	}
	c.procs.add(p)
	// With no serving port there is no health check: a bad configuration
	// shows as an exit within the first second.
	time.Sleep(time.Second)
	if p.exited() {
		return fmt.Errorf("kube-scheduler exited: %v\n%s", p.err, tailFile(logFile, 20))
	}
	return nil
}
