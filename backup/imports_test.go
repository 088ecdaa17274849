package backup_test

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// The backup command reads a group's Secrets and its hold condition, and
// talks to Redis; it needs the API types and the credentials package,
// never a reconciler or the scaler program (so a change to either cannot
// break a backup, and the binary's backup path links none of them).
func TestBackupImportsNoReconciler(t *testing.T) {
	const module = "github.com/redis-autoscaler/redis-autoscaler/"
	out, err := exec.Command("go", "list", "-deps", ".").CombinedOutput()
	require.NoError(t, err, "%s", out)
	deps := strings.Fields(string(out))
	require.Contains(t, deps, module+"scaler/credentials", "the check lists backup's dependencies")
	for _, dep := range deps {
		require.False(t, dep == module+"scaler/controller" || strings.HasPrefix(dep, module+"scaler/controller/"), "backup imports %s", dep)
		require.NotEqual(t, module+"scaler", dep, "backup imports the scaler program")
	}
}
