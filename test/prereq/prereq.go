// Package prereq finds the programs tests need (redis-sentinel, prometheus,
// containerd …). A missing program fails the test in CI, where it means a
// broken machine rather than a reason to pass, and skips it elsewhere with
// a message that says how to install it.
package prereq

import (
	"os"
	"os/exec"
	"testing"
)

// CI reports whether the tests run in CI (CI=true, as CI systems set it).
func CI() bool { return os.Getenv("CI") == "true" }

// Missing fails the test in CI and skips it elsewhere, with the message.
func Missing(t testing.TB, format string, args ...any) {
	t.Helper()
	if CI() {
		t.Fatalf("CI=true: "+format, args...)
		return
	}
	t.Skipf(format, args...)
}

// Binary returns the path of the program name: the first of paths that
// exists, else name on PATH. When there is none it calls Missing with
// install, the way to get it, and returns "".
func Binary(t testing.TB, name, install string, paths ...string) string {
	t.Helper()
	for _, p := range paths {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	p, err := exec.LookPath(name)
	if err != nil {
		Missing(t, "%s is not installed (%s): %v", name, install, err)
		return ""
	}
	return p
}
