package scaler_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// controllerGen is pinned: another version would drift the generated YAML.
const controllerGen = "sigs.k8s.io/controller-tools/cmd/controller-gen@v0.19.0"

// The CRD and RBAC in deploy/ are what `make manifests` generates from the
// markers; this fails when someone changes the types and forgets.
func TestManifestsUpToDate(t *testing.T) {
	if testing.Short() {
		t.Skip("runs controller-gen")
	}
	root, err := filepath.Abs("..")
	require.NoError(t, err)
	tmp := t.TempDir()
	cmd := exec.Command("go", "run", controllerGen,
		"crd:crdVersions=v1", "rbac:roleName=redis-autoscaler-scaler", "paths=./scaler/...",
		"output:crd:artifacts:config="+filepath.Join(tmp, "crd"),
		"output:rbac:artifacts:config="+filepath.Join(tmp, "rbac"))
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		if _, lookErr := exec.LookPath("go"); lookErr != nil {
			t.Skipf("controller-gen cannot be run (no go command): %v", lookErr)
		}
		t.Fatalf("controller-gen: %v\n%s", err, out)
	}
	compareDir(t, filepath.Join(tmp, "crd"), filepath.Join(root, "deploy", "crd"))
	compareDir(t, filepath.Join(tmp, "rbac"), filepath.Join(root, "deploy", "rbac", "scaler"))
}

func compareDir(t *testing.T, generated, committed string) {
	t.Helper()
	entries, err := os.ReadDir(generated)
	require.NoError(t, err)
	require.NotEmpty(t, entries)
	for _, e := range entries {
		want, err := os.ReadFile(filepath.Join(generated, e.Name()))
		require.NoError(t, err)
		got, err := os.ReadFile(filepath.Join(committed, e.Name()))
		require.NoErrorf(t, err, "%s missing: run make manifests", e.Name())
		require.Equalf(t, string(want), string(got), "%s drifted from the markers: run make manifests", filepath.Join(committed, e.Name()))
	}
}
