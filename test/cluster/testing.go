package cluster

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/redis-autoscaler/redis-autoscaler/test/prereq"
)

// Start starts a cluster for one test and stops it in t.Cleanup, which also
// runs when the test fails or panics. Logs are kept when the test failed.
func Start(t testing.TB, opts ...func(*Options)) *Cluster {
	t.Helper()
	var o Options
	for _, f := range opts {
		f(&o)
	}
	// A real node may wait for another test binary's node (one per host)
	// and, on a fresh machine, build the product's binaries for its image
	// with a cold Go cache beside a loaded test run (over 2 minutes seen).
	timeout := 2 * time.Minute
	if o.Node == NodeReal {
		timeout = 15 * time.Minute
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	c, err := StartContext(ctx, o)
	if err != nil {
		t.Fatalf("start cluster: %v", err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			c.opts.KeepDir = true
			t.Logf("cluster logs kept in %s", c.Dir)
		}
		c.Stop()
	})
	return c
}

var shared struct {
	once sync.Once
	c    *Cluster
	err  error
}

// Shared returns one cluster for every test of the package, started on first
// use. The package's TestMain must call Main so the cluster is stopped after
// the last test. Tests should work in their own namespaces (Namespace).
func Shared(t testing.TB) *Cluster {
	t.Helper()
	shared.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		shared.c, shared.err = StartContext(ctx, Options{})
	})
	if shared.err != nil {
		t.Fatalf("start shared cluster: %v", shared.err)
	}
	return shared.c
}

// Main runs the package's tests and then stops the shared cluster:
//
//	func TestMain(m *testing.M) { cluster.Main(m) }
//
// If a test panics, Main's stop does not run; every process still dies with
// the test binary through its parent-death signal.
func Main(m *testing.M, cleanups ...func()) {
	if os.Getenv("CLUSTER_DEBUG") != "" {
		slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug})))
	}
	code := m.Run()
	if shared.c != nil {
		if code != 0 {
			shared.c.opts.KeepDir = true
			fmt.Fprintf(os.Stderr, "shared cluster logs kept in %s\n", shared.c.Dir)
		}
		shared.c.Stop()
	}
	for _, f := range cleanups {
		f()
	}
	os.Exit(code)
}

// Namespace creates a namespace for one test, waits until pods can be
// created in it (its default ServiceAccount exists) and deletes it at the
// end of the test.
func (c *Cluster) Namespace(t testing.TB, prefix string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	ns, err := c.Client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{
		ObjectMeta: metav1.ObjectMeta{GenerateName: prefix + "-"},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create namespace: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		// Deletion is asynchronous (namespace controller); not waited for.
		_ = c.Client.CoreV1().Namespaces().Delete(ctx, ns.Name, metav1.DeleteOptions{})
	})
	if err := c.WaitServiceAccount(ctx, ns.Name); err != nil {
		t.Fatalf("namespace %s: default ServiceAccount: %v", ns.Name, err)
	}
	return ns.Name
}

// StartReal is Start with a real node (Options.Node = NodeReal). A missing
// prerequisite fails the test with the make target that provides it; only
// outside CI, on a machine without containerd at all, does it skip.
func StartReal(t *testing.T, opts ...func(*Options)) *Cluster {
	t.Helper()
	if _, err := FindNodeBinaries(); err != nil {
		if _, lerr := exec.LookPath("containerd"); lerr != nil {
			prereq.Missing(t, "no real node on this machine: %v", err)
			return nil
		}
		t.Fatalf("real node: %v", err)
	}
	start := time.Now()
	c := Start(t, append([]func(*Options){func(o *Options) { o.Node = NodeReal }}, opts...)...)
	t.Logf("real node up in %v: %s", time.Since(start).Round(100*time.Millisecond), c.node.timings())
	return c
}
