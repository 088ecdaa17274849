package cluster

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
)

// Kubernetes' $(VAR) rules: defined references expand, unknown ones stay,
// "$$" escapes.
func TestExpand(t *testing.T) {
	vars := map[string]string{"A": "1", "B": "two"}
	for in, want := range map[string]string{
		"--x=$(A)":       "--x=1",
		"$(A)$(B)":       "1two",
		"$(C)":           "$(C)",
		"$$(A)":          "$(A)",
		"cost $5":        "cost $5",
		"open $(A":       "open $(A",
		"trailing $":     "trailing $",
		"no refs at all": "no refs at all",
	} {
		require.Equal(t, want, expand(in, vars), in)
	}
}

func TestMountsRewriteArg(t *testing.T) {
	ms := mounts{
		{containerPath: "/etc/redis/tls", hostPath: "/h/tls"},
		{containerPath: "/etc/redis", hostPath: "/h/conf"},
	}
	require.Equal(t, "/h/tls/ca.crt", ms.rewriteArg("/etc/redis/tls/ca.crt"), "longest mount wins")
	require.Equal(t, "/h/conf/redis.conf", ms.rewriteArg("/etc/redis/redis.conf"))
	require.Equal(t, "--cert=/h/tls/tls.crt", ms.rewriteArg("--cert=/etc/redis/tls/tls.crt"))
	require.Equal(t, "/etc/redisx", ms.rewriteArg("/etc/redisx"), "prefix must end at a path separator")
	require.Equal(t, "--maxmemory", ms.rewriteArg("--maxmemory"))
}

func TestRedisArgsAndPort(t *testing.T) {
	c := &corev1.Container{Command: []string{"redis-server"}, Args: []string{"--port", "$(P)"}}
	argv, err := redisArgs(c, map[string]string{"P": "7000"})
	require.NoError(t, err)
	require.Equal(t, []string{"--port", "7000"}, argv)
	require.Equal(t, 7000, redisPort(c, argv))

	c = &corev1.Container{Args: []string{"redis-server", "--appendonly", "yes"},
		Ports: []corev1.ContainerPort{{Name: "metrics", ContainerPort: 9121}, {Name: "redis", ContainerPort: 6380}}}
	argv, err = redisArgs(c, nil)
	require.NoError(t, err)
	require.Equal(t, []string{"--appendonly", "yes"}, argv)
	require.Equal(t, 6380, redisPort(c, argv), "the port named redis")

	_, err = redisArgs(&corev1.Container{Command: []string{"sh", "-c", "redis-server"}}, nil)
	require.Error(t, err, "shell commands cannot run without an image")
}

func TestClassify(t *testing.T) {
	require.Equal(t, kindRedis, classify(&corev1.Container{Image: "redis:7"}))
	require.Equal(t, kindRedis, classify(&corev1.Container{Image: "bitnami/valkey", Command: []string{"/usr/bin/redis-server"}}))
	require.Equal(t, kindAutoscaler, classify(&corev1.Container{Image: "ghcr.io/x/redis-autoscaler:v1"}))
	require.Equal(t, kindUnsupported, classify(&corev1.Container{Image: "busybox"}))
}

func TestIsZombieStat(t *testing.T) {
	require.True(t, isZombieStat("123 (redis-server ) Z 1 2 3"))
	require.False(t, isZombieStat("123 (a) b) S 1 2 3"))
}

// Directories of dead owners are removed once old; live or fresh ones stay.
func TestRemoveStaleDirs(t *testing.T) {
	root := t.TempDir()
	mk := func(name string, pid int, age time.Duration) string {
		d := filepath.Join(root, name)
		require.NoError(t, os.MkdirAll(d, 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(d, ownerFile), []byte(strconv.Itoa(pid)), 0o644))
		old := time.Now().Add(-age)
		require.NoError(t, os.Chtimes(d, old, old))
		return d
	}
	dead := 1 << 22 // above the default pid_max: no such process
	stale := mk("k8s-cluster-stale", dead, 2*time.Hour)
	fresh := mk("k8s-cluster-fresh", dead, time.Minute)
	live := mk("k8s-cluster-live", os.Getpid(), 2*time.Hour)
	other := mk("other-stale", dead, 2*time.Hour)
	removeStaleDirs(root, slog.Default())
	require.NoDirExists(t, stale)
	require.DirExists(t, fresh)
	require.DirExists(t, live)
	require.DirExists(t, other)
}

// TestRetryPortClash: a bind that fails because another socket holds the
// port is retried on a new port; any other error is returned at once.
func TestRetryPortClash(t *testing.T) {
	held, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer held.Close()
	heldPort := held.Addr().(*net.TCPAddr).Port

	for _, tc := range []struct {
		name      string
		clashes   int // attempts that bind the held port first
		other     error
		wantErr   string
		wantTries int
	}{
		{name: "free at once", wantTries: 1},
		{name: "taken twice, then free", clashes: 2, wantTries: 3},
		{name: "always taken", clashes: 100, wantErr: "after 4 attempts", wantTries: portClashAttempts},
		{name: "other error", other: errors.New("etcd exited: bad flag"), wantErr: "bad flag", wantTries: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tries, undos := 0, 0
			var bound net.Listener
			err := retryPortClash(func() error {
				tries++
				if tc.other != nil {
					return tc.other
				}
				port := 0
				if tries <= tc.clashes {
					port = heldPort
				}
				l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
				if err != nil {
					return fmt.Errorf("start: %w", err)
				}
				bound = l
				return nil
			}, func() { undos++ })
			if bound != nil {
				bound.Close()
			}
			assert.Equal(t, tc.wantTries, tries)
			if tc.wantErr != "" {
				require.ErrorContains(t, err, tc.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tries-1, undos, "each failed attempt is undone")
		})
	}
}
