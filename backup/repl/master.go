package repl

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"time"
)

// Master is a minimal Redis master that has one thing to replicate: a
// snapshot. A Redis told REPLICAOF this master's address connects, asks
// for PSYNC, gets a full resynchronization with the snapshot, loads it
// (replacing its data only once the whole payload arrived) and then sees a
// PING now and then. Restores use it so that the target ends with exactly
// the snapshot, or unchanged.
type Master struct {
	// Open returns the snapshot to send and its size; called for every
	// replica that asks (a replica that reconnects gets it again).
	Open func() (io.ReadCloser, int64, error)
	// Idle bounds the silence of a replica during the handshake.
	Idle time.Duration

	replID string
	mu     sync.Mutex
	sent   chan struct{}
	once   sync.Once
	err    error
}

// NewMaster returns a Master serving the snapshot Open returns.
func NewMaster(open func() (io.ReadCloser, int64, error)) *Master {
	id := make([]byte, 20)
	_, _ = rand.Read(id)
	return &Master{Open: open, Idle: 30 * time.Second, replID: hex.EncodeToString(id), sent: make(chan struct{})}
}

// Sent is closed once a replica was sent the whole snapshot.
func (m *Master) Sent() <-chan struct{} { return m.sent }

// ReplID is the replication ID the master announces.
func (m *Master) ReplID() string { return m.replID }

// Err is the last error serving a replica (nil if none).
func (m *Master) Err() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.err
}

// Serve accepts replicas on l until ctx ends, then closes l and every
// connection.
func (m *Master) Serve(ctx context.Context, l net.Listener) error {
	var wg sync.WaitGroup
	stop := context.AfterFunc(ctx, func() { _ = l.Close() })
	defer stop()
	defer wg.Wait()
	for {
		conn, err := l.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := m.serve(ctx, conn); err != nil && ctx.Err() == nil {
				m.mu.Lock()
				m.err = err
				m.mu.Unlock()
			}
		}()
	}
}

func (m *Master) serve(ctx context.Context, conn net.Conn) error {
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { _ = conn.Close() })
	defer stop()
	r := bufio.NewReader(conn)
	write := func(s string) error {
		_ = conn.SetWriteDeadline(time.Now().Add(m.Idle))
		_, err := io.WriteString(conn, s)
		return err
	}
	for {
		_ = conn.SetReadDeadline(time.Now().Add(m.Idle))
		args, err := readArray(r)
		if err != nil {
			return fmt.Errorf("replica handshake: %w", err)
		}
		if len(args) == 0 {
			continue
		}
		var reply string
		switch strings.ToUpper(args[0]) {
		case "PING":
			reply = "+PONG\r\n"
		case "AUTH", "REPLCONF":
			reply = "+OK\r\n"
		case "PSYNC", "SYNC":
			return m.transfer(ctx, conn, r, strings.EqualFold(args[0], "PSYNC"))
		default:
			reply = fmt.Sprintf("-ERR this is a restore, not a Redis: %q is not served\r\n", strings.ToUpper(args[0]))
		}
		if err := write(reply); err != nil {
			return err
		}
	}
}

// transfer sends the snapshot as a full resync, then keeps the link up
// with PINGs (as a master does every repl-ping-replica-period) until ctx
// ends, discarding the replica's REPLCONF ACKs.
func (m *Master) transfer(ctx context.Context, conn net.Conn, r *bufio.Reader, psync bool) error {
	src, size, err := m.Open()
	if err != nil {
		return err
	}
	defer src.Close()
	hdr := ""
	if psync {
		hdr = fmt.Sprintf("+FULLRESYNC %s 0\r\n", m.replID)
	}
	hdr += fmt.Sprintf("$%d\r\n", size)
	_ = conn.SetWriteDeadline(time.Time{})
	if _, err := io.WriteString(conn, hdr); err != nil {
		return err
	}
	n, err := io.Copy(&deadlineWriter{conn: conn, idle: m.Idle}, io.LimitReader(src, size))
	if err != nil {
		return fmt.Errorf("sending the snapshot: %w", err)
	}
	if n != size {
		return fmt.Errorf("snapshot shrank: sent %d of %d bytes", n, size)
	}
	m.once.Do(func() { close(m.sent) })
	go func() { // ACKs: read and drop until the link closes
		_ = conn.SetReadDeadline(time.Time{})
		_, _ = io.Copy(io.Discard, r)
	}()
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			_ = conn.SetWriteDeadline(time.Now().Add(m.Idle))
			if _, err := conn.Write(command("PING")); err != nil {
				if errors.Is(err, net.ErrClosed) {
					return nil
				}
				return err
			}
		}
	}
}

type deadlineWriter struct {
	conn net.Conn
	idle time.Duration
}

func (d *deadlineWriter) Write(p []byte) (int, error) {
	_ = d.conn.SetWriteDeadline(time.Now().Add(d.idle))
	return d.conn.Write(p)
}
