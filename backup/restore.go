package backup

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/redis-autoscaler/redis-autoscaler/backup/rdb"
	"github.com/redis-autoscaler/redis-autoscaler/backup/repl"
	"github.com/redis-autoscaler/redis-autoscaler/exporter/redisinfo"
)

// RestoreOptions tune a restore.
type RestoreOptions struct {
	// Force replaces a target that holds keys.
	Force bool
	// ListenHost is the address the target connects back to; default the
	// local address this process reaches the target from.
	ListenHost string
	// ServerTLS, when the target replicates over TLS (tls-replication
	// yes), is the certificate the one-off master presents.
	ServerTLS *tls.Config
	// Timeout bounds the whole transfer and load. Default 30m.
	Timeout time.Duration
	// SampleSize keys are checked afterwards. Default 100.
	SampleSize int
	// Log, when not nil, is told each step.
	Log func(format string, args ...any)
}

// RestoreResult is what a restore did and checked.
type RestoreResult struct {
	Keys        int64
	Size        int64
	Duration    time.Duration
	SampleKeys  int
	TargetLabel string
}

// Restore replaces the data of the Redis master dst with the backup in
// file. It reads the whole file first (a truncated or corrupt file is
// refused before dst is touched), refuses a dst holding keys unless Force,
// then makes dst a replica of a one-off master that serves the file: Redis
// replaces its dataset only once the whole payload arrived and loaded, so
// dst ends with exactly the backup, or, when anything fails, is promoted
// back unchanged. Writes to dst are refused (READONLY) while it replicates.
// Afterwards the key count and a sample of keys are checked against the
// file.
func Restore(ctx context.Context, dst Endpoint, file string, o RestoreOptions) (*RestoreResult, error) {
	start := time.Now()
	sum, err := verifyForRestore(file, &o, start)
	if err != nil {
		return nil, err
	}
	return restoreVerified(ctx, dst, file, sum, o, start)
}

// verifyForRestore fills in o's defaults and reads the whole file, with
// the sample and expiries the check after the restore needs.
func verifyForRestore(file string, o *RestoreOptions, start time.Time) (*rdb.Summary, error) {
	if o.Timeout <= 0 {
		o.Timeout = 30 * time.Minute
	}
	if o.SampleSize == 0 {
		o.SampleSize = 100
	}
	sum, _, err := Verify(file, rdb.Options{SampleSize: o.SampleSize, ExpiryHorizon: start.Add(o.Timeout + time.Hour).UnixMilli()})
	if err != nil {
		return nil, err
	}
	o.logf("verified %s: %d bytes, %d keys, RDB version %d", file, sum.Size, sum.Keys, sum.Version)
	return sum, nil
}

func (o RestoreOptions) logf(format string, args ...any) {
	if o.Log != nil {
		o.Log(format, args...)
	}
}

// restoreVerified is Restore once file was read whole into sum.
func restoreVerified(ctx context.Context, dst Endpoint, file string, sum *rdb.Summary, o RestoreOptions, start time.Time) (*RestoreResult, error) {
	c := dst.client()
	defer c.Close()
	if err := preflight(ctx, c, dst, sum, o.Force); err != nil {
		return nil, err
	}
	var serverTLS *tls.Config
	if dst.TLS != nil {
		if v, err := c.ConfigGet(ctx, "tls-replication").Result(); err == nil && v["tls-replication"] == "yes" {
			if o.ServerTLS == nil {
				return nil, fmt.Errorf("%s replicates over TLS (tls-replication yes): give the restore a server certificate its CA trusts (--restore.tls-cert-file, --restore.tls-key-file)", dst.Label)
			}
			serverTLS = o.ServerTLS
		}
	}
	host := o.ListenHost
	if host == "" {
		var err error
		if host, err = localAddrTowards(ctx, dst); err != nil {
			return nil, err
		}
	}
	l, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return nil, fmt.Errorf("listen for %s to connect back: %w", dst.Label, err)
	}
	if serverTLS != nil {
		l = tls.NewListener(l, serverTLS)
	}
	port := l.Addr().(*net.TCPAddr).Port
	m := repl.NewMaster(func() (io.ReadCloser, int64, error) {
		f, err := os.Open(file)
		if err != nil {
			return nil, 0, err
		}
		return f, sum.Size, nil
	})
	sctx, stopServing := context.WithCancel(context.Background())
	served := make(chan struct{})
	go func() { _ = m.Serve(sctx, l); close(served) }()
	defer func() { stopServing(); <-served }()

	tctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	o.logf("making %s a replica of %s:%d", dst.Label, host, port)
	if err := c.ReplicaOf(tctx, host, strconv.Itoa(port)).Err(); err != nil {
		return nil, fmt.Errorf("REPLICAOF on %s: %w", dst.Label, err)
	}
	if err := waitLoaded(tctx, c, m); err != nil {
		// Promote back: Redis replaced nothing unless the whole payload
		// arrived, so the target is as it was.
		pctx, pcancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer pcancel()
		if perr := c.ReplicaOf(pctx, "NO", "ONE").Err(); perr != nil {
			err = errors.Join(err, fmt.Errorf("REPLICAOF NO ONE on %s: %w (promote it by hand)", dst.Label, perr))
		}
		return nil, fmt.Errorf("restore into %s: %w", dst.Label, err)
	}
	if err := c.ReplicaOf(ctx, "NO", "ONE").Err(); err != nil {
		return nil, fmt.Errorf("REPLICAOF NO ONE on %s after loading the backup: %w (promote it by hand)", dst.Label, err)
	}
	o.logf("%s loaded the backup and is a master again", dst.Label)
	if err := check(ctx, c, sum); err != nil {
		return nil, fmt.Errorf("after restoring into %s: %w", dst.Label, err)
	}
	return &RestoreResult{Keys: sum.Keys, Size: sum.Size, Duration: time.Since(start), SampleKeys: len(sum.Sample), TargetLabel: dst.Label}, nil
}

// preflight checks the target before anything changes: a master, a Redis
// that reads this RDB version, and empty unless force.
func preflight(ctx context.Context, c *redis.Client, dst Endpoint, sum *rdb.Summary, force bool) error {
	info, err := readInfo(ctx, c, "server", "replication", "keyspace")
	if err != nil {
		return fmt.Errorf("INFO on %s: %w", dst.Label, err)
	}
	f := info.Fields
	if f["role"] != "master" {
		return fmt.Errorf("%s is a replica of %s:%s: restore into its master", dst.Label, f["master_host"], f["master_port"])
	}
	if newest := maxRDBVersion(f["redis_version"]); sum.Version > newest {
		return fmt.Errorf("the backup is RDB version %d; Redis %s on %s reads up to %d", sum.Version, f["redis_version"], dst.Label, newest)
	}
	var n int64
	for _, db := range info.Keyspace {
		n += int64(db.Keys)
	}
	if n > 0 && !force {
		return fmt.Errorf("%s holds %d keys: restoring replaces them all; pass --force to do so", dst.Label, n)
	}
	return nil
}

// waitLoaded waits until the target has the whole snapshot loaded from m.
func waitLoaded(ctx context.Context, c *redis.Client, m *repl.Master) error {
	t := time.NewTicker(50 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			if err := m.Err(); err != nil {
				return fmt.Errorf("%w (last transfer error: %v)", ctx.Err(), err)
			}
			return ctx.Err()
		case <-t.C:
		}
		select {
		case <-m.Sent():
		default:
			continue
		}
		info, err := readInfo(ctx, c, "replication", "persistence")
		if err != nil {
			continue // LOADING errors and timeouts while it loads
		}
		f := info.Fields
		if f["master_link_status"] == "up" && f["master_sync_in_progress"] == "0" && f["loading"] == "0" && f["master_replid"] == m.ReplID() {
			return nil
		}
	}
}

// check compares the restored data with the file: key counts per
// database (keys that expired since the backup may be gone) and the
// sampled keys' types, expiries and string values.
func check(ctx context.Context, rc *redis.Client, sum *rdb.Summary) error {
	now := time.Now().UnixMilli()
	c := rc.Conn() // SELECT holds for one connection only
	defer c.Close()
	info, err := readInfo(ctx, c, "keyspace")
	if err != nil {
		return err
	}
	held := map[string]int64{}
	for _, db := range info.Keyspace {
		held[db.DB] = int64(db.Keys)
	}
	for _, db := range sum.DBs {
		got := held["db"+strconv.Itoa(db.DB)]
		low := db.Keys
		for _, e := range sum.Expiring[db.DB] {
			if e <= now+1000 {
				low--
			}
		}
		if got < low || got > db.Keys {
			return fmt.Errorf("db%d holds %d keys, the backup %d (%d of them expired since)", db.DB, got, db.Keys, db.Keys-low)
		}
	}
	for _, k := range sum.Sample {
		if k.ExpireMS != 0 && k.ExpireMS <= now+60_000 {
			continue // may have expired by now
		}
		if err := c.Select(ctx, k.DB).Err(); err != nil {
			return err
		}
		typ, err := c.Type(ctx, k.Name).Result()
		if err != nil {
			return fmt.Errorf("TYPE %q: %w", k.Name, err)
		}
		if typ != k.Type {
			return fmt.Errorf("key %q in db%d is %s, the backup has a %s", k.Name, k.DB, typ, k.Type)
		}
		ttl, err := c.PTTL(ctx, k.Name).Result()
		if err != nil {
			return err
		}
		if (k.ExpireMS != 0) != (ttl > 0) {
			return fmt.Errorf("key %q in db%d: TTL %v, the backup's expiry %d", k.Name, k.DB, ttl, k.ExpireMS)
		}
		if k.SHA256 != "" {
			v, err := c.Get(ctx, k.Name).Bytes()
			if err != nil {
				return err
			}
			if rdb.Digest(v) != k.SHA256 {
				return fmt.Errorf("key %q in db%d has a value other than the backup's", k.Name, k.DB)
			}
		}
	}
	return nil
}

// readInfo sends INFO for these sections and parses the reply with the
// exporter's parser.
func readInfo(ctx context.Context, c interface {
	Info(context.Context, ...string) *redis.StringCmd
}, sections ...string) (*redisinfo.Info, error) {
	text, err := c.Info(ctx, sections...).Result()
	if err != nil {
		return nil, err
	}
	return redisinfo.Parse(text)
}

// maxRDBVersion is the newest RDB version a Redis version loads.
func maxRDBVersion(redisVersion string) int {
	parts := strings.SplitN(redisVersion, ".", 3)
	if len(parts) < 2 {
		return rdb.MaxVersion
	}
	maj, _ := strconv.Atoi(parts[0])
	mnr, _ := strconv.Atoi(parts[1])
	v := maj*100 + mnr
	switch {
	case v >= 704:
		return 12
	case v >= 702:
		return 11
	case v >= 700:
		return 10
	case v >= 500:
		return 9
	case v >= 400:
		return 8
	case v >= 302:
		return 7
	default:
		return 6
	}
}

// localAddrTowards is this host's address on the route to dst, which dst
// can normally connect back to.
func localAddrTowards(ctx context.Context, dst Endpoint) (string, error) {
	d := net.Dialer{Timeout: 10 * time.Second}
	conn, err := d.DialContext(ctx, "tcp", dst.Addr())
	if err != nil {
		return "", fmt.Errorf("connect to %s: %w", dst.Label, err)
	}
	defer conn.Close()
	return conn.LocalAddr().(*net.TCPAddr).IP.String(), nil
}
