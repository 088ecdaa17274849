package prereq_test

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/redis-autoscaler/redis-autoscaler/test/prereq"
)

// recorder is a testing.TB that records Fatalf and Skipf instead of
// ending the goroutine, so the outcome can be checked.
type recorder struct {
	testing.TB
	fatal, skip string
}

func (r *recorder) Helper()                      {}
func (r *recorder) Fatalf(f string, args ...any) { r.fatal = fmt.Sprintf(f, args...) }
func (r *recorder) Skipf(f string, args ...any)  { r.skip = fmt.Sprintf(f, args...) }

func TestBinary(t *testing.T) {
	sh, err := exec.LookPath("sh")
	require.NoError(t, err)
	tests := []struct {
		name      string
		ci        string
		program   string
		paths     []string
		want      string
		wantFatal bool
		wantSkip  bool
	}{
		{name: "on PATH", program: "sh", want: sh},
		{name: "a given path first", program: "no-such-program", paths: []string{filepath.Join(t.TempDir(), "absent"), sh}, want: sh},
		{name: "missing outside CI skips", program: "no-such-program", wantSkip: true},
		{name: "missing in CI fails", ci: "true", program: "no-such-program", wantFatal: true},
		{name: "CI must be true to fail", ci: "1", program: "no-such-program", wantSkip: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("CI", tc.ci)
			r := &recorder{TB: t}
			got := prereq.Binary(r, tc.program, "apt-get install it", tc.paths...)
			require.Equal(t, tc.want, got)
			require.Equal(t, tc.wantFatal, r.fatal != "", "fatal: %q", r.fatal)
			require.Equal(t, tc.wantSkip, r.skip != "", "skip: %q", r.skip)
			for _, msg := range []string{r.fatal, r.skip} {
				if msg != "" {
					require.Contains(t, msg, "no-such-program is not installed (apt-get install it)")
				}
			}
			if tc.wantFatal {
				require.Contains(t, r.fatal, "CI=true")
			}
		})
	}
}
