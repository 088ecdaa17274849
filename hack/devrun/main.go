// Command devrun is `make run-exporter`: it runs the exporter against the Redis on
// localhost:6379, or, when none answers there, against a throwaway
// redis-server on a free port that it stops again on Ctrl-C.
package main

import (
	"bufio"
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/redis-autoscaler/redis-autoscaler/exporter"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "make run:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context) error {
	addr := "127.0.0.1:6379"
	if !answersPing(addr) {
		stopRedis, started, err := startRedis()
		if err != nil {
			return err
		}
		defer stopRedis()
		addr = started
		fmt.Printf("No Redis on localhost:6379; started a throwaway redis-server on %s\n", addr)
	} else {
		fmt.Println("Using the Redis on localhost:6379")
	}

	listen := os.Getenv("LISTEN")
	if listen == "" {
		listen = "127.0.0.1:9121"
	}
	cfg, err := exporter.ParseFlags([]string{"--redis.addr", "redis://" + addr, "--web.listen-address", listen}, os.Getenv, os.Stderr)
	if err != nil {
		return err
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	ready := make(chan string, 1)
	go func() {
		if a, ok := <-ready; ok {
			fmt.Printf("Metrics: http://%s/metrics   (Ctrl-C stops the exporter and the throwaway Redis)\n", a)
		}
	}()
	return exporter.Run(ctx, cfg, logger, ready)
}

// answersPing is true when a Redis answers PING at addr within a second.
func answersPing(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return false
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(time.Second))
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return false
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	// A password-protected Redis answers -NOAUTH: it is still a Redis.
	return err == nil && (strings.HasPrefix(line, "+PONG") || strings.HasPrefix(line, "-NOAUTH"))
}

func startRedis() (stop func(), addr string, err error) {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		return nil, "", fmt.Errorf("redis-server not installed (make run installs Debian's redis-server): %w", err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, "", err
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	dir, err := os.MkdirTemp("", "redis-autoscaler-run-")
	if err != nil {
		return nil, "", err
	}
	cmd := exec.Command(bin, "--bind", "127.0.0.1", "--port", strconv.Itoa(port), "--save", "", "--appendonly", "no", "--dir", dir, "--maxmemory", "256mb")
	// Its own process group, so Ctrl-C reaches the exporter first and the
	// server is stopped by us, cleanly, afterwards.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
	if err := cmd.Start(); err != nil {
		return nil, "", err
	}
	addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	for i := 0; i < 100 && !answersPing(addr); i++ {
		time.Sleep(50 * time.Millisecond)
	}
	stop = func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_, _ = cmd.Process.Wait()
		_ = os.RemoveAll(dir)
		fmt.Println("Stopped the throwaway redis-server")
	}
	if !answersPing(addr) {
		stop()
		return nil, "", fmt.Errorf("redis-server did not start on %s", addr)
	}
	return stop, addr, nil
}
