package engine

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// The engine knows nothing of Prometheus, and the adapter's embedded
// source reuses it without the exporter's metric emission.
func TestEngineAndAdapterImports(t *testing.T) {
	for pkg, forbidden := range map[string][]string{
		".": {"github.com/prometheus/client_golang", "github.com/redis-autoscaler/redis-autoscaler/exporter/collector"},
		"github.com/redis-autoscaler/redis-autoscaler/adapter/embedded": {"github.com/redis-autoscaler/redis-autoscaler/exporter/collector"},
	} {
		out, err := exec.Command("go", "list", "-deps", pkg).CombinedOutput()
		require.NoError(t, err, "%s", out)
		for _, dep := range strings.Fields(string(out)) {
			for _, f := range forbidden {
				require.False(t, dep == f || strings.HasPrefix(dep, f+"/"), "%s imports %s", pkg, dep)
			}
		}
	}
}
