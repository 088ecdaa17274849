package backup_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/redis-autoscaler/redis-autoscaler/backup"
	"github.com/redis-autoscaler/redis-autoscaler/test/redistest"
)

func TestCommandLine(t *testing.T) {
	ctx := context.Background()
	usage := []struct {
		args []string
		want string
	}{
		{[]string{"--out", "x.rdb"}, "one of --target or --group"},
		{[]string{"--target", "redis://a:1", "--group", "ns/g", "--out", "x"}, "one of --target or --group"},
		{[]string{"--target", "redis://a:1"}, "one of --out or --out-dir"},
		{[]string{"--target", "unix:///tmp/r.sock", "--out", "x"}, "replication needs TCP"},
	}
	for _, u := range usage {
		var out, errb bytes.Buffer
		assert.Equal(t, 2, backup.MainBackup(ctx, u.args, &out, &errb), "%v", u.args)
		assert.Contains(t, errb.String(), u.want, "%v", u.args)
	}
	var out, errb bytes.Buffer
	assert.Equal(t, 2, backup.MainRestore(ctx, []string{"--target", "redis://a:1"}, &out, &errb))
	assert.Contains(t, errb.String(), "--in is required")

	// The exporter's JSON password map, --out-dir and --keep, then a
	// restore with the same file.
	src := redistest.StartWith(t, redistest.Options{Password: "pw-src", Args: []string{"--repl-diskless-sync-delay", "0"}})
	dst := redistest.StartWith(t, redistest.Options{Password: "pw-dst"})
	require.NoError(t, src.Client(t).Set(ctx, "a", "1", 0).Err())
	dir := t.TempDir()
	pwFile := filepath.Join(dir, "passwords.json")
	require.NoError(t, os.WriteFile(pwFile, []byte(`{"redis://`+src.HostPort()+`": "pw-src", "redis://`+dst.HostPort()+`": "pw-dst"}`), 0o600))
	backups := filepath.Join(dir, "backups")
	require.NoError(t, os.Mkdir(backups, 0o700))
	// Another source's backup, whose name starts the same way, is not ours
	// to prune.
	other := filepath.Join(backups, strings.ReplaceAll(src.HostPort(), ":", "-")+"-x-20260101T000000Z.rdb")
	require.NoError(t, os.WriteFile(other, []byte("x"), 0o600))
	for range 3 {
		out.Reset()
		errb.Reset()
		require.Zero(t, backup.MainBackup(ctx, []string{"--target", "redis://" + src.HostPort(), "--redis.password-file", pwFile, "--out-dir", backups, "--keep", "2"}, &out, &errb), errb.String())
		assert.Contains(t, out.String(), "1 keys")
		assert.NotContains(t, out.String()+errb.String(), "pw-src")
		time.Sleep(time.Second) // names have a resolution of one second
	}
	assert.FileExists(t, other, "another source's backup kept")
	require.NoError(t, os.Remove(other))
	files, err := filepath.Glob(filepath.Join(backups, "*.rdb"))
	require.NoError(t, err)
	require.Len(t, files, 2, "--keep 2: %v", files)
	jsons, _ := filepath.Glob(filepath.Join(backups, "*.rdb.json"))
	require.Len(t, jsons, 2, "sidecars pruned with their backups")
	assert.True(t, strings.HasPrefix(filepath.Base(files[0]), "127.0.0.1-"), files[0])

	out.Reset()
	errb.Reset()
	require.Zero(t, backup.MainRestore(ctx, []string{"--target", "redis://" + dst.HostPort(), "--redis.password-file", pwFile, "--in", files[1]}, &out, &errb), errb.String())
	assert.Contains(t, out.String(), "1 keys")
	assert.Equal(t, "1", dst.Client(t).Get(ctx, "a").Val())

	// No entry for the target in the map: a clear error, not a silent
	// empty password.
	errb.Reset()
	require.NotZero(t, backup.MainBackup(ctx, []string{"--target", "redis://127.0.0.9:1", "--redis.password-file", pwFile, "--out", filepath.Join(dir, "x.rdb")}, &out, &errb))
	assert.Contains(t, errb.String(), "no entry for redis://127.0.0.9:1")
}
