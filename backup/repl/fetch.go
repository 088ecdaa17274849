package repl

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"
)

// Auth is the login sent before SYNC.
type Auth struct {
	User, Password string
}

// FetchInfo describes a finished transfer.
type FetchInfo struct {
	// Bytes of RDB written to w.
	Bytes int64
	// Diskless: the source streamed the snapshot without writing a file.
	Diskless bool
	// RDBOnly: the source understood REPLCONF rdb-only (Redis >= 7.0) and
	// did not keep us as a replica afterwards.
	RDBOnly bool
}

// Fetch asks the Redis at the other end of conn for a point-in-time
// snapshot the way a replica does (as redis-cli --rdb): REPLCONF capa eof
// (diskless when the source allows it), REPLCONF rdb-only 1, SYNC; then
// copies the RDB payload to w. idle bounds the silence between reads
// (Redis sends a newline each second while it prepares the snapshot).
// Fetch closes conn.
func Fetch(ctx context.Context, conn net.Conn, auth Auth, w io.Writer, idle time.Duration) (FetchInfo, error) {
	var info FetchInfo
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	r := bufio.NewReaderSize(&deadlineReader{ctx: ctx, conn: conn, idle: idle}, 64<<10)
	call := func(args ...string) (string, error) {
		_ = conn.SetWriteDeadline(time.Now().Add(idle))
		if _, err := conn.Write(command(args...)); err != nil {
			return "", err
		}
		return readLine(r)
	}
	wrap := func(err error) error {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return err
	}
	if auth.Password != "" {
		args := []string{"AUTH", auth.Password}
		if auth.User != "" {
			args = []string{"AUTH", auth.User, auth.Password}
		}
		reply, err := call(args...)
		if err != nil {
			return info, wrap(fmt.Errorf("AUTH: %w", err))
		}
		if !strings.HasPrefix(reply, "+") {
			return info, fmt.Errorf("AUTH refused: %s", strings.TrimPrefix(reply, "-"))
		}
	}
	reply, err := call("REPLCONF", "capa", "eof")
	if err != nil {
		return info, wrap(fmt.Errorf("REPLCONF: %w", err))
	}
	if strings.HasPrefix(reply, "-NOAUTH") || strings.HasPrefix(reply, "-NOPERM") {
		return info, fmt.Errorf("REPLCONF refused: %s", reply[1:])
	}
	reply, err = call("REPLCONF", "rdb-only", "1")
	if err != nil {
		return info, wrap(fmt.Errorf("REPLCONF rdb-only: %w", err))
	}
	info.RDBOnly = strings.HasPrefix(reply, "+")
	_ = conn.SetWriteDeadline(time.Now().Add(idle))
	if _, err := conn.Write(command("SYNC")); err != nil {
		return info, wrap(fmt.Errorf("SYNC: %w", err))
	}
	// Newlines are keepalives while the source forks and starts writing.
	var header string
	for {
		line, err := readLine(r)
		if err != nil {
			return info, wrap(fmt.Errorf("waiting for the snapshot: %w", err))
		}
		if line != "" {
			header = line
			break
		}
	}
	switch {
	case strings.HasPrefix(header, "-"):
		return info, fmt.Errorf("SYNC refused: %s", header[1:])
	case strings.HasPrefix(header, "$EOF:"):
		mark := []byte(header[len("$EOF:"):])
		if len(mark) != 40 {
			return info, fmt.Errorf("bad EOF mark in %q", header)
		}
		info.Diskless = true
		n, err := copyUntilMark(r, w, mark)
		info.Bytes = n
		return info, wrap(err)
	case strings.HasPrefix(header, "$"):
		size, err := strconv.ParseInt(header[1:], 10, 64)
		if err != nil || size < 0 {
			return info, fmt.Errorf("bad snapshot header %q", header)
		}
		n, err := io.CopyN(w, r, size)
		info.Bytes = n
		if err != nil {
			return info, wrap(fmt.Errorf("snapshot ended after %d of %d bytes: %w", n, size, err))
		}
		return info, nil
	}
	return info, fmt.Errorf("unexpected reply to SYNC: %q", header)
}

// copyUntilMark copies r to w up to the 40-byte mark that ends a diskless
// transfer, holding back the last 40 bytes read until more arrive.
func copyUntilMark(r io.Reader, w io.Writer, mark []byte) (int64, error) {
	buf := make([]byte, 256<<10)
	held := 0 // bytes at buf[:held] not yet written (could start the mark)
	var n int64
	for {
		k, err := r.Read(buf[held:])
		if k > 0 {
			end := held + k
			if i := bytes.Index(buf[:end], mark); i >= 0 {
				if _, werr := w.Write(buf[:i]); werr != nil {
					return n, werr
				}
				return n + int64(i), nil
			}
			keep := min(len(mark)-1, end)
			if _, werr := w.Write(buf[:end-keep]); werr != nil {
				return n, werr
			}
			n += int64(end - keep)
			copy(buf, buf[end-keep:end])
			held = keep
		}
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return n, fmt.Errorf("snapshot ended after %d bytes without its end mark: %w", n, err)
		}
	}
}

// deadlineReader pushes the read deadline forward before every read.
type deadlineReader struct {
	ctx  context.Context
	conn net.Conn
	idle time.Duration
}

func (d *deadlineReader) Read(p []byte) (int, error) {
	if err := d.ctx.Err(); err != nil {
		return 0, err
	}
	_ = d.conn.SetReadDeadline(time.Now().Add(d.idle))
	return d.conn.Read(p)
}
