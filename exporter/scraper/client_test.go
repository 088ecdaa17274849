package scraper

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/redis-autoscaler/redis-autoscaler/exporter/target"
	"github.com/redis-autoscaler/redis-autoscaler/test/redistest"
)

const secret = "s3cr3t-Pa55word"

func parse(t *testing.T, addr string) target.Target {
	t.Helper()
	tg, err := target.Parse(addr)
	require.NoError(t, err)
	return tg
}

func scrape(t *testing.T, tg target.Target, o target.TLSOptions) (*Sample, error) {
	t.Helper()
	cfg, err := o.Config()
	require.NoError(t, err)
	c := New(tg, cfg, 2*time.Second)
	t.Cleanup(func() { c.Close() })
	return c.Scrape(context.Background())
}

func TestAuth(t *testing.T) {
	srv := redistest.StartWith(t, redistest.Options{Password: secret})
	// An ACL user allowed nothing but INFO is all the exporter needs.
	require.NoError(t, srv.Client(t).Do(context.Background(), "ACL", "SETUSER", "exporter", "on", ">"+secret+"-acl", "+info").Err())

	var logs bytes.Buffer
	SetLogger(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	defer SetLogger(slog.New(slog.DiscardHandler))

	for name, tc := range map[string]struct {
		target target.Target
		ok     bool
	}{
		"password":             {target: target.Target{Network: "tcp", Address: srv.HostPort(), Password: secret}, ok: true},
		"password in URL":      {target: parse(t, "redis://:"+secret+"@"+srv.HostPort()), ok: true},
		"ACL user":             {target: target.Target{Network: "tcp", Address: srv.HostPort(), User: "exporter", Password: secret + "-acl"}, ok: true},
		"no password":          {target: target.Target{Network: "tcp", Address: srv.HostPort()}},
		"wrong password":       {target: target.Target{Network: "tcp", Address: srv.HostPort(), Password: secret + "-wrong"}},
		"wrong password (URL)": {target: parse(t, "redis://default:"+secret+"-wrong@"+srv.HostPort())},
		"ACL user, wrong pass": {target: target.Target{Network: "tcp", Address: srv.HostPort(), User: "exporter", Password: secret}},
	} {
		t.Run(name, func(t *testing.T) {
			s, err := scrape(t, tc.target, target.TLSOptions{})
			if tc.ok {
				require.NoError(t, err)
				assert.Equal(t, "master", s.Info.Role())
				return
			}
			require.Error(t, err)
			assert.NotContains(t, err.Error(), secret, "error must not contain the password")
			assert.Contains(t, err.Error(), srv.HostPort(), "error names the target")
		})
	}
	assert.NotContains(t, logs.String(), secret, "logs must not contain the password")
}

func TestTLS(t *testing.T) {
	files := redistest.NewTLS(t)
	srv := redistest.StartWith(t, redistest.Options{TLS: files})
	tg := parse(t, "rediss://"+srv.HostPort())

	s, err := scrape(t, tg, target.TLSOptions{CAFile: files.CA, CertFile: files.ClientCert, KeyFile: files.ClientKey})
	require.NoError(t, err)
	assert.NotEmpty(t, s.Info.Version())

	// CA only: the server does not require a client certificate here.
	_, err = scrape(t, tg, target.TLSOptions{CAFile: files.CA})
	require.NoError(t, err)

	// Without the CA the certificate is not trusted...
	_, err = scrape(t, tg, target.TLSOptions{})
	assert.ErrorContains(t, err, "certificate")
	// ...unless verification is skipped on purpose.
	_, err = scrape(t, tg, target.TLSOptions{SkipVerify: true})
	assert.NoError(t, err)
	// A server name the certificate does not hold is refused.
	_, err = scrape(t, tg, target.TLSOptions{CAFile: files.CA, ServerName: "other.example"})
	assert.Error(t, err)
	_, err = scrape(t, tg, target.TLSOptions{CAFile: files.CA, ServerName: "redis.test"})
	assert.NoError(t, err)
}

func TestUnixSocket(t *testing.T) {
	srv := redistest.Start(t)
	s, err := scrape(t, parse(t, "unix://"+srv.Socket), target.TLSOptions{})
	require.NoError(t, err)
	assert.Equal(t, "master", s.Info.Role())
}

// One persistent connection and one command per scrape, as the server
// itself counts them.
func TestOneCommandOneConnection(t *testing.T) {
	srv := redistest.Start(t)
	admin := srv.Client(t)
	ctx := context.Background()
	c := New(parse(t, srv.URL()), nil, 2*time.Second)
	defer c.Close()
	first, err := c.Scrape(ctx)
	require.NoError(t, err)
	assert.True(t, first.NewConnection)

	cmds0, conns0, err := redistest.Stats(ctx, admin)
	require.NoError(t, err)
	const n = 50
	for i := 0; i < n; i++ {
		s, err := c.Scrape(ctx)
		require.NoError(t, err)
		assert.False(t, s.NewConnection)
	}
	cmds1, conns1, err := redistest.Stats(ctx, admin)
	require.NoError(t, err)
	// The admin's own INFO stats is the one extra command.
	assert.Equal(t, int64(n+1), cmds1-cmds0, "commands per scrape")
	assert.Equal(t, int64(0), conns1-conns0, "new connections")

	// After the server restarts on the same port, the client reconnects.
	srv.Kill()
	_, err = c.Scrape(ctx)
	assert.Error(t, err)
}

func TestReconnectAfterRestart(t *testing.T) {
	srv := redistest.Start(t)
	c := New(parse(t, srv.URL()), nil, time.Second)
	defer c.Close()
	ctx := context.Background()
	_, err := c.Scrape(ctx)
	require.NoError(t, err)
	// Drop every client connection server-side, as a restart or a proxy
	// would: the next scrape may fail, the one after must succeed.
	require.NoError(t, srv.Client(t).Do(ctx, "CLIENT", "KILL", "TYPE", "normal").Err())
	ok := false
	for i := 0; i < 3 && !ok; i++ {
		_, err = c.Scrape(ctx)
		ok = err == nil
	}
	assert.True(t, ok, "client reconnects after its connection was killed")
}

// fakeRedis6 answers like Redis 6.2: HELLO and INFO with at most one section
// argument (a second one is an error, as on Redis 6). It records the
// commands it received. Real Redis 6 is not packaged here; this checks the
// exporter's side of the protocol only.
func fakeRedis6(t *testing.T) (addr string, commands func() []string) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { l.Close() })
	var mu sync.Mutex
	var seen []string
	info := "# Server\r\nredis_version:6.2.14\r\nrun_id:x\r\n# Stats\r\ntotal_commands_processed:5\r\n"
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				r := bufio.NewReader(c)
				for {
					args, err := readCommand(r)
					if err != nil {
						return
					}
					mu.Lock()
					seen = append(seen, strings.Join(args, " "))
					mu.Unlock()
					switch {
					case strings.EqualFold(args[0], "HELLO"):
						fmt.Fprintf(c, "*2\r\n$6\r\nserver\r\n$5\r\nredis\r\n")
					case strings.EqualFold(args[0], "INFO") && len(args) <= 2:
						fmt.Fprintf(c, "$%d\r\n%s\r\n", len(info), info)
					default:
						fmt.Fprintf(c, "-ERR syntax error\r\n")
					}
				}
			}()
		}
	}()
	return l.Addr().String(), func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), seen...)
	}
}

func readCommand(r *bufio.Reader) ([]string, error) {
	line, err := r.ReadString('\n')
	if err != nil {
		return nil, err
	}
	n, err := strconv.Atoi(strings.TrimSpace(line[1:]))
	if err != nil || line[0] != '*' {
		return nil, fmt.Errorf("bad command %q", line)
	}
	args := make([]string, 0, n)
	for i := 0; i < n; i++ {
		if _, err := r.ReadString('\n'); err != nil { // $len
			return nil, err
		}
		a, err := r.ReadString('\n')
		if err != nil {
			return nil, err
		}
		args = append(args, strings.TrimRight(a, "\r\n"))
	}
	return args, nil
}

func TestOldRedisGetsOnlyCommandsItSupports(t *testing.T) {
	addr, commands := fakeRedis6(t)
	c := New(parse(t, addr), nil, time.Second)
	defer c.Close()
	for i := 0; i < 3; i++ {
		s, err := c.Scrape(context.Background())
		require.NoError(t, err)
		assert.Equal(t, 6, s.Info.MajorVersion())
		assert.Empty(t, s.Info.Latencies)
	}
	assert.Equal(t, []string{"hello 2", "INFO all", "INFO all", "INFO all"}, commands())
}

// Redis 7 is asked for exactly the sections used after the first reply.
func TestRedis7SectionsAfterVersionKnown(t *testing.T) {
	srv := redistest.Start(t)
	c := New(parse(t, srv.URL()), nil, time.Second)
	defer c.Close()
	ctx := context.Background()
	_, err := c.Scrape(ctx)
	require.NoError(t, err)
	s, err := c.Scrape(ctx)
	require.NoError(t, err)
	assert.NotEmpty(t, s.Info.Latencies, "latencystats asked for on Redis 7")
	assert.NotContains(t, s.Info.Sections, "modules")
	assert.Contains(t, s.Info.Sections, "keyspace")
}
