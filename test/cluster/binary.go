package cluster

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
)

// BuildRedisAutoscaler builds this project's binary (./cmd/redis-autoscaler)
// into dir and returns its path, for RedisAutoscalerBin: pods of the
// project's image run it.
func BuildRedisAutoscaler(dir string) (string, error) {
	_, file, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(file), "..", "..")
	bin := filepath.Join(dir, "redis-autoscaler")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/redis-autoscaler")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build redis-autoscaler: %v\n%s", err, out)
	}
	return bin, nil
}
