package scaler_test

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/redis-autoscaler/redis-autoscaler/scaler"
	"github.com/redis-autoscaler/redis-autoscaler/scaler/kube"
)

func TestMainFlags(t *testing.T) {
	var stderr bytes.Buffer
	assert.Equal(t, 0, scaler.Main(context.Background(), []string{"--help"}, io.Discard, &stderr))
	for _, flag := range []string{"--kubeconfig", "--metrics-bind-address", "--health-probe-bind-address", "--leader-elect",
		"--leader-election-namespace", "--namespace", "--log-format"} {
		assert.Contains(t, stderr.String(), flag)
	}
	stderr.Reset()
	assert.Equal(t, 2, scaler.Main(context.Background(), []string{"--log-format", "xml"}, io.Discard, &stderr))
	assert.Contains(t, stderr.String(), "xml")
	assert.Equal(t, 2, scaler.Main(context.Background(), []string{"--no-such-flag"}, io.Discard, io.Discard))
}

// Out of cluster, the Lease goes where kubectl would look: the kubeconfig
// context's namespace, unless a flag says otherwise.
func TestLeaderElectionNamespace(t *testing.T) {
	dir := t.TempDir()
	write := func(name, ctxNamespace string) string {
		ns := ""
		if ctxNamespace != "" {
			ns = "\n    namespace: " + ctxNamespace
		}
		path := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(path, []byte(`apiVersion: v1
kind: Config
clusters:
- name: c
  cluster: {server: "https://127.0.0.1:1"}
users:
- name: u
  user: {token: t}
contexts:
- name: x
  context:
    cluster: c
    user: u`+ns+`
current-context: x
`), 0o600))
		return path
	}
	_, ns, err := kube.RestConfig(write("with-ns", "team-a"))
	require.NoError(t, err)
	assert.Equal(t, "team-a", ns)
	_, ns, err = kube.RestConfig(write("without-ns", ""))
	require.NoError(t, err)
	assert.Equal(t, "default", ns)
	for _, tt := range []struct{ flag, watched, kubeconfig, want string }{
		{"", "", "team-a", "team-a"},
		{"", "cache", "team-a", "cache"},
		{"leases", "cache", "team-a", "leases"},
	} {
		assert.Equal(t, tt.want, scaler.LeaderElectionNamespace(tt.flag, tt.watched, tt.kubeconfig), "%+v", tt)
	}
}
