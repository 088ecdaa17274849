package main

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/redis-autoscaler/redis-autoscaler/test/procstat"
	"github.com/redis-autoscaler/redis-autoscaler/test/redistest"
)

// BenchmarkLeanExporter runs the built cmd/redis-exporter as its own
// process, as a sidecar or a central exporter would run, against 1, 200
// and 1,000 local targets, and reports its peak RSS (VmHWM of the process,
// read from /proc) besides the time of one /metrics scrape of all targets.
// Targets beyond one per server are the same redis-server reached on
// other loopback addresses and databases: each is its own connection and
// its own INFO, as distinct servers would be.
func BenchmarkLeanExporter(b *testing.B) {
	bin := filepath.Join(b.TempDir(), "redis-exporter")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	require.NoError(b, err, "%s", out)
	for _, n := range []int{1, 200, 1000} {
		b.Run(fmt.Sprintf("targets=%d", n), func(b *testing.B) {
			addrs := targets(b, n)
			base, pid := startLean(b, bin, addrs)
			b.ResetTimer()
			up := 0
			for b.Loop() {
				up = scrapeUp(b, base)
			}
			b.StopTimer()
			require.Equal(b, n, up, "targets up")
			b.ReportMetric(peakRSSMiB(b, pid), "peak-RSS-MiB")
		})
	}
}

// targets returns n distinct target URLs over as few servers as needed:
// 16 loopback addresses × 16 databases per server.
func targets(b *testing.B, n int) []string {
	const perServer = 256
	var out []string
	for len(out) < n {
		binds := make([]string, 16)
		for i := range binds {
			binds[i] = "127.0.0." + strconv.Itoa(i+1)
		}
		srv := redistest.Start(b, append([]string{"--bind"}, binds...)...)
		for i := 0; i < perServer && len(out) < n; i++ {
			out = append(out, fmt.Sprintf("redis://%s/%d", net.JoinHostPort(binds[i%16], strconv.Itoa(srv.Port)), i/16))
		}
	}
	return out
}

func startLean(b *testing.B, bin string, addrs []string) (string, int) {
	port, err := redistest.FreePort()
	require.NoError(b, err)
	addr := "127.0.0.1:" + strconv.Itoa(port)
	cmd := exec.Command(bin, "--web.listen-address", addr, "--redis.addr", strings.Join(addrs, ","),
		"--scrape.timeout", "60s", "--log-level", "error")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	require.NoError(b, cmd.Start())
	b.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	base := "http://" + addr
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(base + "/healthz")
		if err == nil {
			resp.Body.Close()
			break
		}
		require.True(b, time.Now().Before(deadline), "exporter did not start")
		time.Sleep(50 * time.Millisecond)
	}
	return base, cmd.Process.Pid
}

func scrapeUp(b *testing.B, base string) int {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/metrics", nil)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(b, err)
	defer resp.Body.Close()
	up := 0
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "redis_up{") && strings.HasSuffix(sc.Text(), " 1") {
			up++
		}
	}
	return up
}

// peakRSSMiB is VmHWM of process pid.
func peakRSSMiB(b *testing.B, pid int) float64 {
	m, err := procstat.MemoryMiB(pid)
	require.NoError(b, err)
	return m["VmHWM"]
}
