// Package backup takes and restores snapshots of a Redis (or of a
// RedisReplicationGroup): backups stream an RDB over the replication
// protocol, verify it and keep it atomically with a JSON sidecar; restores
// verify the file, then make the target a replica of a one-off master
// serving it, so the target ends with exactly the backup or unchanged.
package backup

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/redis-autoscaler/redis-autoscaler/backup/rdb"
	"github.com/redis-autoscaler/redis-autoscaler/backup/repl"
)

// Options tune a backup.
type Options struct {
	// Idle bounds the silence from Redis (it sends a newline each second
	// while preparing the snapshot). Default 60s.
	Idle time.Duration
	// DialTimeout bounds connecting. Default 10s.
	DialTimeout time.Duration
	// SampleSize keys are recorded in the sidecar. 0: 100; negative: none
	// (key names can be sensitive).
	SampleSize int
	// Progress, when not nil, is told the size of every chunk received.
	Progress func(bytes int64)
	// Group and Role go into the sidecar (backups of a group).
	Group, Role string
}

func (o *Options) defaults() {
	if o.Idle <= 0 {
		o.Idle = 60 * time.Second
	}
	if o.DialTimeout <= 0 {
		o.DialTimeout = 10 * time.Second
	}
	if o.SampleSize == 0 {
		o.SampleSize = 100
	}
}

// Backup streams a snapshot of src into dest. The file appears only
// complete and verified (header, every record, CRC64), with dest.json
// beside it; on any failure nothing is left but what was there before.
func Backup(ctx context.Context, src Endpoint, dest string, o Options) (*Sidecar, error) {
	o.defaults()
	started := time.Now()
	f, err := createTemp(dest)
	if err != nil {
		return nil, fmt.Errorf("create %s: %w", dest, err)
	}
	ok := false
	defer func() {
		if !ok {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	conn, err := src.dial(ctx, o.DialTimeout)
	if err != nil {
		return nil, err
	}

	// The parser reads what is written as it arrives: the file is verified
	// by the time the transfer ends.
	pr, pw := io.Pipe()
	type parsed struct {
		s   *rdb.Summary
		err error
	}
	done := make(chan parsed, 1)
	go func() {
		s, err := rdb.Read(pr, rdb.Options{SampleSize: o.SampleSize})
		pr.CloseWithError(errors.Join(err, errParserDone))
		if err == nil {
			_, _ = io.Copy(io.Discard, pr) // a stream longer than its RDB fails below
		}
		done <- parsed{s, err}
	}()
	bw := bufio.NewWriterSize(f, 1<<20)
	var w io.Writer = io.MultiWriter(bw, pw)
	if o.Progress != nil {
		w = io.MultiWriter(w, progressWriter(o.Progress))
	}
	info, ferr := repl.Fetch(ctx, conn, repl.Auth{User: src.Auth.Username, Password: src.Auth.Password}, w, o.Idle)
	pw.CloseWithError(ferr)
	p := <-done
	switch {
	case p.err != nil && (ferr == nil || errors.Is(ferr, errParserDone) || errors.Is(ferr, io.ErrClosedPipe)):
		return nil, fmt.Errorf("snapshot from %s is not a valid RDB: %w", src.Label, p.err)
	case ferr != nil:
		return nil, fmt.Errorf("snapshot from %s: %w", src.Label, ferr)
	case p.err != nil:
		return nil, fmt.Errorf("snapshot from %s is not a valid RDB: %w", src.Label, p.err)
	case p.s.Size != info.Bytes:
		return nil, fmt.Errorf("snapshot from %s: %d bytes after the end of the RDB", src.Label, info.Bytes-p.s.Size)
	}
	if err := bw.Flush(); err != nil {
		return nil, fmt.Errorf("write %s: %w", f.Name(), err)
	}
	if err := commit(f, dest); err != nil {
		return nil, fmt.Errorf("keep %s: %w", dest, err)
	}
	ok = true
	sc := newSidecar(dest, src.Label, started, p.s)
	sc.Group, sc.Role, sc.Diskless = o.Group, o.Role, info.Diskless
	b, _ := json.MarshalIndent(sc, "", "  ")
	if err := writeFileAtomic(SidecarPath(dest), append(b, '\n')); err != nil {
		return nil, fmt.Errorf("write sidecar: %w", err)
	}
	return sc, nil
}

var errParserDone = errors.New("the RDB ended")

// Verify reads a backup file whole (header, records, CRC64) and checks it
// against its sidecar when there is one.
func Verify(file string, o rdb.Options) (*rdb.Summary, *Sidecar, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	s, err := rdb.Read(f, o)
	if err != nil {
		return nil, nil, fmt.Errorf("%s is not a complete RDB: %w", file, err)
	}
	sc, err := ReadSidecar(file)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return s, nil, nil
	case err != nil:
		return nil, nil, err
	}
	if err := sc.matches(s); err != nil {
		return nil, nil, fmt.Errorf("%s does not match its sidecar: %w", file, err)
	}
	return s, sc, nil
}

type progressWriter func(int64)

func (p progressWriter) Write(b []byte) (int, error) {
	p(int64(len(b)))
	return len(b), nil
}
