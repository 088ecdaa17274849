package discovery

import (
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/redis-autoscaler/redis-autoscaler/test/redistest"
)

func TestLoadKubeconfig(t *testing.T) {
	tf := redistest.NewTLS(t)
	dir := t.TempDir()
	b64 := func(path string) string {
		raw, err := os.ReadFile(path)
		require.NoError(t, err)
		return base64.StdEncoding.EncodeToString(raw)
	}
	require.NoError(t, os.WriteFile(filepath.Join(dir, "token"), []byte("from-file\n"), 0o600))
	cluster := `clusters:
- name: c
  cluster:
    server: https://127.0.0.1:6443/
    certificate-authority-data: ` + b64(tf.CA) + `
contexts:
- name: other
  context: {cluster: nowhere, user: nobody}
- name: here
  context: {cluster: c, user: u}
current-context: here
`
	for name, tc := range map[string]struct {
		user  string
		check func(t *testing.T, c Config)
		err   string
	}{
		"token": {user: "token: abc", check: func(t *testing.T, c Config) {
			assert.Equal(t, "abc", c.Token)
			assert.Equal(t, "https://127.0.0.1:6443", c.Server)
			assert.NotNil(t, c.TLS.RootCAs)
		}},
		"token file, relative to the kubeconfig": {user: "tokenFile: token", check: func(t *testing.T, c Config) {
			assert.Equal(t, filepath.Join(dir, "token"), c.TokenFile)
		}},
		"client certificate data": {user: "client-certificate-data: " + b64(tf.ClientCert) + "\n    client-key-data: " + b64(tf.ClientKey), check: func(t *testing.T, c Config) {
			assert.Len(t, c.TLS.Certificates, 1)
		}},
		"client certificate files": {user: "client-certificate: " + tf.ClientCert + "\n    client-key: " + tf.ClientKey, check: func(t *testing.T, c Config) {
			assert.Len(t, c.TLS.Certificates, 1)
		}},
		"exec plugins are refused":  {user: "exec: {command: aws}", err: "exec or auth-provider plugin"},
		"a certificate without key": {user: "client-certificate: " + tf.ClientCert, err: "client certificate"},
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(dir, "config")
			require.NoError(t, os.WriteFile(path, []byte(cluster+"users:\n- name: u\n  user:\n    "+tc.user+"\n"), 0o600))
			c, err := LoadKubeconfig(path)
			if tc.err != "" {
				assert.ErrorContains(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			tc.check(t, c)
		})
	}

	path := filepath.Join(dir, "missing-context")
	require.NoError(t, os.WriteFile(path, []byte(strings.Replace(cluster, "current-context: here", "current-context: gone", 1)), 0o600))
	_, err := LoadKubeconfig(path)
	assert.ErrorContains(t, err, `no context "gone"`)
	_, err = LoadKubeconfig(filepath.Join(dir, "absent"))
	assert.ErrorContains(t, err, "kubeconfig")
}
