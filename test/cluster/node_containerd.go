package cluster

import (
	"context"
	"fmt"
	"k8s.io/apimachinery/pkg/util/wait"
	"os"
	"os/exec"
	"path/filepath"
	"time"
)

// containerdConfig is containerd 1.6's config for the real node: its own
// root, state and socket (nothing shared with a containerd the host may
// run), CNI from Debian's plugins, and what this machine needs:
//   - restrict_oom_score_adj: the bounding set lacks CAP_SYS_RESOURCE, so
//     runc cannot lower oom_score_adj and every sandbox fails ("can't get
//     final child's PID from pipe") without it;
//   - SystemdCgroup = false: the kubelet drives cgroupfs;
//   - netns_mounts_under_state_dir: pod network namespaces live under the
//     node's directory, not in the host's /run/netns, so the cleanup finds
//     them by path;
//   - sandbox_image: the pause image the harness imports (no registry).
func containerdConfig(root, state, socket, cniConfDir, sandboxImage string) string {
	return fmt.Sprintf(`version = 2
root = %q
state = %q
oom_score = 0

[grpc]
  address = %q

[ttrpc]
  address = %q

[debug]
  level = "warn"

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = %q
  restrict_oom_score_adj = true
  netns_mounts_under_state_dir = true
  enable_unprivileged_ports = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = %q
    max_conf_num = 1
  [plugins."io.containerd.grpc.v1.cri".registry]
    config_path = ""
`, root, state, socket, socket+".ttrpc", sandboxImage, cniConfDir)
}

// cniConfig is a bridge network with host-local addresses from
// RealPodCIDR; the bridge is the pods' gateway. No masquerade: pods talk
// only to each other, the node IP and ClusterIPs, never off the machine.
func cniConfig(ipamDir string) string {
	return fmt.Sprintf(`{
  "cniVersion": "0.4.0",
  "name": "redis-autoscaler-test",
  "plugins": [
    {
      "type": "bridge",
      "bridge": %q,
      "isGateway": true,
      "ipMasq": false,
      "hairpinMode": true,
      "ipam": {
        "type": "host-local",
        "ranges": [[{"subnet": %q}]],
        "routes": [{"dst": "0.0.0.0/0"}],
        "dataDir": %q
      }
    },
    {"type": "portmap", "capabilities": {"portMappings": true}}
  ]
}
`, realBridge, RealPodCIDR, ipamDir)
}

// startContainerd writes the configuration and starts containerd, waiting
// for its socket to answer.
func (c *Cluster) startContainerd(ctx context.Context) error {
	base := filepath.Join(c.Dir, "containerd")
	cniConf := filepath.Join(c.Dir, "cni", "net.d")
	for _, d := range []string{base, cniConf, filepath.Join(c.Dir, "cni", "ipam")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	c.node.containerdSocket = filepath.Join(base, "containerd.sock")
	conf := cniConfig(filepath.Join(c.Dir, "cni", "ipam"))
	if err := os.WriteFile(filepath.Join(cniConf, "10-bridge.conflist"), []byte(conf), 0o644); err != nil {
		return err
	}
	configPath := filepath.Join(base, "config.toml")
	cfg := containerdConfig(filepath.Join(base, "root"), filepath.Join(base, "state"), c.node.containerdSocket, cniConf, PauseImage)
	if err := os.WriteFile(configPath, []byte(cfg), 0o644); err != nil {
		return err
	}
	logFile := filepath.Join(c.Dir, "containerd.log")
	p, err := startProcess(processSpec{
		Name: "containerd", Path: c.node.bins.Containerd,
		Args:    []string{"--config=" + configPath},
		LogFile: logFile,
		Env:     nodeEnv(),
	})
	if err != nil {
		return err
	}
	c.procs.add(p)
	var last error
	err = wait.PollUntilContextTimeout(ctx, pollInterval, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		if p.exited() {
			return false, fmt.Errorf("containerd exited: %v\n%s", p.err, tailFile(logFile, 30))
		}
		last = exec.CommandContext(ctx, c.node.bins.Ctr, "--address", c.node.containerdSocket, "version").Run()
		return last == nil, nil
	})
	if err != nil {
		return fmt.Errorf("wait for containerd on %s: %w (last: %v)\n%s", c.node.containerdSocket, err, last, tailFile(logFile, 30))
	}
	return nil
}
