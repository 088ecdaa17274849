// Package exporter is the `redis-autoscaler exporter` command: it wires
// targets (flags, Kubernetes discovery), the collector and the web server.
package exporter

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime"
	"runtime/debug"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	toolkit "github.com/prometheus/exporter-toolkit/web"

	"github.com/redis-autoscaler/redis-autoscaler/exporter/collector"
	"github.com/redis-autoscaler/redis-autoscaler/exporter/discovery"
	"github.com/redis-autoscaler/redis-autoscaler/exporter/engine"
	"github.com/redis-autoscaler/redis-autoscaler/exporter/scraper"
	"github.com/redis-autoscaler/redis-autoscaler/exporter/target"
	"github.com/redis-autoscaler/redis-autoscaler/exporter/web"
)

// Version is set at build time with -ldflags.
var Version = "dev"

// Main runs the exporter until ctx ends; it returns a process exit code.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cfg, err := ParseFlags(args, osGetenv, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "exporter:", err)
		return 2
	}
	if cfg.PrintedVersion {
		fmt.Fprintln(stdout, "redis-autoscaler", Version)
		return 0
	}
	logger := newLogger(cfg, stderr)
	if err := Run(ctx, cfg, logger, nil); err != nil {
		logger.Error("exporter stopped", "err", err)
		return 1
	}
	return 0
}

func newLogger(cfg *Config, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: slog.LevelInfo}
	switch strings.ToLower(cfg.LogLevel) {
	case "debug":
		opts.Level = slog.LevelDebug
	case "warn", "warning":
		opts.Level = slog.LevelWarn
	case "error":
		opts.Level = slog.LevelError
	}
	if cfg.Debug {
		opts.Level = slog.LevelDebug
	}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// Run serves until ctx ends. When ready is not nil it receives the bound
// listen address once the server accepts connections (tests, make run).
func Run(ctx context.Context, cfg *Config, logger *slog.Logger, ready chan<- string) error {
	scraper.SetLogger(logger)
	creds := target.Credentials{User: cfg.User, Password: cfg.Password}
	if cfg.PasswordFile != "" && cfg.Password == "" {
		pw, perTarget, err := target.LoadPasswordFile(cfg.PasswordFile)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			// An optional Secret that is not there (the bundle mounts one
			// for Redis that needs no password).
			logger.Warn("password file does not exist; connecting without a password", "file", cfg.PasswordFile)
		case err != nil:
			return err
		}
		creds.Password, creds.PerTarget = pw, perTarget
	}
	tlsConfig, err := target.TLSOptions{
		CAFile: cfg.TLSCAFile, CertFile: cfg.TLSCertFile, KeyFile: cfg.TLSKeyFile,
		ServerName: cfg.TLSServerName, SkipVerify: cfg.TLSSkipVerify,
	}.Config()
	if err != nil {
		return err
	}

	static := make([]target.Target, 0, len(cfg.Addrs.values))
	for _, a := range cfg.Addrs.values {
		t, err := target.Parse(a)
		if err != nil {
			return err
		}
		static = append(static, creds.Apply(t))
	}
	targets := func() []target.Target { return static }
	kube := cfg.KubeSelector != "" || cfg.KubeNamespace != ""
	if kube {
		pods, err := startDiscovery(ctx, cfg, logger)
		if err != nil {
			return err
		}
		targets = func() []target.Target {
			found := pods.Targets()
			out := make([]target.Target, 0, len(static)+len(found))
			out = append(out, static...)
			for _, t := range found {
				out = append(out, creds.Apply(t))
			}
			return out
		}
	}

	extras := scraper.Extras{Slowlog: cfg.Slowlog, LatencyHistogram: cfg.LatencyHistogram && !cfg.ExcludeLatencyHistogram,
		ClientName: clientName(cfg.SetClientName), PingOnConnect: cfg.PingOnConnect,
		Config: cfg.ConfigMetrics && cfg.ConfigCommand != "-", ConfigCommand: cfg.ConfigCommand, Keys: cfg.Keys,
		Scripts: cfg.Scripts, ScriptReadOnly: cfg.ScriptReadOnly, ClientList: cfg.ClientList,
		EmptyDatabases: cfg.EmptyDBs, SkipKeysOnMaster: cfg.SkipKeysMaster,
		KeyGroups: cfg.KeyGroups, MaxDistinctKeyGroups: cfg.MaxDistinctKeyGroups, IsCluster: cfg.IsCluster}
	if !cfg.RedactConfig {
		logger.Warn("--redact-config-metrics=false is ignored: settings holding secrets are never exported")
	}
	pool := engine.NewPool(tlsConfig, cfg.ConnectionTimeout).WithExtras(extras)
	defer pool.Close()
	scrapePool := engine.NewPool(tlsConfig, cfg.ConnectionTimeout).WithLimit(cfg.MaxScrapeTargets).WithExtras(extras)
	defer scrapePool.Close()
	col := collector.New(targets, pool, collector.Options{
		Namespace: cfg.Namespace, KubernetesLabels: kube, Concurrency: cfg.Concurrency,
		Timeout: cfg.ConnectionTimeout, Deadline: cfg.ScrapeTimeout, MaxLabelValues: cfg.MaxLabelValues, Logger: logger,
		SystemMetrics: cfg.SystemMetrics, InstanceRoleLabel: cfg.InstanceRoleLabel, ClientPortLabel: cfg.ClientPort, SentinelPeerInfo: cfg.SentinelPeers,
	})

	self := prometheus.NewRegistry()
	self.MustRegister(col.SelfMetrics()...)
	self.MustRegister(buildInfo(cfg.Namespace))
	scrapeErrors := prometheus.NewCounter(prometheus.CounterOpts{
		Namespace: cfg.Namespace, Name: "target_scrape_request_errors_total",
		Help: "/scrape requests refused: no or a bad target, or one --scrape.allowed-targets does not allow.",
	})
	self.MustRegister(scrapeErrors)
	if !cfg.RedisOnly {
		goCollector := collectors.NewGoCollector()
		if cfg.GoRuntimeMetrics {
			goCollector = collectors.NewGoCollector(collectors.WithGoCollectorRuntimeMetrics(collectors.MetricsAll))
		}
		self.MustRegister(goCollector, collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	}
	var cluster *web.ClusterDiscovery
	if cfg.IsCluster {
		cluster = &web.ClusterDiscovery{Seeds: static, Hostnames: cfg.ClusterHostnames}
	}
	handler, err := web.NewHandler(web.Config{
		Cluster:   cluster,
		Collector: col, ScrapePool: scrapePool, Credentials: creds, AllowedTargets: cfg.AllowedTargets, Self: self,
		DisableScrape: cfg.DisableScrape, ScrapeErrors: scrapeErrors, ClusterPool: pool,
		MetricsPath: cfg.MetricsPath, Logger: logger, Version: Version, ScrapeTimeout: cfg.ScrapeTimeout,
	})
	if err != nil {
		return err
	}

	go expireIdle(ctx, scrapePool)
	return serve(ctx, cfg, handler, logger, ready)
}

func startDiscovery(ctx context.Context, cfg *Config, logger *slog.Logger) (*discovery.Pods, error) {
	var kc discovery.Config
	var err error
	if cfg.KubeConfig != "" {
		kc, err = discovery.LoadKubeconfig(cfg.KubeConfig)
	} else {
		kc, err = discovery.InClusterConfig()
	}
	if err != nil {
		return nil, fmt.Errorf("kubernetes client config: %w", err)
	}
	pods, err := discovery.NewForConfig(kc, discovery.Options{
		Namespace: cfg.KubeNamespace, Selector: cfg.KubeSelector, Port: cfg.KubePort, TLS: cfg.KubeTLS, Logger: logger,
	})
	if err != nil {
		return nil, err
	}
	if err := pods.Start(ctx); err != nil {
		return nil, err
	}
	return pods, nil
}

// expireIdle drops /scrape connections Prometheus no longer asks for.
//
// A loop of its own rather than wait.UntilWithContext, the idiom elsewhere
// in the module: this package is linked into the lean cmd/redis-exporter,
// whose TestImportGraphIsLean forbids k8s.io/apimachinery (its package
// initialisers alone cost ~6 MB of RSS in every Redis pod's sidecar).
func expireIdle(ctx context.Context, pool *engine.Pool) {
	tick := time.NewTicker(time.Minute)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			pool.Expire(10 * time.Minute)
		}
	}
}

func serve(ctx context.Context, cfg *Config, handler http.Handler, logger *slog.Logger, ready chan<- string) error {
	l, err := net.Listen("tcp", cfg.ListenAddress)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.ListenAddress, err)
	}
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second}
	webConfig := cfg.WebConfigFile
	if cfg.Web.set() {
		dir, err := os.MkdirTemp("", "redis-exporter-web-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		if webConfig, err = cfg.Web.webConfigFile(dir); err != nil {
			l.Close()
			return err
		}
	}
	flags := &toolkit.FlagConfig{
		WebListenAddresses: &[]string{cfg.ListenAddress},
		WebSystemdSocket:   new(bool),
		WebConfigFile:      &webConfig,
	}
	errc := make(chan error, 1)
	go func() { errc <- toolkit.Serve(l, srv, flags, logger) }()
	logger.Info("exporter listening", "address", l.Addr().String(), "metrics", cfg.MetricsPath)
	if ready != nil {
		ready <- l.Addr().String()
	}
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
		shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdownCtx)
		return nil
	}
}

// buildInfo is <ns>_exporter_build_info, as redis_exporter has it: the
// version, and the commit and build time Go recorded, if any.
func buildInfo(namespace string) prometheus.Collector {
	commit, date := "", ""
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				commit = s.Value
			case "vcs.time":
				date = s.Value
			}
		}
	}
	g := prometheus.NewGauge(prometheus.GaugeOpts{
		Namespace: namespace, Name: "exporter_build_info",
		Help:        "Build information of the exporter; always 1.",
		ConstLabels: prometheus.Labels{"version": Version, "commit_sha": commit, "build_date": date, "golang_version": runtime.Version()},
	})
	g.Set(1)
	return g
}

// clientName is the connection name with --set-client-name, as
// redis_exporter names its connections.
func clientName(set bool) string {
	if set {
		return "redis_exporter"
	}
	return ""
}
