// Package dashboards_test checks the alert rules with Prometheus' own
// tool: the rule file is valid and each alert fires (and stays quiet) as
// alerts_test.yaml says.
package dashboards_test

import (
	"os/exec"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestAlertRules(t *testing.T) {
	out, err := exec.Command("promtool", "check", "rules", "alerts.yaml").CombinedOutput()
	require.NoError(t, err, "%s", out)
	out, err = exec.Command("promtool", "test", "rules", "alerts_test.yaml").CombinedOutput()
	require.NoError(t, err, "%s", out)
}
