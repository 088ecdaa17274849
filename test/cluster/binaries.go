package cluster

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// KubeVersion is the Kubernetes release whose control plane hack/build-k8s.sh
// builds. The cache directory is keyed by it so that a version bump never
// reuses stale binaries.
const KubeVersion = "v1.34.4"

// Binaries are the host executables the cluster runs.
type Binaries struct {
	KubeAPIServer         string
	KubeControllerManager string
	Etcd                  string
	RedisServer           string
}

// DefaultKubeBinDir is where hack/build-k8s.sh puts kube-apiserver and
// kube-controller-manager: outside the repo, so `git clean` and fresh
// checkouts keep the (slow to build) binaries.
func DefaultKubeBinDir() string {
	cache := os.Getenv("XDG_CACHE_HOME")
	if cache == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			home = os.TempDir()
		}
		cache = filepath.Join(home, ".cache")
	}
	return filepath.Join(cache, "redis-autoscaler", "k8s-"+KubeVersion, "bin")
}

// FindBinaries locates every executable, honouring KUBE_BIN_DIR for the
// Kubernetes ones. The error names the make target that provides what is
// missing, because that is the only fix a test author needs.
func FindBinaries() (Binaries, error) {
	dir := os.Getenv("KUBE_BIN_DIR")
	if dir == "" {
		dir = DefaultKubeBinDir()
	}
	var b Binaries
	var errs []error
	for _, k := range []struct {
		dst  *string
		name string
	}{{&b.KubeAPIServer, "kube-apiserver"}, {&b.KubeControllerManager, "kube-controller-manager"}} {
		p := filepath.Join(dir, k.name)
		if !isExecutable(p) {
			errs = append(errs, fmt.Errorf("%s not found in %s (set KUBE_BIN_DIR or run `make k8s-binaries`)", k.name, dir))
			continue
		}
		*k.dst = p
	}
	for _, k := range []struct {
		dst       *string
		name, pkg string
	}{{&b.Etcd, "etcd", "etcd-server"}, {&b.RedisServer, "redis-server", "redis-server"}} {
		p, err := lookPath(k.name)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s not found (Debian package %s; `make k8s-binaries` installs it)", k.name, k.pkg))
			continue
		}
		*k.dst = p
	}
	return b, errors.Join(errs...)
}

// lookPath also checks /usr/bin and /usr/sbin, which may be missing from PATH
// under some test runners.
func lookPath(name string) (string, error) {
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	for _, d := range []string{"/usr/bin", "/usr/sbin"} {
		if p := filepath.Join(d, name); isExecutable(p) {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s: not found", name)
}

func isExecutable(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir() && st.Mode()&0o111 != 0
}
