package cluster

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
)

// BuildRedisAutoscaler builds this project's binaries (./cmd/redis-autoscaler
// and the lean ./cmd/redis-exporter) into dir and returns the path of
// redis-autoscaler, for RedisAutoscalerBin: pods of the project's image run
// it, or the binary beside it that their command names.
func BuildRedisAutoscaler(dir string) (string, error) {
	root := repoRoot()
	bin := filepath.Join(dir, "redis-autoscaler")
	// Every command of the image, side by side (pods name theirs in
	// command:, e.g. the lean redis-exporter).
	cmd := exec.Command("go", "build", "-o", dir+string(filepath.Separator), "./cmd/redis-autoscaler", "./cmd/redis-exporter")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build redis-autoscaler: %v\n%s", err, out)
	}
	return bin, nil
}

// MainWithRedisAutoscaler is Main for packages whose pods run this
// project's image: it builds the binary into a temporary directory, points
// REDIS_AUTOSCALER_BIN at it, runs the tests and removes it.
func MainWithRedisAutoscaler(m *testing.M) {
	dir, err := os.MkdirTemp("", "redis-autoscaler-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	bin, err := BuildRedisAutoscaler(dir)
	if err != nil {
		os.RemoveAll(dir)
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Setenv("REDIS_AUTOSCALER_BIN", bin)
	Main(m, func() { os.RemoveAll(dir) })
}

// repoRoot is the checkout this package was built from.
func repoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}
