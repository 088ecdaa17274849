// Package scaler is the `redis-autoscaler scaler` program: a controller
// that applies a RedisReplicationGroup's replica count (written by the HPA
// through /scale) to the user's Redis StatefulSet, keeps exactly one
// master, attaches every other pod to it and switches over before a
// scale-down would remove the master.
package scaler

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/pflag"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/rest"
	"k8s.io/klog/v2"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/config"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/redis-autoscaler/redis-autoscaler/scaler/api/v1alpha1"
	"github.com/redis-autoscaler/redis-autoscaler/scaler/controller"
	"github.com/redis-autoscaler/redis-autoscaler/scaler/controller/cluster"
	"github.com/redis-autoscaler/redis-autoscaler/scaler/controller/group"
	"github.com/redis-autoscaler/redis-autoscaler/scaler/kube"
	"github.com/redis-autoscaler/redis-autoscaler/scaler/metrics"
)

// Options configure Run.
type Options struct {
	MetricsBindAddress      string // "0" disables
	HealthProbeBindAddress  string // "0" disables
	LeaderElect             bool
	LeaderElectionNamespace string
	// Namespace to watch; empty: all.
	Namespace string
	// Logger; the zero value discards.
	Logger logr.Logger
	// ResyncInterval of a settled group (default 10s).
	ResyncInterval time.Duration
	// AfterPromote and BeforeSwitchover are test hooks (see
	// group.Reconciler).
	AfterPromote, BeforeSwitchover func()
	// AfterSlotBatch is a test hook (see cluster.Reconciler).
	AfterSlotBatch func()
	// Registry receives the scaler's own metrics (nil: a new one); a
	// test running the scaler in its process reads them there.
	Registry *prometheus.Registry
}

// LeaderElectionID names the Lease two scaler replicas compete for.
const LeaderElectionID = "redis-autoscaler-scaler.redisautoscaler.io"

// Main runs the scaler with command-line args until ctx ends; it returns
// the process exit code.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := pflag.NewFlagSet("scaler", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	kubeconfig := fs.String("kubeconfig", "", "kubeconfig file (default: in-cluster, or $KUBECONFIG)")
	var o Options
	fs.StringVar(&o.MetricsBindAddress, "metrics-bind-address", ":8080", "address of /metrics (\"0\" disables)")
	fs.StringVar(&o.HealthProbeBindAddress, "health-probe-bind-address", ":8081", "address of /healthz and /readyz (\"0\" disables)")
	fs.BoolVar(&o.LeaderElect, "leader-elect", true, "elect a leader so several copies are safe")
	fs.StringVar(&o.LeaderElectionNamespace, "leader-election-namespace", "", "namespace of the leader election Lease (default: --namespace, else the pod's namespace in a cluster or the kubeconfig context's)")
	fs.StringVar(&o.Namespace, "namespace", "", "watch only this namespace (default all)")
	logFormat := fs.String("log-format", "txt", "log format: txt or json")
	debug := fs.Bool("debug", false, "debug logs")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return 0
		}
		return 2
	}
	level := slog.LevelInfo
	if *debug {
		level = slog.LevelDebug
	}
	var h slog.Handler
	switch *logFormat {
	case "txt", "text", "logfmt":
		h = slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level})
	case "json":
		h = slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: level})
	default:
		fmt.Fprintf(stderr, "unknown --log-format %q (txt or json)\n", *logFormat)
		return 2
	}
	o.Logger = logr.FromSlogHandler(h)
	cfg, ns, err := kube.RestConfig(*kubeconfig)
	if err != nil {
		o.Logger.Error(err, "kubeconfig")
		return 1
	}
	o.LeaderElectionNamespace = leaderElectionNamespace(o.LeaderElectionNamespace, o.Namespace, ns)
	if err := Run(ctx, cfg, o); err != nil {
		o.Logger.Error(err, "scaler stopped")
		return 1
	}
	return 0
}

var globalLoggersOnce sync.Once

// routeGlobalLoggers sends client-go's klog output (leader election, the
// event broadcaster) and controller-runtime's global logger to the same
// handler, so every line has one format. Both are process-global and not
// safe to replace while in use: the first scaler of the process sets them.
func routeGlobalLoggers(l logr.Logger) {
	globalLoggersOnce.Do(func() {
		klog.SetLogger(l)
		ctrl.SetLogger(l)
	})
}

// leaderElectionNamespace is where the Lease lives: the flag, else the one
// namespace watched, else the kubeconfig's (the pod's in a cluster).
// Without it, controller-runtime refuses to start out of cluster.
func leaderElectionNamespace(flag, watched, kubeconfig string) string {
	switch {
	case flag != "":
		return flag
	case watched != "":
		return watched
	default:
		return kubeconfig
	}
}

// Run runs the controller manager until ctx ends.
func Run(ctx context.Context, cfg *rest.Config, o Options) error {
	routeGlobalLoggers(o.Logger)
	skip := true
	mo := ctrl.Options{
		Scheme:                        kube.Scheme(),
		Logger:                        o.Logger,
		HealthProbeBindAddress:        o.HealthProbeBindAddress,
		LeaderElection:                o.LeaderElect,
		LeaderElectionID:              LeaderElectionID,
		LeaderElectionNamespace:       o.LeaderElectionNamespace,
		LeaderElectionReleaseOnCancel: true,
		// Several managers in one process (tests restart the scaler).
		Controller: config.Controller{SkipNameValidation: &skip},
		// /metrics is served by metricsServer, with the scaler's registry.
		Metrics: metricsserver.Options{BindAddress: "0"},
	}
	if o.Namespace != "" {
		mo.Cache = cache.Options{DefaultNamespaces: map[string]cache.Config{o.Namespace: {}}}
	}
	mgr, err := ctrl.NewManager(cfg, mo)
	if err != nil {
		return fmt.Errorf("manager: %w", err)
	}
	if err := mgr.AddHealthzCheck("healthz", healthz.Ping); err != nil {
		return err
	}
	if err := mgr.AddReadyzCheck("readyz", healthz.Ping); err != nil {
		return err
	}
	reg := o.Registry
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	if srv := metricsServer(o.MetricsBindAddress, reg); srv != nil {
		if err := mgr.Add(srv); err != nil {
			return err
		}
	}
	m := metrics.New(reg)
	fence := &controller.Fence{Client: mgr.GetClient(), Reader: mgr.GetAPIReader(), Identity: identity()}
	r := &group.Reconciler{
		Fence:            fence,
		Client:           mgr.GetClient(),
		APIReader:        mgr.GetAPIReader(),
		Recorder:         mgr.GetEventRecorderFor("redis-autoscaler-scaler"),
		Metrics:          m,
		ResyncInterval:   o.ResyncInterval,
		AfterPromote:     o.AfterPromote,
		BeforeSwitchover: o.BeforeSwitchover,
	}
	if err := r.SetupWithManager(mgr); err != nil {
		return fmt.Errorf("controller: %w", err)
	}
	if err := setupClusters(mgr, o, m, reg, fence); err != nil {
		return err
	}
	reg.MustRegister(metrics.NewGroupCollector(r.GroupStates))
	err = mgr.Start(ctx)
	// A clean stop hands the objects over at once; after a crash the
	// successor waits the Leases out.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	fence.ReleaseAll(rctx)
	return err
}

// identity names this scaler in the per-object Leases: the host (the
// pod's name) and a random suffix, so a restarted process is a new holder.
func identity() string {
	host, _ := os.Hostname()
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return host + "_" + hex.EncodeToString(b)
}

// setupClusters adds the RedisCluster reconciler when the API serves
// RedisClusters. An older install with only the RedisReplicationGroup CRD
// keeps working; the reconciler starts with the next scaler start after
// the CRD is installed.
func setupClusters(mgr ctrl.Manager, o Options, m *metrics.Metrics, reg prometheus.Registerer, fence *controller.Fence) error {
	gk := schema.GroupKind{Group: v1alpha1.GroupVersion.Group, Kind: "RedisCluster"}
	if _, err := mgr.GetRESTMapper().RESTMapping(gk, v1alpha1.GroupVersion.Version); err != nil {
		if meta.IsNoMatchError(err) {
			o.Logger.Info("the RedisCluster CRD is not installed: clusters are not managed", "error", err.Error())
			return nil
		}
		return fmt.Errorf("RedisCluster API: %w", err)
	}
	cr := &cluster.Reconciler{
		Client:         mgr.GetClient(),
		APIReader:      mgr.GetAPIReader(),
		Recorder:       mgr.GetEventRecorderFor("redis-autoscaler-scaler"),
		Metrics:        m,
		Cluster:        metrics.NewCluster(reg),
		ResyncInterval: o.ResyncInterval,
		AfterBatch:     o.AfterSlotBatch,
		Fence:          fence,
	}
	if err := cr.SetupWithManager(mgr); err != nil {
		return fmt.Errorf("cluster controller: %w", err)
	}
	return nil
}
