package cluster

import (
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// ownerFile records the PID of the process that owns a cluster directory.
const ownerFile = "owner.pid"

// staleAfter: a directory left by a dead process is kept this long for its
// logs, then removed, so crashed runs do not fill /dev/shm (RAM) over time.
const staleAfter = time.Hour

func writeOwner(dir string) error {
	return os.WriteFile(filepath.Join(dir, ownerFile), []byte(strconv.Itoa(os.Getpid())), 0o644)
}

// removeStaleDirs deletes cluster directories under root whose owner is dead
// and which have not been touched for staleAfter: leftovers of test
// binaries that panicked or were killed before Stop could clean up. Their
// processes are already gone (parent-death signal); only files remain.
func removeStaleDirs(root string, log *slog.Logger) {
	entries, err := os.ReadDir(root)
	if err != nil {
		return
	}
	for _, e := range entries {
		if !e.IsDir() || !strings.HasPrefix(e.Name(), "k8s-cluster-") {
			continue
		}
		dir := filepath.Join(root, e.Name())
		b, err := os.ReadFile(filepath.Join(dir, ownerFile))
		if err != nil {
			continue
		}
		pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
		if err != nil || ProcessAlive(pid) {
			continue
		}
		if info, err := e.Info(); err != nil || time.Since(info.ModTime()) < staleAfter {
			continue
		}
		if err := os.RemoveAll(dir); err == nil {
			log.Info("removed stale cluster dir", "dir", dir)
		}
	}
}
