// Package redistest starts real redis-server processes on free loopback
// ports for tests, and stops them when the test ends.
//
// Every test in this project that needs Redis uses it: a mock Redis would not
// test what users run.
package redistest

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"k8s.io/apimachinery/pkg/util/wait"
)

// Server is one running redis-server process.
type Server struct {
	Host     string // loopback address it listens on
	Port     int    // plain TCP port (0 when only TLS is served)
	TLSPort  int    // TLS port when started with TLS
	Socket   string // unix socket path
	Dir      string // working directory (data, logs)
	Password string // requirepass, if any

	tls  *TLSFiles
	cmd  *exec.Cmd
	done chan struct{}
}

// Options change how a server is started.
type Options struct {
	Password string    // sets requirepass
	TLS      *TLSFiles // serve TLS (only) on a free port with these files
	Args     []string  // extra redis-server arguments, e.g. "--maxmemory", "10mb"
}

// Binary returns the path of redis-server, failing the test when it is not
// installed (make test installs it).
func Binary(t testing.TB) string {
	t.Helper()
	p, err := exec.LookPath("redis-server")
	if err != nil {
		t.Fatalf("redis-server not found in PATH (make test installs Debian's redis-server): %v", err)
	}
	return p
}

// Start starts a plain redis-server on 127.0.0.1 and a free port.
func Start(t testing.TB, args ...string) *Server {
	t.Helper()
	return StartWith(t, Options{Args: args})
}

// StartWith starts a redis-server with the given options. It retries on a
// port race and fails the test if the server does not come up.
func StartWith(t testing.TB, o Options) *Server {
	t.Helper()
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		s, err := start(t, o)
		if err == nil {
			t.Cleanup(s.Stop)
			return s
		}
		lastErr = err
	}
	t.Fatalf("start redis-server: %v", lastErr)
	return nil
}

func start(t testing.TB, o Options) (*Server, error) {
	bin := Binary(t)
	dir := t.TempDir()
	port, err := FreePort()
	if err != nil {
		return nil, err
	}
	s := &Server{Host: "127.0.0.1", Dir: dir, Password: o.Password, tls: o.TLS, done: make(chan struct{})}
	s.Socket = filepath.Join(dir, "redis.sock")
	args := []string{
		"--bind", s.Host,
		"--dir", dir,
		"--save", "",
		"--appendonly", "no",
		"--unixsocket", s.Socket,
		"--unixsocketperm", "700",
		"--logfile", filepath.Join(dir, "redis.log"),
		"--enable-debug-command", "yes",
	}
	if o.TLS != nil {
		s.TLSPort = port
		args = append(args, "--port", "0", "--tls-port", strconv.Itoa(port),
			"--tls-cert-file", o.TLS.ServerCert, "--tls-key-file", o.TLS.ServerKey,
			"--tls-ca-cert-file", o.TLS.CA, "--tls-auth-clients", "optional")
	} else {
		s.Port = port
		args = append(args, "--port", strconv.Itoa(port))
	}
	if o.Password != "" {
		args = append(args, "--requirepass", o.Password)
	}
	args = append(args, o.Args...)
	s.cmd = exec.Command(bin, args...)
	s.cmd.Dir = dir
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := s.cmd.Start(); err != nil {
		return nil, fmt.Errorf("exec %s: %w", bin, err)
	}
	go func() { _ = s.cmd.Wait(); close(s.done) }()
	if err := s.waitReady(); err != nil {
		s.Stop()
		return nil, fmt.Errorf("%w; log: %s", err, s.logTail())
	}
	return s, nil
}

// waitReady polls, for at most 5 s, until the port accepts.
func (s *Server) waitReady() error {
	addr := s.HostPort()
	var last error
	err := wait.PollUntilContextTimeout(context.Background(), 25*time.Millisecond, 5*time.Second, true, func(context.Context) (bool, error) {
		select {
		case <-s.done:
			return false, errors.New("redis-server exited during start")
		default:
		}
		c, err := net.DialTimeout("tcp", addr, 100*time.Millisecond)
		if last = err; err != nil {
			return false, nil
		}
		c.Close()
		return true, nil
	})
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("redis-server on %s not ready after 5s: %v", addr, last)
	}
	return err
}

func (s *Server) logTail() string {
	b, _ := os.ReadFile(filepath.Join(s.Dir, "redis.log"))
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) > 5 {
		lines = lines[len(lines)-5:]
	}
	return strings.Join(lines, " | ")
}

// HostPort is host:port of the server's (TLS or plain) listener.
func (s *Server) HostPort() string {
	p := s.Port
	if p == 0 {
		p = s.TLSPort
	}
	return net.JoinHostPort(s.Host, strconv.Itoa(p))
}

// URL is the address as a redis:// or rediss:// URL without credentials.
func (s *Server) URL() string {
	if s.TLSPort != 0 {
		return "rediss://" + s.HostPort()
	}
	return "redis://" + s.HostPort()
}

// PID is the server's process id.
func (s *Server) PID() int { return s.cmd.Process.Pid }

// Client returns a go-redis client with admin rights on the server, closed
// when the test ends.
func (s *Server) Client(t testing.TB) *redis.Client {
	t.Helper()
	o := &redis.Options{Addr: s.HostPort(), Password: s.Password, Protocol: 2, DisableIdentity: true}
	if s.tls != nil {
		o.TLSConfig = s.tls.ClientConfig(t)
	}
	c := redis.NewClient(o)
	t.Cleanup(func() { c.Close() })
	return c
}

// Stop terminates the server (SIGTERM, then SIGKILL after 3s) and waits.
func (s *Server) Stop() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	select {
	case <-s.done:
		return
	default:
	}
	_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(3 * time.Second):
		_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
		<-s.done
	}
}

// Kill stops the server abruptly, as a crash would.
func (s *Server) Kill() {
	_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
	<-s.done
}

// FreePort asks the kernel for a free loopback TCP port.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// StatsDelta reads INFO stats/commandstats counters used to count what a
// client cost the server: total commands processed and connections received.
func Stats(ctx context.Context, c *redis.Client) (commands, connections int64, err error) {
	s, err := c.Info(ctx, "stats").Result()
	if err != nil {
		return 0, 0, err
	}
	sc := bufio.NewScanner(strings.NewReader(s))
	for sc.Scan() {
		k, v, ok := strings.Cut(strings.TrimSpace(sc.Text()), ":")
		if !ok {
			continue
		}
		switch k {
		case "total_commands_processed":
			commands, _ = strconv.ParseInt(v, 10, 64)
		case "total_connections_received":
			connections, _ = strconv.ParseInt(v, 10, 64)
		}
	}
	return commands, connections, nil
}

// ClientTLS is a convenience used by tests that dial a TLS server directly.
func (f *TLSFiles) ClientConfig(t testing.TB) *tls.Config {
	t.Helper()
	cfg, err := f.clientConfig()
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// InfoFloat reads one numeric field of an INFO section, failing the test
// when it is missing.
func InfoFloat(t testing.TB, rc *redis.Client, section, key string) float64 {
	t.Helper()
	s, err := rc.Info(context.Background(), section).Result()
	if err != nil {
		t.Fatalf("INFO %s: %v", section, err)
	}
	for _, line := range strings.Split(s, "\r\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && k == key {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatalf("INFO %s %s=%q: %v", section, key, v, err)
			}
			return f
		}
	}
	t.Fatalf("no %s in INFO %s", key, section)
	return 0
}
