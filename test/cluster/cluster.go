package cluster

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/redis-autoscaler/redis-autoscaler/test/testcerts"
)

// Options configure a cluster. The zero value is a working default.
type Options struct {
	// Dir holds certificates, etcd data, logs and pod data. Empty: a new
	// temp dir (on /dev/shm when available), removed by Stop.
	Dir string
	// KeepDir keeps Dir after Stop (for reading logs).
	KeepDir bool
	// NodeName of the single node; default "node-1".
	NodeName string
	// RedisAutoscalerBin is the binary run for pods whose image contains
	// "redis-autoscaler". Default: $REDIS_AUTOSCALER_BIN. Empty: such
	// pods stay Waiting with a warning event.
	RedisAutoscalerBin string
	// NoPodRunner disables the kubelet stand-in (pods stay Pending).
	NoPodRunner bool
	// Node is the kind of node: NodeRunner (default, the pod runner) or
	// NodeReal (kubelet, containerd, images; see node_real.go).
	Node string
	// Extra flags, appended last so they override the defaults.
	ExtraAPIServerArgs         []string
	ExtraControllerManagerArgs []string
	// Logger for the harness; default slog.Default().
	Logger *slog.Logger
}

// Cluster is a running local control plane plus the pod runner.
type Cluster struct {
	// Dir holds everything the cluster writes; logs are *.log in it.
	Dir string
	// Config is an admin (system:masters) client config; KubeconfigPath
	// is the same as a kubeconfig file.
	Config         *rest.Config
	KubeconfigPath string
	Client         kubernetes.Interface
	// CA signs the API server's serving cert and client certs; CAFile is
	// its PEM. FrontProxyCA signs the aggregator's client cert.
	CA, FrontProxyCA         *testcerts.CA
	CAFile, FrontProxyCAFile string
	NodeName                 string
	// Runner is the kubelet stand-in (nil with Options.NoPodRunner or a
	// real node).
	Runner *PodRunner
	// node is the real node's state (nil on the pod runner).
	node *realNode

	opts         Options
	netBase      int // 127.B.0.0/16 of pods and ClusterIPs
	bins         Binaries
	log          *slog.Logger
	apiserverURL string
	procs        processSet
	// restartAPIServer starts kube-apiserver as it first ran.
	restartAPIServer                   func(context.Context) error
	etcd, apiserver, controllerManager *process

	stopOnce   sync.Once
	runnerStop context.CancelFunc
	runnerDone chan struct{}
}

// StartContext starts etcd, kube-apiserver, kube-controller-manager, a Ready
// node and the pod runner, and returns once pods can be created in the
// default namespace. On error everything started so far is stopped.
func StartContext(ctx context.Context, opts Options) (_ *Cluster, err error) {
	bins, err := FindBinaries()
	if err != nil {
		return nil, err
	}
	c := &Cluster{opts: opts, bins: bins, log: opts.Logger, NodeName: opts.NodeName, netBase: randomNetBase()}
	if c.log == nil {
		c.log = slog.Default()
	}
	if c.NodeName == "" {
		c.NodeName = "node-1"
	}
	if c.opts.RedisAutoscalerBin == "" {
		c.opts.RedisAutoscalerBin = os.Getenv("REDIS_AUTOSCALER_BIN")
	}
	if c.Dir = opts.Dir; c.Dir == "" {
		root := tempRoot()
		removeStaleDirs(root, c.log)
		if c.Dir, err = os.MkdirTemp(root, "k8s-cluster-"); err != nil {
			return nil, err
		}
	} else if err := os.MkdirAll(c.Dir, 0o755); err != nil {
		return nil, err
	}
	if err := writeOwner(c.Dir); err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			c.log.Error("cluster start failed; logs kept", "dir", c.Dir, "err", err)
			c.opts.KeepDir = true
			c.Stop()
		}
	}()
	start := time.Now()
	switch opts.Node {
	case "", NodeRunner:
	case NodeReal:
		if err := c.prepareRealNode(ctx); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("unknown node kind %q (want %q or %q)", opts.Node, NodeRunner, NodeReal)
	}
	certs, err := c.writeCerts()
	if err != nil {
		return nil, fmt.Errorf("certificates: %w", err)
	}
	var etcdURL string
	err = retryPortClash(func() error {
		ports, err := freePorts(2)
		if err != nil {
			return err
		}
		etcdURL, err = c.startEtcd(ctx, ports[0], ports[1])
		return err
	}, func() { c.etcd.stop(time.Second) })
	if err != nil {
		return nil, err
	}
	err = retryPortClash(func() error {
		ports, err := freePorts(1)
		if err != nil {
			return err
		}
		return c.startAPIServer(ctx, etcdURL, ports[0], certs)
	}, func() { c.apiserver.stop(time.Second) })
	if err != nil {
		return nil, err
	}
	c.KubeconfigPath = filepath.Join(c.Dir, "admin.kubeconfig")
	if err := writeKubeconfig(c.KubeconfigPath, "admin", "default", c.Config); err != nil {
		return nil, err
	}
	if err := c.startControllerManager(certs); err != nil {
		return nil, err
	}
	if c.node != nil {
		if err := c.waitDefaultServiceAccount(ctx); err != nil {
			return nil, err
		}
		if err := c.startRealNode(ctx); err != nil {
			return nil, err
		}
		c.log.Info("cluster ready (real node)", "apiserver", c.apiserverURL, "kubeconfig", c.KubeconfigPath,
			"took", time.Since(start).Round(time.Millisecond), "steps", c.node.timings())
		return c, nil
	}
	if err := c.createNode(ctx); err != nil {
		return nil, err
	}
	if err := c.waitDefaultServiceAccount(ctx); err != nil {
		return nil, err
	}
	if !opts.NoPodRunner {
		if err := c.startRunner(ctx); err != nil {
			return nil, err
		}
	}
	c.log.Info("cluster ready", "apiserver", c.apiserverURL, "kubeconfig", c.KubeconfigPath, "took", time.Since(start).Round(time.Millisecond))
	return c, nil
}

// waitDefaultServiceAccount waits for the serviceaccount controller: until
// it creates "default", every pod in a namespace is refused.
func (c *Cluster) waitDefaultServiceAccount(ctx context.Context) error {
	var last error
	err := wait.PollUntilContextTimeout(ctx, pollInterval, 60*time.Second, true, func(ctx context.Context) (bool, error) {
		if c.controllerManager.exited() {
			return false, fmt.Errorf("kube-controller-manager exited: %v\n%s", c.controllerManager.err,
				tailFile(filepath.Join(c.Dir, "kube-controller-manager.log"), 30))
		}
		_, last = c.Client.CoreV1().ServiceAccounts("default").Get(ctx, "default", metav1.GetOptions{})
		return last == nil, nil
	})
	if err != nil {
		return fmt.Errorf("wait for ServiceAccount default/default: %w (last: %v)", err, last)
	}
	return nil
}

// WaitServiceAccount waits until the serviceaccount controller has created
// "default" in a (new) namespace, so pods can be created there.
func (c *Cluster) WaitServiceAccount(ctx context.Context, namespace string) error {
	var last error
	err := wait.PollUntilContextTimeout(ctx, pollInterval, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		_, last = c.Client.CoreV1().ServiceAccounts(namespace).Get(ctx, "default", metav1.GetOptions{})
		return last == nil, nil
	})
	if err != nil {
		return fmt.Errorf("wait for ServiceAccount %s/default: %w (last: %v)", namespace, err, last)
	}
	return nil
}

func (c *Cluster) startRunner(ctx context.Context) error {
	r, err := NewPodRunner(RunnerOptions{
		Config:             c.Config,
		NodeName:           c.NodeName,
		Dir:                filepath.Join(c.Dir, "pods"),
		RedisServer:        c.bins.RedisServer,
		RedisAutoscalerBin: c.opts.RedisAutoscalerBin,
		NetBase:            c.netBase,
		Logger:             c.log.With("component", "pod-runner"),
	})
	if err != nil {
		return err
	}
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	c.Runner, c.runnerStop, c.runnerDone = r, cancel, make(chan struct{})
	go func() {
		defer close(c.runnerDone)
		if err := r.Run(runCtx); err != nil && !errors.Is(err, context.Canceled) {
			c.log.Error("pod runner stopped", "err", err)
		}
	}()
	return r.WaitForSync(ctx)
}

// Stop stops the pod runner (and every pod process), then the control
// plane, each with SIGTERM and then SIGKILL to its process group. It is
// idempotent and safe to call from a cleanup after a failure.
func (c *Cluster) Stop() {
	c.stopOnce.Do(func() {
		start := time.Now()
		if c.runnerStop != nil {
			c.runnerStop()
			select {
			case <-c.runnerDone:
			case <-time.After(30 * time.Second):
				c.log.Error("pod runner did not stop in 30s")
			}
			c.Runner.stopAll()
		}
		c.procs.stopAll(3 * time.Second)
		c.stopRealNode()
		if !c.opts.KeepDir && c.opts.Dir == "" {
			if err := os.RemoveAll(c.Dir); err != nil {
				c.log.Warn("remove cluster dir", "dir", c.Dir, "err", err)
			}
		}
		c.log.Info("cluster stopped", "took", time.Since(start).Round(time.Millisecond))
	})
}

// PIDs returns the PID of every process the cluster ever started (control
// plane and pod processes, exited or not), to prove none outlives Stop.
func (c *Cluster) PIDs() []int {
	pids := c.procs.pids()
	if c.Runner != nil {
		pids = append(pids, c.Runner.PIDs()...)
	}
	return pids
}

// ControlPlanePIDs returns the PIDs of etcd, kube-apiserver and
// kube-controller-manager.
func (c *Cluster) ControlPlanePIDs() []int {
	return c.procs.pids()
}

// APIServerURL is the https URL of kube-apiserver.
func (c *Cluster) APIServerURL() string { return c.apiserverURL }

// tempRoot prefers /dev/shm: etcd fsyncs on every write and tmpfs makes that
// free.
func tempRoot() string {
	if st, err := os.Stat("/dev/shm"); err == nil && st.IsDir() {
		if f, err := os.CreateTemp("/dev/shm", ".probe-"); err == nil {
			f.Close()
			os.Remove(f.Name())
			return "/dev/shm"
		}
	}
	return os.TempDir()
}

func writeFile(path string, b []byte) error { return os.WriteFile(path, b, 0o600) }
