package exporter

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/redis-autoscaler/redis-autoscaler/test/redistest"
)

// startExporter runs the exporter command on a free port until the test ends.
func startExporter(t *testing.T, args ...string) (baseURL string, logs *syncBuffer) {
	t.Helper()
	cfg, err := ParseFlags(append([]string{"--web.listen-address", "127.0.0.1:0"}, args...), func(string) string { return "" }, io.Discard)
	require.NoError(t, err)
	logs = &syncBuffer{}
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() { done <- Run(ctx, cfg, logger, ready) }()
	t.Cleanup(func() {
		cancel()
		require.NoError(t, <-done)
	})
	select {
	case addr := <-ready:
		return "http://" + addr, logs
	case err := <-done:
		t.Fatalf("exporter exited: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("exporter did not start")
	}
	return "", nil
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func fetch(t *testing.T, url string) (map[string]*model.Sample, string) {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
	dec := expfmt.NewDecoder(bytes.NewReader(body), expfmt.NewFormat(expfmt.TypeTextPlain))
	vec, err := expfmt.ExtractSamples(&expfmt.DecodeOptions{Timestamp: model.Now()}, decodeAll(t, dec)...)
	require.NoError(t, err)
	out := map[string]*model.Sample{}
	for _, s := range vec {
		out[s.Metric.String()] = s
	}
	return out, string(body)
}

func decodeAll(t *testing.T, dec expfmt.Decoder) []*dto.MetricFamily {
	var out []*dto.MetricFamily
	for {
		mf := &dto.MetricFamily{}
		if err := dec.Decode(mf); err != nil {
			if err == io.EOF {
				return out
			}
			t.Fatal(err)
		}
		out = append(out, mf)
	}
}

// find returns the value of the first sample of name whose labels include want.
func find(samples map[string]*model.Sample, name string, want map[string]string) (float64, bool) {
next:
	for _, s := range samples {
		if string(s.Metric[model.MetricNameLabel]) != name {
			continue
		}
		for k, v := range want {
			if string(s.Metric[model.LabelName(k)]) != v {
				continue next
			}
		}
		return float64(s.Value), true
	}
	return 0, false
}

func TestExporterEndToEnd(t *testing.T) {
	const password = "e2e-Secret-pw"
	a := redistest.StartWith(t, redistest.Options{Password: password})
	b := redistest.StartWith(t, redistest.Options{Password: password})
	down, err := redistest.FreePort()
	require.NoError(t, err)
	pwFile := filepath.Join(t.TempDir(), "password")
	require.NoError(t, os.WriteFile(pwFile, []byte(password+"\n"), 0o600))

	base, logs := startExporter(t,
		"--redis.addr", a.URL()+","+b.URL(),
		"--redis.addr", fmt.Sprintf("127.0.0.1:%d", down),
		"--redis.password-file", pwFile,
		"--connection-timeout", "1s")

	samples, body := fetch(t, base+"/metrics")
	for _, addr := range []string{a.URL(), b.URL()} {
		up, ok := find(samples, "redis_up", map[string]string{"addr": addr})
		assert.True(t, ok)
		assert.Equal(t, 1.0, up, addr)
	}
	up, _ := find(samples, "redis_up", map[string]string{"addr": fmt.Sprintf("redis://127.0.0.1:%d", down)})
	assert.Equal(t, 0.0, up)
	_, ok := find(samples, "go_goroutines", nil)
	assert.True(t, ok, "exporter's own Go metrics")
	_, ok = find(samples, "process_resident_memory_bytes", nil)
	assert.True(t, ok, "exporter's own process metrics")
	assert.NotContains(t, body, password)

	// /scrape?target= with redis_exporter's JSON password map.
	pwMap := filepath.Join(t.TempDir(), "passwords.json")
	require.NoError(t, os.WriteFile(pwMap, []byte(fmt.Sprintf(`{%q: %q}`, a.URL(), password)), 0o600))
	base2, _ := startExporter(t, "--redis.addr", b.URL(), "--redis.password-file", pwMap)
	samples, body = fetch(t, base2+"/scrape?target="+a.URL())
	up, _ = find(samples, "redis_up", map[string]string{"addr": a.URL()})
	assert.Equal(t, 1.0, up)
	_, ok = find(samples, "redis_up", map[string]string{"addr": b.URL()})
	assert.False(t, ok, "/scrape serves only the requested target")
	assert.NotContains(t, body, "go_goroutines")

	resp, err := http.Get(base2 + "/scrape")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
	resp, err = http.Get(base2 + "/scrape?target=" + "http://x:" + password + "@h")
	require.NoError(t, err)
	msg, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
	assert.NotContains(t, string(msg), password)

	resp, err = http.Get(base + "/healthz")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.NotContains(t, logs.String(), password)
}

// Concurrent /metrics requests share one scrape: a slow target is waited
// for once, and Redis sees one INFO per shared scrape.
func TestConcurrentRequestsShareOneScrape(t *testing.T) {
	srv := redistest.Start(t)
	// A target that accepts and never answers makes each scrape last its
	// timeout, so the requests below overlap.
	silent := silentListener(t)
	base, _ := startExporter(t, "--redis.addr", srv.URL(), "--redis.addr", silent, "--connection-timeout", "500ms")

	var wg sync.WaitGroup
	const n = 8
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			fetch(t, base+"/metrics")
		}()
	}
	wg.Wait()
	samples, _ := fetch(t, base+"/metrics")
	scrapes, ok := find(samples, "redis_exporter_scrapes_total", nil)
	require.True(t, ok)
	// n overlapping requests plus the last one: far fewer scrapes than requests.
	assert.Less(t, scrapes, float64(n), "concurrent requests must share scrapes")
	calls, _ := find(samples, "redis_commands_total", map[string]string{"cmd": "info"})
	assert.Equal(t, scrapes-1, calls, "one INFO per scrape (the current one is not yet counted)")
}

func TestPrometheusTimeoutHeaderBoundsScrape(t *testing.T) {
	silent := silentListener(t)
	base, _ := startExporter(t, "--redis.addr", silent, "--connection-timeout", "30s", "--scrape.timeout", "30s")
	req, _ := http.NewRequest(http.MethodGet, base+"/metrics", nil)
	req.Header.Set("X-Prometheus-Scrape-Timeout-Seconds", "1")
	start := time.Now()
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	// The scrape gave up at Prometheus' deadline, not the 30s timeouts.
	assert.Less(t, time.Since(start), 10*time.Second)
	assert.Contains(t, string(body), `redis_up{addr="redis://`+silent+`"} 0`)
	assert.True(t, strings.Contains(string(body), "timeout") || strings.Contains(string(body), "deadline"))
}

func TestFlagsAndEnvironment(t *testing.T) {
	env := map[string]string{
		"REDIS_ADDR":                        "redis://env:6379",
		"REDIS_PASSWORD_FILE":               "/run/secrets/redis",
		"REDIS_EXPORTER_WEB_LISTEN_ADDRESS": ":9999",
		"REDIS_EXPORTER_NAMESPACE":          "cache",
	}
	getenv := func(k string) string { return env[k] }
	cfg, err := ParseFlags(nil, getenv, io.Discard)
	require.NoError(t, err)
	assert.Equal(t, []string{"redis://env:6379"}, cfg.Addrs.values)
	assert.Equal(t, "/run/secrets/redis", cfg.PasswordFile)
	assert.Equal(t, ":9999", cfg.ListenAddress)
	assert.Equal(t, "cache", cfg.Namespace)

	// A flag replaces the environment's value rather than adding to it.
	cfg, err = ParseFlags([]string{"--redis.addr", "a:1,b:2", "-redis.addr=c:3", "--namespace", "x"}, getenv, io.Discard)
	require.NoError(t, err)
	assert.Equal(t, []string{"a:1", "b:2", "c:3"}, cfg.Addrs.values)
	assert.Equal(t, "x", cfg.Namespace)

	cfg, err = ParseFlags(nil, func(string) string { return "" }, io.Discard)
	require.NoError(t, err)
	assert.Equal(t, []string{"redis://localhost:6379"}, cfg.Addrs.values, "redis_exporter's default")
	assert.Equal(t, ":9121", cfg.ListenAddress)

	cfg, err = ParseFlags([]string{"--kubernetes.selector", "app=redis"}, func(string) string { return "" }, io.Discard)
	require.NoError(t, err)
	assert.Empty(t, cfg.Addrs.values, "no default target with discovery")

	for _, bad := range [][]string{{"--scrape.concurrency", "0"}, {"--log-format", "xml"}, {"extra"}, {"--nope"}} {
		_, err := ParseFlags(bad, func(string) string { return "" }, io.Discard)
		assert.Error(t, err, bad)
	}
}

// silentListener accepts connections and never answers, like a hung Redis;
// it returns its address.
func silentListener(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { l.Close() })
	go func() {
		var conns []net.Conn
		defer func() {
			for _, c := range conns {
				c.Close()
			}
		}()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c)
		}
	}()
	return l.Addr().String()
}
