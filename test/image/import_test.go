package image

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// containerdTools finds containerd, ctr and runc; missing ones fail in CI
// (make deps installs them) and skip elsewhere.
func containerdTools(t *testing.T) (containerd, ctr string) {
	t.Helper()
	var missing []string
	paths := map[string]string{}
	for _, name := range []string{"containerd", "ctr", "runc"} {
		p, err := exec.LookPath(name)
		if err != nil {
			missing = append(missing, name)
		}
		paths[name] = p
	}
	if len(missing) > 0 {
		msg := fmt.Sprintf("%v not installed: `make deps` installs Debian's containerd", missing)
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return paths["containerd"], paths["ctr"]
}

// privateContainerd starts a containerd of the test's own (root, state,
// socket, runc root under a temporary directory; no CRI) and stops it at
// the test's end. It returns the socket.
func privateContainerd(t *testing.T, containerd, ctr string) string {
	t.Helper()
	// Short: a unix socket path has at most 107 bytes.
	dir, err := os.MkdirTemp("", "ctd-")
	require.NoError(t, err)
	socket := filepath.Join(dir, "containerd.sock")
	config := fmt.Sprintf(`version = 2
root = %q
state = %q
disabled_plugins = ["io.containerd.grpc.v1.cri"]

[grpc]
  address = %q

[ttrpc]
  address = %q

[debug]
  level = "warn"

[plugins."io.containerd.internal.v1.opt"]
  path = %q
`, filepath.Join(dir, "root"), filepath.Join(dir, "state"), socket, socket+".ttrpc", filepath.Join(dir, "opt"))
	configPath := filepath.Join(dir, "config.toml")
	require.NoError(t, os.WriteFile(configPath, []byte(config), 0o644))
	logFile, err := os.Create(filepath.Join(dir, "containerd.log"))
	require.NoError(t, err)
	cmd := exec.Command(containerd, "--config", configPath)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	require.NoError(t, cmd.Start())
	exited := make(chan struct{})
	go func() {
		cmd.Wait()
		close(exited)
	}()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
		logFile.Close()
		if t.Failed() {
			b, _ := os.ReadFile(logFile.Name())
			t.Logf("containerd log:\n%s", b)
		}
		// Snapshots are unmounted once no container runs; anything still
		// mounted is left rather than removed through.
		if b, _ := os.ReadFile("/proc/self/mounts"); strings.Contains(string(b), dir) {
			t.Errorf("mounts left under %s", dir)
			return
		}
		os.RemoveAll(dir)
	})
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		err := exec.Command(ctr, "--address", socket, "version").Run()
		if err == nil {
			return socket
		}
		select {
		case <-exited:
			t.Fatalf("containerd exited: %v", cmd.ProcessState)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("containerd not serving on %s after 20s: %v", socket, err)
		}
	}
}

// Both archives load into a containerd 1.6 with Import, under the names
// the kubelet asks for, unpacked into overlayfs, and run under runc.
func TestImport(t *testing.T) {
	requireRoot(t)
	containerd, ctr := containerdTools(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	start := time.Now()
	binDir := filepath.Join(t.TempDir(), "bin")
	const version = "import-test"
	require.NoError(t, BuildProductBinaries(ctx, filepath.Join("..", ".."), binDir, version))
	t.Logf("product binaries built in %v", time.Since(start).Round(time.Millisecond))
	redis, err := RedisImage()
	require.NoError(t, err)
	cache := t.TempDir()

	socket := privateContainerd(t, containerd, ctr)
	ctrCmd := func(args ...string) string {
		t.Helper()
		out, err := exec.CommandContext(ctx, ctr, append([]string{"--address", socket, "-n", Namespace}, args...)...).CombinedOutput()
		require.NoError(t, err, "ctr %v: %s", args, out)
		return string(out)
	}
	for _, im := range []Image{ProductImage(binDir, version), redis} {
		archive, err := im.CachedArchive(cache)
		require.NoError(t, err)
		start := time.Now()
		require.NoError(t, Import(ctx, ctr, socket, archive))
		t.Logf("%s imported in %v", im.Name, time.Since(start).Round(time.Millisecond))
	}

	// The CRI normalises the pod's "redis:7.0" to this name.
	redisRef := "docker.io/library/" + RedisName
	names := strings.Fields(ctrCmd("images", "ls", "-q"))
	require.ElementsMatch(t, []string{ProductName, redisRef}, names)
	for _, line := range strings.Split(strings.TrimSpace(ctrCmd("images", "check")), "\n")[1:] {
		fields := strings.Fields(line)
		require.Equal(t, "true", fields[len(fields)-1], "not unpacked: %s", line)
	}

	runc := filepath.Join(t.TempDir(), "runc")
	for name, tc := range map[string]struct {
		ref  string
		argv []string
		want string
	}{
		"product":          {ProductName, []string{"/usr/local/bin/redis-autoscaler", "version"}, "redis-autoscaler " + version},
		"product exporter": {ProductName, []string{"/usr/local/bin/redis-exporter", "--version"}, version},
		"redis":            {redisRef, []string{"/usr/local/bin/docker-entrypoint.sh", "--version"}, "Redis server v=7.0"},
		"redis shell":      {redisRef, []string{"sh", "-c", "pwd; redis-cli --version"}, "/data\nredis-cli 7.0"},
	} {
		t.Run(name, func(t *testing.T) {
			// No cgroup and a runc root of the test's: nothing of a
			// kubelet's containerd on this machine is touched.
			id := strings.ReplaceAll(name, " ", "-")
			out := ctrCmd(append([]string{"run", "--rm", "--cgroup", "", "--runc-root", runc, "--read-only", tc.ref, id}, tc.argv...)...)
			require.Contains(t, out, tc.want)
		})
	}
}
