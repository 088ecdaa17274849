package cluster

import (
	"bytes"
	"fmt"
	"os"
	"time"
)

// pollInterval is how often every bounded wait of this package
// (wait.PollUntilContextTimeout) looks again.
const pollInterval = 100 * time.Millisecond

// tailFile returns the last n lines of a log file, for error messages that
// have to explain why a process died.
func tailFile(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Sprintf("(cannot read %s: %v)", path, err)
	}
	lines := bytes.Split(bytes.TrimRight(b, "\n"), []byte("\n"))
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return string(bytes.Join(lines, []byte("\n")))
}
