package cluster

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// The real node's addresses. Only one real node runs on a host at a time
// (nodeLock), so they are fixed; none of them is routed off the machine.
const (
	// RealNodeIP is the node's InternalIP, added to lo as a /32: a kubelet
	// refuses a loopback node IP, and kubectl logs/exec reach the kubelet
	// by InternalIP. kube-apiserver and CoreDNS listen on it too, so pods
	// reach both through the bridge gateway.
	RealNodeIP = "10.250.0.1"
	// RealPodCIDR is the CNI bridge's subnet (host-local IPAM); .1 is the
	// bridge itself, the pods' gateway. Pod addresses live only inside the
	// network namespaces containerd creates for them.
	RealPodCIDR = "10.251.0.0/24"
	// RealServiceCIDR holds the ClusterIPs kube-proxy routes in iptables.
	RealServiceCIDR = "10.252.0.0/24"
	// RealDNSServiceIP is the kube-dns Service's ClusterIP, the pods'
	// nameserver (kubelet clusterDNS), routed by kube-proxy to CoreDNS.
	RealDNSServiceIP = "10.252.0.10"
	// realBridge is the CNI bridge device.
	realBridge = "ra-cni0"
	// realCgroupRoot is the kubelet's cgroup root in every v1 hierarchy:
	// every container of the node runs below it, which is how the cleanup
	// finds them even after the kubelet and containerd are gone.
	realCgroupRoot = "ra-node"
	// nodeLockPath serialises real nodes across processes (parallel test
	// packages, `make cluster NODE=real` beside `make test`): iptables,
	// the bridge and the node IP are host-wide. The kernel drops the lock
	// when its holder dies.
	nodeLockPath = "/run/redis-autoscaler-real-node.lock"
)

// nodeLock holds the host-wide real-node lock.
type nodeLock struct{ f *os.File }

// acquireNodeLock waits (bounded by ctx) for the host-wide lock.
func acquireNodeLock(ctx context.Context) (*nodeLock, error) {
	f, err := os.OpenFile(nodeLockPath, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("real node lock: %w", err)
	}
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			_ = f.Truncate(0)
			_, _ = f.WriteAt([]byte(fmt.Sprintf("%d\n", os.Getpid())), 0)
			return &nodeLock{f: f}, nil
		}
		if err != syscall.EWOULDBLOCK {
			f.Close()
			return nil, fmt.Errorf("real node lock: %w", err)
		}
		select {
		case <-ctx.Done():
			holder, _ := os.ReadFile(nodeLockPath)
			f.Close()
			return nil, fmt.Errorf("another real node runs on this host (pid %s in %s): %w",
				strings.TrimSpace(string(holder)), nodeLockPath, ctx.Err())
		case <-time.After(500 * time.Millisecond):
		}
	}
}

func (l *nodeLock) release() {
	if l != nil && l.f != nil {
		_ = syscall.Flock(int(l.f.Fd()), syscall.LOCK_UN)
		l.f.Close()
	}
}

// prepareHostNetwork adds the node IP and turns on forwarding, which the
// bridge needs to carry pod traffic to ClusterIPs and the node IP.
// br_netfilter's bridge-nf-call-iptables makes traffic between two pods on
// the bridge pass iptables, as kube-proxy's Service rules need for hairpin
// (a pod reaching itself through its Service).
func prepareHostNetwork() error {
	// The bridge exists before the first pod (the CNI plugin takes it as
	// it is) so that the Service CIDR can be routed onto it: a connection
	// to a ClusterIP that kube-proxy has not programmed yet then dies on
	// the bridge instead of following the default route off the machine.
	// Found the hard way: the API server dialled a new APIService's
	// ClusterIP a moment before kube-proxy's rule existed, the SYN left
	// through eth0, something beyond answered 404, and the HTTP/2
	// connection kept the APIService unavailable for good.
	gateway := strings.TrimSuffix(RealPodCIDR, ".0/24") + ".1/24"
	for _, args := range [][]string{
		{"addr", "replace", RealNodeIP + "/32", "dev", "lo"},
		{"link", "add", realBridge, "type", "bridge"},
		{"addr", "replace", gateway, "dev", realBridge},
		{"link", "set", realBridge, "up"},
		{"route", "replace", RealServiceCIDR, "dev", realBridge},
	} {
		out, err := exec.Command("ip", args...).CombinedOutput()
		if err != nil && !(args[0] == "link" && args[1] == "add" && strings.Contains(string(out), "File exists")) {
			return fmt.Errorf("ip %s: %v: %s", strings.Join(args, " "), err, out)
		}
	}
	for _, s := range []struct{ path, value string }{
		{"/proc/sys/net/ipv4/ip_forward", "1"},
		{"/proc/sys/net/bridge/bridge-nf-call-iptables", "1"},
	} {
		if err := os.WriteFile(s.path, []byte(s.value), 0o644); err != nil && !os.IsNotExist(err) {
			return fmt.Errorf("sysctl %s: %w", filepath.Base(s.path), err)
		}
	}
	// The kubelet wants its cgroup root to exist in every hierarchy.
	for _, dir := range cgroupHierarchies() {
		if err := os.MkdirAll(filepath.Join(dir, realCgroupRoot), 0o755); err != nil {
			return fmt.Errorf("cgroup %s: %w", dir, err)
		}
	}
	return nil
}

// cgroupHierarchies lists the mounted cgroup v1 hierarchies (and the
// unified one, if any) under /sys/fs/cgroup.
func cgroupHierarchies() []string {
	entries, err := os.ReadDir("/sys/fs/cgroup")
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range entries {
		p := filepath.Join("/sys/fs/cgroup", e.Name())
		if st, err := os.Lstat(p); err == nil && st.IsDir() {
			if _, err := os.Stat(filepath.Join(p, "cgroup.procs")); err == nil {
				out = append(out, p)
			}
		}
	}
	return out
}

// nodeEnv is the environment of containerd, the kubelet and kube-proxy:
// they find runc, the shim, iptables and mount helpers on PATH, which a
// test runner may have cut down.
func nodeEnv() []string {
	return append(os.Environ(), "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
}
