package cluster_test

import (
	"os"
	"testing"

	"github.com/redis-autoscaler/redis-autoscaler/test/cluster"
)

// One cluster serves every test of the package; each test uses its own
// namespace. Main stops the cluster after the last test.
//
// The test binary doubles as a stand-in for the redis-autoscaler binary
// (see fakeAutoscaler), so the pod runner's handling of this project's
// image is tested without depending on the real program.
func TestMain(m *testing.M) {
	if os.Getenv(fakeAutoscalerEnv) == "1" {
		os.Exit(fakeAutoscaler(os.Args[1:]))
	}
	exe, err := os.Executable()
	if err != nil {
		panic(err)
	}
	os.Setenv("REDIS_AUTOSCALER_BIN", exe)
	cluster.Main(m)
}
