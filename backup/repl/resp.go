// Package repl speaks Redis' replication protocol on both sides: Fetch asks
// a Redis for a full snapshot as a replica would (for backups), and Master
// serves a snapshot to a Redis that was made its replica (for restores).
package repl

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// command encodes a RESP array of bulk strings.
func command(args ...string) []byte {
	b := fmt.Appendf(nil, "*%d\r\n", len(args))
	for _, a := range args {
		b = fmt.Appendf(b, "$%d\r\n%s\r\n", len(a), a)
	}
	return b
}

// maxLine bounds a status or header line from the peer.
const maxLine = 64 << 10

// readLine reads one CRLF-terminated line without the terminator.
func readLine(r *bufio.Reader) (string, error) {
	var sb strings.Builder
	for {
		frag, err := r.ReadSlice('\n')
		sb.Write(frag)
		if sb.Len() > maxLine {
			return "", errors.New("line too long")
		}
		if err == nil {
			break
		}
		if !errors.Is(err, bufio.ErrBufferFull) {
			return "", err
		}
	}
	return strings.TrimRight(sb.String(), "\r\n"), nil
}

// readArray reads one RESP array of bulk strings (a command), bounded in
// size so a confused peer cannot make us allocate much.
func readArray(r *bufio.Reader) ([]string, error) {
	line, err := readLine(r)
	if err != nil {
		return nil, err
	}
	if line == "" {
		return nil, nil // a bare newline (keepalive)
	}
	if line[0] != '*' { // inline command
		args := strings.Fields(line)
		if len(args) > 64 {
			return nil, fmt.Errorf("inline command of %d words", len(args))
		}
		return args, nil
	}
	n, err := strconv.Atoi(line[1:])
	if err != nil || n < 0 || n > 64 {
		return nil, fmt.Errorf("bad array header %q", line)
	}
	args := make([]string, 0, n)
	for range n {
		h, err := readLine(r)
		if err != nil {
			return nil, err
		}
		if len(h) == 0 || h[0] != '$' {
			return nil, fmt.Errorf("bad bulk header %q", h)
		}
		l, err := strconv.Atoi(h[1:])
		if err != nil || l < 0 || l > maxLine {
			return nil, fmt.Errorf("bad bulk length %q", h)
		}
		buf := make([]byte, l+2)
		if _, err := io.ReadFull(r, buf); err != nil {
			return nil, err
		}
		args = append(args, string(buf[:l]))
	}
	return args, nil
}
