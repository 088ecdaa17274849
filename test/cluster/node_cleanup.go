package cluster

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"time"
)

// A real node leaves state the kernel does not tie to any process the
// harness started: containerd's shims re-parent to init and keep the
// containers alive, overlay and tmpfs mounts stay, network namespaces are
// bind mounts, kube-proxy's rules and the bridge are host-wide. A
// parent-death signal cannot remove them, so a reaper does: a shell in a
// session of its own, started first, that blocks reading a pipe whose write
// end only the harness holds. When the harness exits for any reason (Stop,
// a panic, SIGKILL, a `go test` timeout) the pipe closes and the reaper runs
// the same cleanup script. Stop uses it too, so there is one cleanup.

// reaper is the cleanup process of one real node.
type reaper struct {
	cmd  *exec.Cmd
	pipe io.WriteCloser
	done chan struct{}
}

// cleanupScript removes everything a real node rooted at dir may have left:
// processes below the kubelet's cgroup root, containerd shims of its
// socket, mounts under dir, its network namespaces, kube-proxy's and the
// kubelet's iptables chains, the bridge, the node IP; then the sysctls it
// changed are restored and, unless keepDir, dir is removed. Every step
// ignores what is already gone, so the script is safe to run twice (Stop,
// then the reaper) and on a host with nothing to clean.
//
// dirPrefix selects the node directories: a node's own Dir, or, before a
// new node starts, the prefix of every cluster directory (a node killed
// before its reaper ran). removeDir is the directory to delete at the end
// ("" keeps it).
func cleanupScript(dirPrefix, removeDir string, restore map[string]string) string {
	var b strings.Builder
	q := shellQuote
	fmt.Fprintf(&b, "set +e\nexec </dev/null\nPREFIX=%s\nRE=%s\n", q(dirPrefix), q(regexp.QuoteMeta(dirPrefix)))
	b.WriteString(`
# The node's own processes first, so nothing restarts what follows
# (the kubelet, containerd, then every shim of that containerd).
pkill -KILL -f -- "--root-dir=$RE[^ ]*/kubelet"
pkill -KILL -f -- "--config=$RE[^ ]*/containerd/config.toml"
pkill -KILL -f -- "-address $RE[^ ]*/containerd.sock"
# Every container process: they all live below the kubelet's cgroup root.
for i in 1 2 3 4 5; do
	pids=$(cat /sys/fs/cgroup/*/` + realCgroupRoot + `/cgroup.procs /sys/fs/cgroup/*/` + realCgroupRoot + `/*/cgroup.procs /sys/fs/cgroup/*/` + realCgroupRoot + `/*/*/cgroup.procs /sys/fs/cgroup/*/` + realCgroupRoot + `/*/*/*/cgroup.procs /sys/fs/cgroup/*/` + realCgroupRoot + `/*/*/*/*/cgroup.procs 2>/dev/null | sort -u)
	[ -z "$pids" ] && break
	kill -KILL $pids 2>/dev/null
	sleep 0.2
done
# Deepest cgroups first. A killed container's process is a zombie until
# init reaps it (PID 1 of this machine does so about 2 s late), and its
# cgroup stays busy until then: retry for up to 15 s.
for i in $(seq 1 50); do
	left=0
	for h in /sys/fs/cgroup/*/; do
		[ -d "${h}` + realCgroupRoot + `" ] || continue
		find "${h}` + realCgroupRoot + `" -depth -type d -exec rmdir {} \; 2>/dev/null
		[ -d "${h}` + realCgroupRoot + `" ] && left=1
	done
	[ "$left" = 0 ] && break
	sleep 0.3
done
# Mounts under DIR (overlay rootfs, tmpfs volumes, sandbox shm, network
# namespaces), deepest first.
for i in 1 2 3; do
	mps=$(awk -v d="$PREFIX" 'index($5, d) == 1 {print $5}' /proc/self/mountinfo | sort -r)
	[ -z "$mps" ] && break
	for m in $mps; do umount -l "$m" 2>/dev/null; done
done
ip link del ` + realBridge + ` 2>/dev/null
# kube-proxy's and the kubelet's chains: every rule and chain named KUBE-*.
for t in iptables ip6tables; do
	for mode in nft legacy; do
		save="$t-$mode-save"; restore="$t-$mode-restore"
		command -v "$save" >/dev/null || continue
		if "$save" 2>/dev/null | grep -q KUBE-; then
			"$save" 2>/dev/null | grep -v -e '^:KUBE-' -e 'KUBE-' | "$restore" 2>/dev/null
		fi
	done
done
ip addr del ` + RealNodeIP + `/32 dev lo 2>/dev/null
`)
	for path, value := range restore {
		fmt.Fprintf(&b, "echo %s > %s 2>/dev/null\n", q(value), q(path))
	}
	if removeDir != "" {
		fmt.Fprintf(&b, "rm -rf %s\n", q(removeDir))
	}
	b.WriteString("exit 0\n")
	return b.String()
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// startReaper starts the cleanup process. It must start before anything it
// cleans up.
func startReaper(script, logFile string) (*reaper, error) {
	logf, err := os.OpenFile(logFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	// `read` returns at EOF: when the harness closes the pipe or dies.
	cmd := exec.Command("bash", "-c", "read -r _; "+script)
	cmd.Stdout, cmd.Stderr = logf, logf
	// A session of its own and no parent-death signal: it must outlive
	// the harness and not be killed with the harness's process group.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	pipe, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start reaper: %w", err)
	}
	r := &reaper{cmd: cmd, pipe: pipe, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(r.done) }()
	return r, nil
}

// run triggers the cleanup and waits (bounded) for it to finish.
func (r *reaper) run(timeout time.Duration) error {
	if r == nil {
		return nil
	}
	r.pipe.Close()
	select {
	case <-r.done:
		return nil
	case <-time.After(timeout):
		return fmt.Errorf("real node cleanup did not finish in %s", timeout)
	}
}

// runCleanupNow runs the script synchronously: before a node starts, for
// whatever a previous node killed before its reaper finished left behind.
func runCleanupNow(script string) error {
	out, err := exec.Command("bash", "-c", script).CombinedOutput()
	if err != nil {
		return fmt.Errorf("cleanup: %v: %s", err, out)
	}
	return nil
}
