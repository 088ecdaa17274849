package procstat

import (
	"os"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestMemoryMiB(t *testing.T) {
	for name, pid := range map[string]int{"self": 0, "by pid": os.Getpid()} {
		t.Run(name, func(t *testing.T) {
			m, err := MemoryMiB(pid)
			require.NoError(t, err)
			for _, k := range []string{"VmRSS", "VmHWM", "RssAnon", "RssFile"} {
				require.Greater(t, m[k], 0.0, k)
			}
			require.GreaterOrEqual(t, m["VmHWM"], m["VmRSS"])
			require.InDelta(t, m["VmRSS"], m["RssAnon"]+m["RssFile"]+m["RssShmem"], 0.01)
		})
	}
	_, err := MemoryMiB(-1)
	require.Error(t, err)
}
