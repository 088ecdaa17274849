package main

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// The lean exporter never links the adapter's or the scaler's heavy
// libraries (they cost ~40 MB of RSS before the first scrape), nor
// k8s.io/apimachinery and client-go: their package initialisers alone cost
// ~6 MB, a third of a one-target exporter (pod discovery speaks plain
// HTTP to the API server instead).
func TestImportGraphIsLean(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").CombinedOutput()
	require.NoError(t, err, "%s", out)
	deps := strings.Fields(string(out))
	require.Contains(t, deps, "github.com/redis-autoscaler/redis-autoscaler/exporter")
	for _, dep := range deps {
		for _, heavy := range []string{"k8s.io/apiserver", "sigs.k8s.io/custom-metrics-apiserver", "sigs.k8s.io/controller-runtime",
			"k8s.io/apimachinery", "k8s.io/client-go", "k8s.io/api",
			"github.com/redis-autoscaler/redis-autoscaler/adapter", "github.com/redis-autoscaler/redis-autoscaler/scaler"} {
			require.False(t, dep == heavy || strings.HasPrefix(dep, heavy+"/"), "cmd/redis-exporter imports %s", dep)
		}
	}
}
