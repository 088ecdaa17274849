package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/redis-autoscaler/redis-autoscaler/test/cluster"
	"github.com/redis-autoscaler/redis-autoscaler/test/e2e"
)

// buildDemo builds this command as `make run` does.
func buildDemo(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "demo")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	require.NoError(t, err, "%s", out)
	return bin
}

// descendants are the PIDs whose parent chain reaches pid (from /proc).
func descendants(pid int) map[int]bool {
	parent := map[int]int{}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...: comm may hold spaces, so cut at ')'.
		rest := string(b[strings.LastIndexByte(string(b), ')')+2:])
		f := strings.Fields(rest)
		if len(f) > 1 && f[0] != "Z" {
			parent[p], _ = strconv.Atoi(f[1])
		}
	}
	out := map[int]bool{}
	for p := range parent {
		for q := p; q > 1; q = parent[q] {
			if q == pid {
				out[p] = true
				break
			}
		}
	}
	return out
}

var kubeconfigRE = regexp.MustCompile(`KUBECONFIG=(\S+)`)

// Ctrl-C once the loop runs: the demo stops every process it started
// (control plane, Redis pods, the programs) and removes the cluster's
// directory, then exits 130.
func TestInterruptLeavesNothing(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("starts the control plane")
	}
	bin := buildDemo(t)
	cmd := exec.Command(bin, "-out", t.TempDir())
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	cmd.Stderr = os.Stderr
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill() })

	sc := bufio.NewScanner(stdout)
	kubeconfig, running := "", false
	for sc.Scan() {
		line := sc.Text()
		t.Log(line)
		if m := kubeconfigRE.FindStringSubmatch(line); m != nil {
			kubeconfig = m[1]
		}
		if strings.HasPrefix(line, "t=") { // the loop shows its first second
			running = true
			break
		}
	}
	require.True(t, running, "the demo never reached its loop")
	require.NotEmpty(t, kubeconfig)
	children := descendants(cmd.Process.Pid)
	require.NotEmpty(t, children)

	require.NoError(t, cmd.Process.Signal(syscall.SIGINT))
	go func() {
		for sc.Scan() {
			t.Log(sc.Text())
		}
	}()
	err = cmd.Wait()
	var ee *exec.ExitError
	require.True(t, errors.As(err, &ee), "exit: %v", err)
	require.Equal(t, 130, ee.ExitCode())
	// PID 1 here reaps orphans a little late: allow it.
	require.Eventually(t, func() bool {
		for p := range children {
			if cluster.ProcessAlive(p) {
				return false
			}
		}
		return true
	}, 10*time.Second, 100*time.Millisecond, "processes of the demo outlived it")
	_, err = os.Stat(filepath.Dir(kubeconfig))
	require.True(t, os.IsNotExist(err), "cluster directory left: %v", err)
}

// A short run ends by itself, exits 0, and writes the plot and the JSON,
// whose summary says every acknowledged write is on the final master.
func TestShortRun(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("starts the control plane")
	}
	bin := buildDemo(t)
	out := t.TempDir()
	cmd := exec.Command(bin, "-out", out, "-ramp", "20s", "-peak", "6000")
	b, err := cmd.CombinedOutput()
	t.Logf("%s", b)
	require.NoError(t, err)
	require.Regexp(t, `(?m)^t=\d+s load=\d+ replicas=\d+ `, string(b), "plain lines without a terminal")
	require.Contains(t, string(b), "peak replicas:")
	png, err := os.ReadFile(filepath.Join(out, "redis-autoscaler-demo.png"))
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(string(png), "\x89PNG"))
	js, err := os.ReadFile(filepath.Join(out, "redis-autoscaler-demo.json"))
	require.NoError(t, err)
	var rep e2e.Report
	require.NoError(t, json.Unmarshal(js, &rep))
	require.NotEmpty(t, rep.Samples)
	require.Greater(t, rep.Acked, 0)
	require.Equal(t, rep.Acked, rep.OnMaster)
	require.Empty(t, rep.VerifyError)
	require.Greater(t, rep.PeakReplicas, int32(minReplicas), "the load made the group grow")
}
