package backup_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/redis-autoscaler/redis-autoscaler/backup/rdb"
	"github.com/redis-autoscaler/redis-autoscaler/test/redistest"
)

// loadIncompressible writes mb megabytes of random 1 KiB values (LZF
// cannot shrink them, so the RDB is as large as the data).
func loadIncompressible(b testing.TB, s *redistest.Server, mb int) {
	c := s.Client(b)
	ctx := context.Background()
	val := make([]byte, 1024)
	p := c.Pipeline()
	for i := range mb * 1024 {
		_, _ = rand.Read(val)
		p.Set(ctx, "key:"+strconv.Itoa(i), bytes.Clone(val), 0)
		if p.Len() == 1000 {
			_, err := p.Exec(ctx)
			require.NoError(b, err)
		}
	}
	_, err := p.Exec(ctx)
	require.NoError(b, err)
}

// BenchmarkBackupRestore backs up and restores an incompressible data set
// (BENCH_BACKUP_MB, default 200) with the built binary as its own process
// (BACKUP_BIN; make bench sets it), beside redis-cli --rdb on the same
// source. Reports MB/s and each command's peak RSS.
func BenchmarkBackupRestore(b *testing.B) {
	bin := os.Getenv("BACKUP_BIN")
	if bin == "" {
		b.Skip("BACKUP_BIN is not set (make bench builds bin/redis-autoscaler and sets it)")
	}
	mb := 200
	if v, err := strconv.Atoi(os.Getenv("BENCH_BACKUP_MB")); err == nil && v > 0 {
		mb = v
	}
	src := redistest.Start(b, "--repl-diskless-sync-delay", "0")
	dst := redistest.Start(b)
	loadIncompressible(b, src, mb)
	dir := b.TempDir()
	file := filepath.Join(dir, "bench.rdb")
	srcURL := "redis://" + src.HostPort()
	var backupS, restoreS, cliS, backupRSS, restoreRSS float64
	var size int64
	b.ResetTimer()
	for range b.N {
		d, rss := run(b, bin, "backup", "--target", srcURL, "--out", file)
		backupS += d.Seconds()
		backupRSS = max(backupRSS, rss)
		st, err := os.Stat(file)
		require.NoError(b, err)
		size = st.Size()

		d, rss = run(b, bin, "restore", "--target", "redis://"+dst.HostPort(), "--in", file, "--force")
		restoreS += d.Seconds()
		restoreRSS = max(restoreRSS, rss)

		d, _ = run(b, "redis-cli", "-h", src.Host, "-p", strconv.Itoa(src.Port), "--rdb", filepath.Join(dir, "cli.rdb"))
		cliS += d.Seconds()
	}
	n := float64(b.N)
	mbs := float64(size) / 1e6
	b.ReportMetric(mbs, "rdb-MB")
	b.ReportMetric(mbs*n/backupS, "backup-MB/s")
	b.ReportMetric(mbs*n/restoreS, "restore-MB/s")
	b.ReportMetric(mbs*n/cliS, "redis-cli-rdb-MB/s")
	b.ReportMetric(backupRSS, "backup-peak-RSS-MiB")
	b.ReportMetric(restoreRSS, "restore-peak-RSS-MiB")
}

// run runs a command to completion and returns its wall time and peak
// RSS in MiB (the kernel's ru_maxrss).
func run(b *testing.B, name string, args ...string) (time.Duration, float64) {
	b.Helper()
	cmd := exec.Command(name, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	err := cmd.Run()
	d := time.Since(start)
	require.NoError(b, err, "%s %v: %s", name, args, out.String())
	ru, _ := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if ru == nil {
		return d, 0
	}
	return d, float64(ru.Maxrss) / 1024
}

// BenchmarkRead is the verifier alone over an RDB of mixed types in
// memory: how fast a backup or restore can check a file.
func BenchmarkRead(b *testing.B) {
	src := redistest.Start(b, "--repl-diskless-sync-delay", "0")
	fill(b, src.Client(b), 50_000)
	require.NoError(b, src.Client(b).Save(context.Background()).Err())
	file, err := os.ReadFile(filepath.Join(src.Dir, "dump.rdb"))
	require.NoError(b, err)
	b.SetBytes(int64(len(file)))
	b.ResetTimer()
	for range b.N {
		if _, err := rdb.Read(bytes.NewReader(file), rdb.Options{SampleSize: 100}); err != nil {
			b.Fatal(err)
		}
	}
}
