package cluster

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// NodeLeftovers lists what a real node rooted at dir left on the host:
// processes that name dir, containerd shims of its socket, processes in
// its cgroups, mounts under dir, the bridge, iptables chains, the node IP.
// Empty means clean. Tests call it after Stop and after a killed harness.
func NodeLeftovers(dir string) []string {
	var out []string
	procs, _ := os.ReadDir("/proc")
	for _, p := range procs {
		pid, err := strconv.Atoi(p.Name())
		if err != nil || pid == os.Getpid() || !ProcessAlive(pid) {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", p.Name(), "cmdline"))
		if err != nil {
			continue
		}
		cmd := strings.ReplaceAll(string(cmdline), "\x00", " ")
		if strings.Contains(cmd, dir) && !strings.HasPrefix(cmd, "bash -c read -r _;") {
			out = append(out, fmt.Sprintf("process %d: %.120s", pid, cmd))
		}
	}
	for _, h := range cgroupHierarchies() {
		if _, err := os.Stat(filepath.Join(h, realCgroupRoot)); err == nil {
			out = append(out, "cgroup "+filepath.Join(h, realCgroupRoot))
		}
		_ = filepath.WalkDir(filepath.Join(h, realCgroupRoot), func(path string, d os.DirEntry, err error) error {
			if err != nil || !d.IsDir() {
				return nil
			}
			if b, err := os.ReadFile(filepath.Join(path, "cgroup.procs")); err == nil && len(strings.TrimSpace(string(b))) > 0 {
				out = append(out, "processes in cgroup "+path+": "+strings.Join(strings.Fields(string(b)), ","))
			}
			return nil
		})
	}
	if b, err := os.ReadFile("/proc/self/mountinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if f := strings.Fields(line); len(f) > 4 && strings.HasPrefix(f[4], dir) {
				out = append(out, "mount "+f[4])
			}
		}
	}
	if _, err := os.Stat("/sys/class/net/" + realBridge); err == nil {
		out = append(out, "bridge "+realBridge)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, save := range []string{"iptables-nft-save", "iptables-legacy-save"} {
		if b, err := exec.CommandContext(ctx, save).Output(); err == nil && strings.Contains(string(b), "KUBE-") {
			out = append(out, save+": KUBE-* chains")
		}
	}
	if b, err := exec.CommandContext(ctx, "ip", "-o", "addr", "show", "dev", "lo").Output(); err == nil && strings.Contains(string(b), " "+RealNodeIP+"/") {
		out = append(out, "node IP "+RealNodeIP+" on lo")
	}
	return out
}

// ContainerPIDs are the host PIDs of a running container of the real node
// (from its cgroup, named by the container ID the kubelet reports), so a
// test can kill -9 or SIGSTOP a container's process from outside, as a
// crash or a stalled node would.
func (c *Cluster) ContainerPIDs(containerID string) ([]int, error) {
	id := containerID
	if _, after, ok := strings.Cut(id, "://"); ok {
		id = after
	}
	var pids []int
	for _, h := range cgroupHierarchies() {
		if filepath.Base(h) != "pids" {
			continue
		}
		_ = filepath.WalkDir(filepath.Join(h, realCgroupRoot), func(path string, d os.DirEntry, err error) error {
			if err != nil || !d.IsDir() || filepath.Base(path) != id {
				return nil
			}
			b, _ := os.ReadFile(filepath.Join(path, "cgroup.procs"))
			for _, f := range strings.Fields(string(b)) {
				if pid, err := strconv.Atoi(f); err == nil {
					pids = append(pids, pid)
				}
			}
			return filepath.SkipAll
		})
	}
	if len(pids) == 0 {
		return nil, fmt.Errorf("no process in the cgroup of container %s", id)
	}
	return pids, nil
}
