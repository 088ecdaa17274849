package redistest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/redis-autoscaler/redis-autoscaler/test/prereq"
)

// StartSentinel runs Debian's redis-sentinel on a free loopback port,
// monitoring masterHost:masterPort as "mymaster" with a quorum of 1;
// password, when set, is the Sentinel's own requirepass. It returns the
// address and a connected client; both go when the test ends. Without
// redis-sentinel (make test installs it) the test fails in CI and skips
// elsewhere.
func StartSentinel(t testing.TB, masterHost string, masterPort int, password string) (addr string, c *redis.Client) {
	t.Helper()
	bin := prereq.Binary(t, "redis-sentinel", "apt-get install -y redis-sentinel; make test installs it")
	port, err := FreePort()
	require.NoError(t, err)
	dir := t.TempDir()
	conf := filepath.Join(dir, "sentinel.conf")
	require.NoError(t, os.WriteFile(conf, []byte(fmt.Sprintf(`port %d
bind 127.0.0.1
daemonize no
dir %s
logfile %s
sentinel monitor mymaster %s %d 1
sentinel down-after-milliseconds mymaster 2000
sentinel failover-timeout mymaster 10000
sentinel parallel-syncs mymaster 2
requirepass "%s"
`, port, dir, filepath.Join(dir, "sentinel.log"), masterHost, masterPort, password)), 0o600))
	cmd := exec.Command(bin, conf)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		_ = cmd.Wait()
		if t.Failed() {
			b, _ := os.ReadFile(filepath.Join(dir, "sentinel.log"))
			t.Logf("sentinel log:\n%s", b)
		}
	})
	addr = fmt.Sprintf("127.0.0.1:%d", port)
	c = redis.NewClient(&redis.Options{Addr: addr, Password: password, Protocol: 2, DisableIdentity: true})
	t.Cleanup(func() { c.Close() })
	require.Eventually(t, func() bool { return c.Ping(context.Background()).Err() == nil }, 10*time.Second, 50*time.Millisecond)
	return addr, c
}
