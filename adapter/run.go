// Package adapter is the `redis-autoscaler adapter` command: a
// custom.metrics.k8s.io API server (sigs.k8s.io/custom-metrics-apiserver)
// serving Redis load signals to the HorizontalPodAutoscaler.
package adapter

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/spf13/pflag"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/dynamic"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/scale"
	"k8s.io/component-base/metrics/legacyregistry"
	"k8s.io/klog/v2"
	basecmd "sigs.k8s.io/custom-metrics-apiserver/pkg/cmd"
	"sigs.k8s.io/custom-metrics-apiserver/pkg/dynamicmapper"
	cmprovider "sigs.k8s.io/custom-metrics-apiserver/pkg/provider"

	"github.com/redis-autoscaler/redis-autoscaler/adapter/embedded"
	"github.com/redis-autoscaler/redis-autoscaler/adapter/external"
	"github.com/redis-autoscaler/redis-autoscaler/adapter/hpastate"
	"github.com/redis-autoscaler/redis-autoscaler/adapter/podcache"
	"github.com/redis-autoscaler/redis-autoscaler/adapter/promsource"
	"github.com/redis-autoscaler/redis-autoscaler/adapter/provider"
	"github.com/redis-autoscaler/redis-autoscaler/adapter/servingcert"
	"github.com/redis-autoscaler/redis-autoscaler/adapter/source"
	"github.com/redis-autoscaler/redis-autoscaler/adapter/upstream"
	"github.com/redis-autoscaler/redis-autoscaler/exporter/scraper"
	"github.com/redis-autoscaler/redis-autoscaler/exporter/target"
)

// config holds the adapter's own flags; the API-server flags (--secure-port,
// --cert-dir, --lister-kubeconfig, authn/authz) are the library's.
type config struct {
	source       string
	interval     time.Duration
	window       time.Duration
	maxStaleness time.Duration
	quantile     float64
	podSelector  string
	namespace    string
	concurrency  int

	redisPort         int
	redisUser         string
	redisPasswordFile string
	redisTLS          bool
	tls               target.TLSOptions
	logFormat         string
	logLevel          string

	prometheus promsource.Options
	upstream   upstream.Options
	cert       servingcert.Options
}

func (c *config) addFlags(fs *pflag.FlagSet) {
	fs.StringVar(&c.source, "source", "embedded", "Where values come from: embedded (the adapter scrapes Redis itself) or prometheus")
	fs.DurationVar(&c.interval, "interval", 5*time.Second, "Embedded source: scrape interval")
	fs.DurationVar(&c.window, "window", time.Minute, "Embedded source: span of samples per pod that ops/s and response time are computed over")
	fs.DurationVar(&c.maxStaleness, "max-staleness", 0, "Values older than this are never served (default 3 scrape intervals)")
	fs.Float64Var(&c.quantile, "response-time-quantile", 0.99, "Quantile of probe round trips over the window served as redis_response_time_seconds")
	fs.StringVar(&c.podSelector, "pod-selector", "", "Also scrape pods matching this label selector (besides those behind HPAs using our metrics)")
	fs.StringVar(&c.namespace, "namespace", "", "Namespace of --pod-selector (default: all)")
	fs.IntVar(&c.concurrency, "scrape-concurrency", 64, "Pods scraped at once")
	fs.IntVar(&c.redisPort, "redis.port", 0, "Redis port of pods (default: the container port named redis, else 6379)")
	fs.StringVar(&c.redisUser, "redis.user", "", "Redis ACL user")
	fs.StringVar(&c.redisPasswordFile, "redis.password-file", "", "File holding the Redis password (a mounted Secret), or the exporter's JSON map of address (redis://IP:port) to password")
	fs.BoolVar(&c.redisTLS, "redis.tls", false, "Connect to Redis with TLS")
	fs.StringVar(&c.tls.CAFile, "redis.tls-ca-cert-file", "", "CA certificate to verify Redis servers")
	fs.StringVar(&c.tls.CertFile, "redis.tls-client-cert-file", "", "Client certificate for Redis")
	fs.StringVar(&c.tls.KeyFile, "redis.tls-client-key-file", "", "Client key for Redis")
	fs.StringVar(&c.tls.ServerName, "redis.tls-server-name", "", "Server name to verify Redis certificates against")
	fs.BoolVar(&c.tls.SkipVerify, "redis.skip-tls-verification", false, "Do not verify Redis certificates")
	fs.StringVar(&c.logFormat, "log-format", "txt", "Log format: txt or json (the adapter's logs and the Kubernetes libraries' klog output alike)")
	fs.StringVar(&c.logLevel, "log-level", "info", "Log level: debug, info, warn or error (klog's -v still sets how much the libraries say)")
	c.prometheus.AddFlags(fs)
	c.upstream.AddFlags(fs)
	c.cert.AddFlags(fs)
}

// Main runs the adapter until ctx ends and returns an exit code.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if err := run(ctx, args, stderr); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return 0
		}
		fmt.Fprintln(stderr, "adapter:", err)
		return 1
	}
	return 0
}

func run(ctx context.Context, args []string, stderr io.Writer) error {
	// Discovery refreshes every minute so a CRD installed later is found.
	base := &basecmd.AdapterBase{Name: "redis-autoscaler-adapter", DiscoveryInterval: time.Minute}
	var cfg config
	fs := base.Flags()
	fs.SetOutput(stderr)
	cfg.addFlags(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	logger, err := newLogger(cfg.logFormat, cfg.logLevel, stderr)
	if err != nil {
		return err
	}
	// One log: the libraries' klog lines go through the same handler, in
	// the same format.
	klog.SetSlogLogger(logger)
	scraper.SetLogger(logger)
	useKubeconfigEnv(base)
	cfg.cert.Dir, cfg.cert.Logger = base.SecureServing.ServerCert.CertDirectory, logger
	if err := cfg.cert.Validate(); err != nil {
		return err
	}

	mapper, err := base.RESTMapper()
	if err != nil {
		return err
	}
	// The library builds its mapper once; without this refresh a CRD
	// installed after start (RedisReplicationGroup) would never be found.
	if m, ok := mapper.(*dynamicmapper.RegeneratingDiscoveryRESTMapper); ok {
		go m.RunUntil(ctx.Done())
	}
	informers, err := base.Informers()
	if err != nil {
		return err
	}
	// Every pod of the cluster is cached; keep only what is read (about
	// 10 KiB → 2.7 KiB per pod, BenchmarkPodCache).
	if err := informers.Core().V1().Pods().Informer().SetTransform(podcache.Strip); err != nil {
		return err
	}
	// One lister for every reader, remembering which pods a selector
	// matched until a pod of that namespace changes.
	pods, err := podcache.NewSelections(informers.Core().V1().Pods().Lister(), informers.Core().V1().Pods().Informer())
	if err != nil {
		return err
	}
	dyn, err := base.DynamicClient()
	if err != nil {
		return err
	}
	creds, err := loadCredentials(cfg.redisUser, cfg.redisPasswordFile, logger)
	if err != nil {
		return err
	}
	tlsConfig, err := cfg.tls.Config()
	if err != nil {
		return err
	}
	src, err := cfg.newSource(ctx, base, pods, creds, tlsConfig, logger)
	if err != nil {
		return err
	}
	metrics := provider.NewMetrics()
	for _, c := range metrics.Collectors() {
		legacyregistry.RawMustRegister(c)
	}
	// Asking for the lister before Run makes the base start the informer.
	legacyregistry.RawMustRegister(hpastate.New(informers.Autoscaling().V2().HorizontalPodAutoscalers().Lister()))
	prov := &provider.Provider{
		Source:  src,
		Pods:    pods,
		Objects: &provider.Objects{StatefulSets: informers.Apps().V1().StatefulSets().Lister(), Dynamic: dyn},
		Metrics: metrics,
	}
	var served cmprovider.CustomMetricsProvider = prov
	if cfg.upstream.URL != "" {
		// Only one server can own v1beta1.custom.metrics.k8s.io: what we do
		// not serve goes to the adapter that was there before us.
		cfg.upstream.Logger = logger
		up, err := upstream.New(cfg.upstream)
		if err != nil {
			return err
		}
		up.Start(ctx)
		served = upstream.Combine(prov, source.Names, up)
	}
	if cfg.cert.Mode == servingcert.ModeSelfManaged {
		clientConfig, err := base.ClientConfig()
		if err != nil {
			return err
		}
		certFile, keyFile, err := servingcert.Start(ctx, clientConfig, cfg.cert)
		if err != nil {
			return err
		}
		// The API server reloads these files when the rotator renews them.
		base.SecureServing.ServerCert.CertKey.CertFile = certFile
		base.SecureServing.ServerCert.CertKey.KeyFile = keyFile
	}
	// External metrics (Redis queues) are always served; whether the API
	// server routes external.metrics.k8s.io here is the APIService's call
	// (deploy/components/external-metrics), as only one server can own it.
	ext := external.New(external.Options{
		Resolve:     &external.KubeResolve{Pods: pods, Dynamic: dyn, Port: cfg.redisPort, TLS: cfg.redisTLS},
		Credentials: creds, TLS: cfg.redisTLS, TLSConfig: tlsConfig, Interval: cfg.interval,
	})
	defer ext.Close()
	// Providers must be registered before Config/Server/Run, or OpenAPI
	// fails with "cannot find model definition".
	base.WithCustomMetrics(served)
	base.WithExternalMetrics(ext)
	logger.Info("adapter starting", "source", cfg.source, "metrics", source.Names, "external", external.Names)
	return base.Run(ctx)
}

// useKubeconfigEnv makes $KUBECONFIG the default of the three kubeconfig
// flags, as for kubectl and the other commands; without it the library
// only knows the in-cluster configuration.
func useKubeconfigEnv(base *basecmd.AdapterBase) {
	path := os.Getenv("KUBECONFIG")
	if path == "" {
		return
	}
	if base.RemoteKubeConfigFile == "" {
		base.RemoteKubeConfigFile = path
	}
	if base.Authentication.RemoteKubeConfigFile == "" {
		base.Authentication.RemoteKubeConfigFile = path
	}
	if base.Authorization.RemoteKubeConfigFile == "" {
		base.Authorization.RemoteKubeConfigFile = path
	}
}

// newSource builds the configured value source and starts it.
// newLogger is the adapter's one logger.
func newLogger(format, level string, w io.Writer) (*slog.Logger, error) {
	opts := &slog.HandlerOptions{}
	switch strings.ToLower(level) {
	case "debug":
		opts.Level = slog.LevelDebug
	case "info", "":
		opts.Level = slog.LevelInfo
	case "warn", "warning":
		opts.Level = slog.LevelWarn
	case "error":
		opts.Level = slog.LevelError
	default:
		return nil, fmt.Errorf("--log-level %q: want debug, info, warn or error", level)
	}
	switch format {
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	case "txt", "text", "":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("--log-format %q: want txt or json", format)
}

// loadCredentials reads --redis.password-file: a password, or the
// exporter's JSON map of address to password (pods are looked up by
// redis://IP:port). A file that is not there means no password, said
// once; one that cannot be read or parsed stops the adapter.
func loadCredentials(user, file string, logger *slog.Logger) (target.Credentials, error) {
	creds := target.Credentials{User: user}
	if file == "" {
		return creds, nil
	}
	pw, perTarget, err := target.LoadPasswordFile(file)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		// An optional Secret that is not there (the bundle mounts one
		// for Redis that needs no password).
		logger.Warn("password file does not exist; connecting without a password", "file", file)
	case err != nil:
		return creds, fmt.Errorf("--redis.password-file: %w", err)
	case perTarget != nil:
		logger.Info("password file is a map of address to password; pods whose address is not in it get none",
			"file", file, "addresses", len(perTarget))
	}
	creds.Password, creds.PerTarget = pw, perTarget
	return creds, nil
}

func (cfg *config) newSource(ctx context.Context, base *basecmd.AdapterBase, pods corelisters.PodLister, creds target.Credentials, tlsConfig *tls.Config, logger *slog.Logger) (source.Source, error) {
	switch cfg.source {
	case "embedded":
	case "prometheus":
		cfg.prometheus.Logger = logger
		return promsource.New(cfg.prometheus)
	default:
		return nil, fmt.Errorf("--source %q: want embedded or prometheus", cfg.source)
	}
	informers, _ := base.Informers()
	clientConfig, err := base.ClientConfig()
	if err != nil {
		return nil, err
	}
	discovery, err := base.DiscoveryClient()
	if err != nil {
		return nil, err
	}
	mapper, _ := base.RESTMapper()
	scales, err := scale.NewForConfig(clientConfig, mapper, dynamic.LegacyAPIPathResolverFunc, scale.NewDiscoveryScaleKindResolver(discovery))
	if err != nil {
		return nil, err
	}
	resolver := &embedded.Resolver{
		HPAs:   informers.Autoscaling().V2().HorizontalPodAutoscalers().Lister(),
		Pods:   pods,
		Scales: scales,
		Mapper: mapper,
		Logger: logger,
	}
	if cfg.podSelector != "" {
		sel, err := labels.Parse(cfg.podSelector)
		if err != nil {
			return nil, fmt.Errorf("--pod-selector: %w", err)
		}
		resolver.Selector, resolver.Namespace = sel, cfg.namespace
	}
	src := embedded.New(resolver.PodsToScrape, embedded.Options{
		Interval: cfg.interval, Window: cfg.window, MaxStaleness: cfg.maxStaleness, Quantile: cfg.quantile,
		Concurrency: cfg.concurrency, Port: cfg.redisPort, TLS: cfg.redisTLS, TLSConfig: tlsConfig,
		Credentials: creds, Logger: logger,
	})
	for _, c := range src.Collectors() {
		legacyregistry.RawMustRegister(c)
	}
	go src.Run(ctx)
	return src, nil
}
