package cluster

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// Node kinds (Options.Node).
const (
	// NodeRunner is the pod runner: fast, host processes on 127.x, no
	// images, no DNS, no kubelet API.
	NodeRunner = "runner"
	// NodeReal is a kubelet with containerd running images, a CNI bridge,
	// kube-proxy, CoreDNS and kube-scheduler.
	NodeReal = "real"
)

// PauseImage is the pod sandbox image containerd runs (hack/pause's
// binary, assembled and imported by the harness: there is no registry).
const PauseImage = "registry.k8s.io/pause:3.10-redis-autoscaler"

// NodeBinaries are the host executables a real node runs.
type NodeBinaries struct {
	Kubelet, KubeScheduler, KubeProxy string
	// Kubectl runs the commands a user would (logs, exec, drain, rollout).
	Kubectl               string
	Containerd, Ctr, Runc string
	CoreDNS               string
	CNIBridge             string
}

// realNode is the state of a real node inside a Cluster.
type realNode struct {
	bins             NodeBinaries
	lock             *nodeLock
	reaper           *reaper
	containerdSocket string
	kubelet          *process
	stopProvisioner  context.CancelFunc
	// restore holds the host sysctls the node changed, as they were.
	restore map[string]string
	// Timings of the start, for reports (ImportImages, pod starts).
	Timings map[string]time.Duration
}

// FindNodeBinaries locates what a real node needs; the error names the make
// target that installs or builds each missing piece.
func FindNodeBinaries() (NodeBinaries, error) {
	var b NodeBinaries
	var errs []error
	dir := os.Getenv("KUBE_BIN_DIR")
	if dir == "" {
		dir = DefaultKubeBinDir()
	}
	for _, k := range []struct {
		dst  *string
		name string
	}{{&b.Kubelet, "kubelet"}, {&b.KubeScheduler, "kube-scheduler"}, {&b.KubeProxy, "kube-proxy"}, {&b.Kubectl, "kubectl"}} {
		p := filepath.Join(dir, k.name)
		if !isExecutable(p) {
			errs = append(errs, fmt.Errorf("%s not found in %s (run `make k8s-binaries`)", k.name, dir))
			continue
		}
		*k.dst = p
	}
	for _, k := range []struct {
		dst       *string
		name, pkg string
	}{
		{&b.Containerd, "containerd", "containerd"}, {&b.Ctr, "ctr", "containerd"}, {&b.Runc, "runc", "runc"},
		{new(string), "iptables", "iptables"}, {new(string), "conntrack", "conntrack"}, {new(string), "ip", "iproute2"},
	} {
		p, err := lookPath(k.name)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s not found (Debian package %s; run `make node-deps`)", k.name, k.pkg))
			continue
		}
		*k.dst = p
	}
	if b.CNIBridge = "/usr/lib/cni/bridge"; !isExecutable(b.CNIBridge) {
		errs = append(errs, errors.New("/usr/lib/cni/bridge not found (Debian package containernetworking-plugins; run `make node-deps`)"))
	}
	b.CoreDNS = os.Getenv("COREDNS_BIN")
	if b.CoreDNS == "" {
		b.CoreDNS = filepath.Join(filepath.Dir(filepath.Dir(dir)), "coredns-"+CoreDNSVersion, "bin", "coredns")
	}
	if !isExecutable(b.CoreDNS) {
		errs = append(errs, fmt.Errorf("coredns not found at %s (run `make k8s-binaries`)", b.CoreDNS))
	}
	return b, errors.Join(errs...)
}

// startRealNode brings up the node's side once the control plane answers:
// containerd with the images, CoreDNS, kube-proxy, kube-scheduler, the
// volume provisioner and the kubelet, and waits for the Node to be Ready.
func (c *Cluster) startRealNode(ctx context.Context) error {
	c.node.Timings = map[string]time.Duration{}
	timed := func(name string, f func() error) error {
		start := time.Now()
		err := f()
		c.node.Timings[name] = time.Since(start)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		return nil
	}
	steps := []struct {
		name string
		f    func() error
	}{
		{"containerd", func() error { return c.startContainerd(ctx) }},
		{"images", func() error { return c.importImages(ctx) }},
		{"coredns", func() error { return c.startDNS(ctx) }},
		{"kube-scheduler", c.startScheduler},
		{"provisioner", func() error { return c.startProvisioner(ctx) }},
		{"kubelet", func() error { return c.startKubelet(ctx) }},
		// After the kubelet: kube-proxy waits for its Node object.
		{"kube-proxy", func() error { return c.startKubeProxy(ctx) }},
	}
	for _, s := range steps {
		if err := timed(s.name, s.f); err != nil {
			return err
		}
	}
	return nil
}

// prepareRealNode takes the host-wide lock, removes what an earlier node
// killed mid-cleanup left, starts the reaper and sets up the host network.
// It runs before any other process of the cluster.
func (c *Cluster) prepareRealNode(ctx context.Context) error {
	bins, err := FindNodeBinaries()
	if err != nil {
		return err
	}
	c.node = &realNode{bins: bins}
	lockCtx, cancel := context.WithTimeout(ctx, 12*time.Minute)
	defer cancel()
	if c.node.lock, err = acquireNodeLock(lockCtx); err != nil {
		return err
	}
	// Leftovers of any earlier node (its directory is gone or kept for
	// logs, its processes dead): the lock says none is running now.
	if err := runCleanupNow(cleanupScript(filepath.Join(tempRoot(), "k8s-cluster-"), "", nil)); err != nil {
		c.log.Warn("stale real node cleanup", "err", err)
	}
	restore := map[string]string{}
	c.node.restore = restore
	for _, p := range []string{"/proc/sys/net/ipv4/ip_forward", "/proc/sys/net/bridge/bridge-nf-call-iptables"} {
		if b, err := os.ReadFile(p); err == nil {
			restore[p] = strings.TrimSpace(string(b))
		}
	}
	c.node.reaper, err = startReaper(c.nodeCleanupScript(restore), filepath.Join(c.Dir, "reaper.log"))
	if err != nil {
		return err
	}
	return prepareHostNetwork()
}

// nodeCleanupScript is this node's cleanup; the directory goes too unless
// it is the caller's or kept for logs (decided when Stop runs, so the
// reaper started early always removes it: a killed harness keeps nothing).
func (c *Cluster) nodeCleanupScript(restore map[string]string) string {
	remove := c.Dir
	if c.opts.Dir != "" {
		remove = ""
	}
	return cleanupScript(c.Dir+"/", remove, restore)
}

// stopRealNode runs after every process of the cluster was stopped: the
// reaper removes containers, mounts, namespaces, rules and the bridge.
func (c *Cluster) stopRealNode() {
	if c.node == nil {
		return
	}
	if c.node.stopProvisioner != nil {
		c.node.stopProvisioner()
	}
	if c.opts.KeepDir || c.opts.Dir != "" {
		// The reaper would remove the directory; run the same cleanup
		// without that step and let the reaper find nothing left.
		if err := runCleanupNow(cleanupScript(c.Dir+"/", "", c.node.restore)); err != nil {
			c.log.Warn("real node cleanup", "err", err)
		}
		c.node.reaper.cmd.Process.Kill()
	} else if err := c.node.reaper.run(time.Minute); err != nil {
		c.log.Warn("real node cleanup", "err", err)
	}
	c.node.lock.release()
}

// RealNode reports whether the cluster runs a real kubelet.
func (c *Cluster) RealNode() bool { return c.node != nil }

// NodeTimings are the real node's start-up steps (nil on the pod runner).
func (c *Cluster) NodeTimings() map[string]time.Duration {
	if c.node == nil {
		return nil
	}
	return c.node.Timings
}

// Kubectl runs kubectl (built with the control plane) as the admin and
// returns its combined output; the error carries that output.
func (c *Cluster) Kubectl(ctx context.Context, args ...string) (string, error) {
	bin := filepath.Join(filepath.Dir(c.bins.KubeAPIServer), "kubectl")
	if c.node != nil {
		bin = c.node.bins.Kubectl
	}
	cmd := exec.CommandContext(ctx, bin, append([]string{"--kubeconfig=" + c.KubeconfigPath}, args...)...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("kubectl %s: %w\n%s", strings.Join(args, " "), err, out)
	}
	return string(out), nil
}

// CoreDNSVersion is the CoreDNS release hack/build-coredns.sh builds (the
// require line of hack/coredns/go.mod; its cache directory is keyed by it).
const CoreDNSVersion = "v1.14.1"
