// Package promtest runs Debian's Prometheus and this project's exporter for
// tests: the exporter in-process, Prometheus as a process scraping every
// second, and instant queries through its HTTP API.
package promtest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/redis-autoscaler/redis-autoscaler/exporter"
	"github.com/redis-autoscaler/redis-autoscaler/test/prereq"
	"github.com/redis-autoscaler/redis-autoscaler/test/redistest"
)

// Binary finds Prometheus (make test installs Debian's); without it the
// test fails in CI and skips elsewhere.
func Binary(t testing.TB) string {
	t.Helper()
	return prereq.Binary(t, "prometheus", "apt-get install -y prometheus; make test installs it", "/usr/bin/prometheus")
}

// StartExporter runs the exporter in-process with these flags (a listen
// address on a free loopback port is added) until the test ends, and
// returns its address.
func StartExporter(t testing.TB, args ...string) string {
	t.Helper()
	cfg, err := exporter.ParseFlags(append([]string{"--web.listen-address", "127.0.0.1:0"}, args...),
		func(string) string { return "" }, io.Discard)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() { done <- exporter.Run(ctx, cfg, slog.New(slog.DiscardHandler), ready) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Error("exporter did not stop within 10s")
		}
	})
	select {
	case addr := <-ready:
		return addr
	case err := <-done:
		t.Fatalf("exporter exited: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("exporter did not start within 10s")
	}
	return ""
}

// Target is one static scrape target with its labels.
type Target struct {
	Addr   string
	Labels map[string]string
}

// Start runs Prometheus scraping the targets every second in job "job"
// (labels kept as given) and returns its URL once ready. It is killed
// when the test ends.
func Start(t testing.TB, bin, job string, targets []Target) string {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "  - job_name: %s\n    static_configs:\n", job)
	for _, tg := range targets {
		labels, _ := json.Marshal(tg.Labels)
		fmt.Fprintf(&b, "      - targets: [%q]\n        labels: %s\n", tg.Addr, labels)
	}
	return StartWithScrapeConfigs(t, bin, b.String())
}

// StartWithScrapeConfigs runs Prometheus with the given YAML list of
// scrape_configs (each item indented by two spaces) and rule files,
// scraping and evaluating every second, and returns its URL once ready.
func StartWithScrapeConfigs(t testing.TB, bin, scrapeConfigs string, ruleFiles ...string) string {
	t.Helper()
	dir := t.TempDir()
	cfg := "global:\n  scrape_interval: 1s\n  scrape_timeout: 900ms\n  evaluation_interval: 1s\n"
	if len(ruleFiles) > 0 {
		cfg += "rule_files:\n"
		for _, f := range ruleFiles {
			cfg += fmt.Sprintf("  - %q\n", f)
		}
	}
	cfg += "scrape_configs:\n" + scrapeConfigs
	cfgPath := filepath.Join(dir, "prometheus.yml")
	require.NoError(t, os.WriteFile(cfgPath, []byte(cfg), 0o600))
	// The port is free when chosen but released before Prometheus binds
	// it; with many test packages in parallel another socket takes it now
	// and then, so a bind failure is retried on a new port.
	var err error
	for attempt := range 3 {
		var base string
		if base, err = startPrometheus(t, bin, cfgPath, filepath.Join(dir, strconv.Itoa(attempt))); err == nil {
			return base
		}
		if !strings.Contains(err.Error(), "address already in use") {
			break
		}
	}
	t.Fatal(err)
	return ""
}

func startPrometheus(t testing.TB, bin, cfgPath, dir string) (string, error) {
	port, err := redistest.FreePort()
	if err != nil {
		return "", err
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	logPath := dir + ".log"
	logFile, err := os.Create(logPath)
	if err != nil {
		return "", err
	}
	defer logFile.Close()

	cmd := exec.Command(bin, "--config.file="+cfgPath, "--storage.tsdb.path="+dir,
		"--web.listen-address="+addr, "--log.level=warn")
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return "", err
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	kill := func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-exited
	}

	base := "http://" + addr
	var last error
	err = wait.PollUntilContextTimeout(context.Background(), 200*time.Millisecond, 60*time.Second, true, func(ctx context.Context) (bool, error) {
		select {
		case <-exited:
			logs, _ := os.ReadFile(logPath)
			return false, fmt.Errorf("prometheus exited during start:\n%s", logs)
		default:
		}
		resp, err := http.Get(base + "/-/ready")
		if last = err; err != nil {
			return false, nil
		}
		resp.Body.Close()
		last = fmt.Errorf("/-/ready: %s", resp.Status)
		return resp.StatusCode == http.StatusOK, nil
	})
	if err != nil {
		kill()
		if errors.Is(err, context.DeadlineExceeded) {
			return "", fmt.Errorf("prometheus not ready within 60s: %v", last)
		}
		return "", err
	}
	t.Cleanup(func() {
		kill()
		if t.Failed() {
			logs, _ := os.ReadFile(logPath)
			t.Logf("prometheus log:\n%s", logs)
		}
	})
	return base, nil
}

// Query runs an instant query and returns how many series it returned,
// or the error Prometheus reported.
func Query(base, expr string) (int, error) {
	return count(base + "/api/v1/query?query=" + url.QueryEscape(expr))
}

// QueryRange runs a range query, as a dashboard panel does, and returns
// how many series have at least one sample that is a number (NaN, as
// histogram_quantile gives over an empty window, does not count).
func QueryRange(base, expr string, start, end time.Time, step time.Duration) (int, error) {
	q := url.Values{"query": {expr}, "start": {strconv.FormatInt(start.Unix(), 10)},
		"end": {strconv.FormatInt(end.Unix(), 10)}, "step": {step.String()}}
	return count(base + "/api/v1/query_range?" + q.Encode())
}

func count(u string) (int, error) {
	var data struct {
		Result json.RawMessage `json:"result"`
	}
	if err := get(u, &data); err != nil {
		return 0, err
	}
	var series []struct {
		Value  []any   `json:"value"`
		Values [][]any `json:"values"`
	}
	if err := json.Unmarshal(data.Result, &series); err != nil {
		return 1, nil // a scalar or string result
	}
	n := 0
	for _, s := range series {
		values := s.Values
		if s.Value != nil {
			values = append(values, s.Value)
		}
		for _, v := range values {
			if len(v) == 2 && v[1] != "NaN" {
				n++
				break
			}
		}
	}
	return n, nil
}

// Rule is one recording or alerting rule as Prometheus evaluates it.
type Rule struct {
	Name      string `json:"name"`
	Health    string `json:"health"`
	LastError string `json:"lastError"`
	State     string `json:"state"` // alerting rules: inactive, pending, firing
}

// Rules lists every rule of the loaded rule files with its health.
func Rules(base string) ([]Rule, error) {
	var data struct {
		Groups []struct {
			Rules []Rule `json:"rules"`
		} `json:"groups"`
	}
	if err := get(base+"/api/v1/rules", &data); err != nil {
		return nil, err
	}
	var out []Rule
	for _, g := range data.Groups {
		out = append(out, g.Rules...)
	}
	return out, nil
}

// get decodes the data of a Prometheus API answer, or returns its error.
func get(u string, data any) error {
	resp, err := http.Get(u)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var body struct {
		Status string          `json:"status"`
		Error  string          `json:"error"`
		Data   json.RawMessage `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return err
	}
	if body.Status != "success" {
		return fmt.Errorf("%s", body.Error)
	}
	return json.Unmarshal(body.Data, data)
}
