package adapter

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/klog/v2"

	"github.com/redis-autoscaler/redis-autoscaler/exporter/target"
)

// --redis.password-file takes a password or the exporter's JSON map (used
// per pod address); a file that cannot be parsed stops the adapter rather
// than running it without a password.
func TestLoadCredentials(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(body), 0o600))
		return p
	}
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, nil))

	c, err := loadCredentials("app", write("plain", "s3cret\n"), logger)
	require.NoError(t, err)
	assert.Equal(t, "s3cret", c.Password)
	assert.Equal(t, "app", c.User)

	c, err = loadCredentials("", write("map", `{"redis://10.0.0.1:6379": "one", "redis://10.0.0.2:6379": "two"}`), logger)
	require.NoError(t, err)
	tg, err := target.Parse("redis://10.0.0.2:6379")
	require.NoError(t, err)
	assert.Equal(t, "two", c.Apply(tg).Password, "a pod's address looks up its password")
	assert.Contains(t, logs.String(), "map of address to password")

	_, err = loadCredentials("", write("broken", `{"redis://10.0.0.1:6379": 1`), logger)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "--redis.password-file")
	assert.NotContains(t, err.Error(), "10.0.0.1", "file content is not echoed")
	_, err = loadCredentials("", write("empty", ""), logger)
	require.Error(t, err)

	c, err = loadCredentials("", filepath.Join(dir, "absent"), logger)
	require.NoError(t, err, "an optional Secret that is not mounted")
	assert.Empty(t, c.Password)
	assert.Contains(t, logs.String(), "password file does not exist")
}

// --log-level and --log-format apply to the adapter's logs and to the
// libraries' klog output, which goes through the same handler.
func TestOneLog(t *testing.T) {
	var buf bytes.Buffer
	logger, err := newLogger("json", "warn", &buf)
	require.NoError(t, err)
	klog.SetSlogLogger(logger)
	defer klog.ClearLogger()
	logger.Info("dropped at warn")
	logger.Warn("kept", "k", "v")
	klog.ErrorS(nil, "from a library", "component", "apiserver")
	klog.Flush()
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	require.Len(t, lines, 2, buf.String())
	for _, l := range lines {
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(l), &m), "every line is JSON: %s", l)
	}
	assert.Contains(t, lines[1], `"msg":"from a library"`)

	_, err = newLogger("txt", "loud", &buf)
	assert.Error(t, err)
	_, err = newLogger("xml", "info", &buf)
	assert.Error(t, err)
}
