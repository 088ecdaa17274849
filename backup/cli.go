package backup

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/term"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/redis-autoscaler/redis-autoscaler/exporter/target"
	"github.com/redis-autoscaler/redis-autoscaler/scaler/kube"
	"github.com/redis-autoscaler/redis-autoscaler/scaler/redisops"
)

// connFlags are the flags both commands take to reach Redis: a target with
// the exporter's auth and TLS flags, or a group.
type connFlags struct {
	target, group, kubeconfig       string
	user, passwordFile              string
	caFile, certFile, keyFile, name string
	skipVerify                      bool
}

func (c *connFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&c.target, "target", "", "Redis to use: redis://HOST:PORT or rediss://HOST:PORT (TLS)")
	fs.StringVar(&c.group, "group", "", "RedisReplicationGroup NAMESPACE/NAME instead of --target (credentials from its Secrets)")
	fs.StringVar(&c.kubeconfig, "kubeconfig", "", "kubeconfig for --group (default: in-cluster, or $KUBECONFIG)")
	fs.StringVar(&c.user, "redis.user", "", "ACL user name (Redis >= 6)")
	fs.StringVar(&c.passwordFile, "redis.password-file", "", "File holding the password, or the exporter's JSON map of address to password")
	fs.StringVar(&c.caFile, "tls-ca-cert-file", "", "CA certificate to verify rediss:// servers")
	fs.StringVar(&c.certFile, "tls-client-cert-file", "", "Client certificate for rediss:// servers that require one")
	fs.StringVar(&c.keyFile, "tls-client-key-file", "", "Client key for rediss:// servers that require one")
	fs.StringVar(&c.name, "tls-server-name", "", "Server name to verify rediss:// certificates against (default: the host)")
	fs.BoolVar(&c.skipVerify, "skip-tls-verification", false, "Do not verify rediss:// server certificates")
}

// endpoint resolves --target with the auth and TLS flags.
func (c *connFlags) endpoint() (Endpoint, error) {
	t, err := target.Parse(c.target)
	if err != nil {
		return Endpoint{}, err
	}
	if t.Network != "tcp" {
		return Endpoint{}, errors.New("--target must be redis:// or rediss://: replication needs TCP")
	}
	creds := target.Credentials{User: c.user}
	if c.passwordFile != "" {
		pw, per, err := target.LoadPasswordFile(c.passwordFile)
		if err != nil {
			return Endpoint{}, err
		}
		creds.Password, creds.PerTarget = pw, per
		if per != nil {
			if t2 := creds.ApplyPerTarget(t); t2.Password == "" {
				return Endpoint{}, fmt.Errorf("password file %s has no entry for %s", c.passwordFile, target.Redact(c.target))
			}
		}
	}
	t = creds.Apply(t)
	var tc *tls.Config
	if t.TLS {
		base, err := target.TLSOptions{CAFile: c.caFile, CertFile: c.certFile, KeyFile: c.keyFile, ServerName: c.name, SkipVerify: c.skipVerify}.Config()
		if err != nil {
			return Endpoint{}, err
		}
		tc = t.TLSConfig(base)
	}
	host, portStr, err := net.SplitHostPort(t.Address)
	port, perr := strconv.Atoi(portStr)
	if err != nil || perr != nil {
		return Endpoint{}, fmt.Errorf("--target %s: bad port", target.Redact(c.target))
	}
	return Endpoint{Host: host, Port: port, Auth: redisops.Auth{Username: t.User, Password: t.Password}, TLS: tc, Label: target.Redact(t.String())}, nil
}

// openGroup connects to the API server and reads --group.
func (c *connFlags) openGroup(ctx context.Context) (*Group, error) {
	cfg, _, err := kube.RestConfig(c.kubeconfig)
	if err != nil {
		return nil, fmt.Errorf("kubeconfig: %w", err)
	}
	cl, err := client.New(cfg, client.Options{Scheme: kube.Scheme()})
	if err != nil {
		return nil, err
	}
	return OpenGroup(ctx, cl, c.group)
}

func (c *connFlags) check() error {
	if (c.target == "") == (c.group == "") {
		return errors.New("give one of --target or --group")
	}
	return nil
}

// MainBackup is `redis-autoscaler backup`.
func MainBackup(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("backup", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cf connFlags
	cf.register(fs)
	out := fs.String("out", "", "Backup file to write (FILE and FILE.json)")
	outDir := fs.String("out-dir", "", "Directory to write NAME-YYYYMMDDTHHMMSSZ.rdb into, instead of --out")
	keep := fs.Int("keep", 0, "With --out-dir: keep only the newest N backups of this source (0: all)")
	idle := fs.Duration("timeout", time.Minute, "Longest silence from Redis before giving up")
	sample := fs.Int("sample", 100, "Keys sampled into the sidecar for the restore's check (their names are written there; 0: none)")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: redis-autoscaler backup (--target URL | --group NS/NAME) (--out FILE | --out-dir DIR [--keep N]) [flags]\n\n"+
			"Streams an RDB snapshot over the replication protocol (no file is written on the Redis side when it\n"+
			"syncs disklessly), verifies it (header, every record, CRC64) and keeps it atomically with a JSON sidecar.\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if err := cf.check(); err != nil || (*out == "") == (*outDir == "") {
		if err == nil {
			err = errors.New("give one of --out or --out-dir")
		}
		fmt.Fprintln(stderr, "backup:", err)
		return 2
	}
	fail := func(err error) int {
		fmt.Fprintln(stderr, "backup:", err)
		return 1
	}
	o := Options{Idle: *idle, SampleSize: *sample}
	if *sample <= 0 {
		o.SampleSize = -1
	}
	var ep Endpoint
	var g *Group
	name := ""
	if cf.group != "" {
		var err error
		if g, err = cf.openGroup(ctx); err != nil {
			return fail(err)
		}
		if ep, o.Role, err = g.BackupSource(ctx); err != nil {
			return fail(errors.Join(err, g.Record(ctx, nil, err)))
		}
		o.Group = g.Name()
		name = g.key.Name
	} else {
		var err error
		if ep, err = cf.endpoint(); err != nil {
			fmt.Fprintln(stderr, "backup:", err)
			return 2
		}
		name = strings.NewReplacer(":", "-", "[", "", "]", "").Replace(ep.Addr())
	}
	file := *out
	if *outDir != "" {
		file = filepath.Join(*outDir, name+"-"+time.Now().UTC().Format("20060102T150405Z")+".rdb")
	}
	var got atomic.Int64
	o.Progress = func(n int64) { got.Add(n) }
	stopProgress := showProgress(stderr, &got)
	start := time.Now()
	sc, err := Backup(ctx, ep, file, o)
	stopProgress()
	if g != nil {
		if rerr := g.Record(ctx, sc, err); rerr != nil {
			fmt.Fprintln(stderr, "backup: recording in the group's status:", rerr)
		}
	}
	if err != nil {
		return fail(err)
	}
	d := time.Since(start)
	fmt.Fprintf(stdout, "backup: %s: %s, %d keys in %s (%s/s) from %s%s\n", file, mb(sc.Size), sc.Keys,
		d.Round(time.Millisecond), mb(int64(float64(sc.Size)/d.Seconds())), ep.Label, roleSuffix(o.Role))
	if *outDir != "" && *keep > 0 {
		removed, err := prune(*outDir, name, *keep)
		if err != nil {
			return fail(fmt.Errorf("keeping the newest %d: %w", *keep, err))
		}
		for _, r := range removed {
			fmt.Fprintln(stdout, "backup: removed", r)
		}
	}
	return 0
}

// MainRestore is `redis-autoscaler restore`.
func MainRestore(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("restore", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cf connFlags
	cf.register(fs)
	in := fs.String("in", "", "Backup file to restore")
	force := fs.Bool("force", false, "Replace the data of a target that holds keys")
	listen := fs.String("listen-host", "", "Address the target connects back to for the transfer (default: this host's address towards the target)")
	certFile := fs.String("restore.tls-cert-file", "", "Certificate the transfer is served with when Redis replicates over TLS (tls-replication yes)")
	keyFile := fs.String("restore.tls-key-file", "", "Key of --restore.tls-cert-file")
	timeout := fs.Duration("timeout", 30*time.Minute, "Longest the transfer and load may take")
	holdFor := fs.Duration("hold", 30*time.Minute, "With --group: how long the scaler holds the topology at most (released when done)")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: redis-autoscaler restore (--target URL | --group NS/NAME) --in FILE [--force] [flags]\n\n"+
			"Verifies the whole file, then makes the target (the group's master) a replica of a one-off master\n"+
			"serving it: the target ends with exactly the backup's data, or unchanged. Writes are refused\n"+
			"(READONLY) during the transfer. Checks key counts and a sample of keys afterwards.\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if err := cf.check(); err != nil || *in == "" {
		if err == nil {
			err = errors.New("--in is required")
		}
		fmt.Fprintln(stderr, "restore:", err)
		return 2
	}
	o := RestoreOptions{Force: *force, ListenHost: *listen, Timeout: *timeout,
		Log: func(format string, args ...any) { fmt.Fprintf(stderr, "restore: "+format+"\n", args...) }}
	if *certFile != "" {
		pair, err := tls.LoadX509KeyPair(*certFile, *keyFile)
		if err != nil {
			fmt.Fprintln(stderr, "restore:", err)
			return 2
		}
		o.ServerTLS = &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{pair}}
	}
	var res *RestoreResult
	var err error
	if cf.group != "" {
		var g *Group
		if g, err = cf.openGroup(ctx); err == nil {
			res, err = RestoreGroup(ctx, g, *in, o, *holdFor)
		}
	} else {
		var ep Endpoint
		if ep, err = cf.endpoint(); err != nil {
			fmt.Fprintln(stderr, "restore:", err)
			return 2
		}
		res, err = Restore(ctx, ep, *in, o)
	}
	if err != nil {
		fmt.Fprintln(stderr, "restore:", err)
		return 1
	}
	fmt.Fprintf(stdout, "restore: %s into %s: %s, %d keys in %s (%s/s); key counts and %d sampled keys match\n", *in, res.TargetLabel,
		mb(res.Size), res.Keys, res.Duration.Round(time.Millisecond), mb(int64(float64(res.Size)/res.Duration.Seconds())), res.SampleKeys)
	return 0
}

func roleSuffix(role string) string {
	if role == "" {
		return ""
	}
	return " (" + role + ")"
}

func mb(n int64) string { return fmt.Sprintf("%.1f MB", float64(n)/1e6) }

// showProgress prints bytes, rate and elapsed time on one line every
// 250 ms while w is a terminal; otherwise nothing (the final line says it).
func showProgress(w io.Writer, got *atomic.Int64) (stop func()) {
	f, ok := w.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return func() {}
	}
	start := time.Now()
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(250 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				fmt.Fprint(w, "\r\033[K")
				return
			case <-t.C:
				el := time.Since(start)
				n := got.Load()
				fmt.Fprintf(w, "\r\033[K%s  %s/s  %s", mb(n), mb(int64(float64(n)/el.Seconds())), el.Round(time.Second))
			}
		}
	}()
	return func() { close(done); <-finished }
}

// prune keeps the newest keep backups named NAME-<time>.rdb in dir (the
// time format sorts by name) and removes the rest with their sidecars.
func prune(dir, name string, keep int) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	// Exactly NAME-<time>.rdb: group "db" must not prune group "db-x".
	own := regexp.MustCompile(`^` + regexp.QuoteMeta(name) + `-\d{8}T\d{6}Z\.rdb$`)
	var files []string
	for _, e := range entries {
		if own.MatchString(e.Name()) {
			files = append(files, filepath.Join(dir, e.Name()))
		}
	}
	sort.Sort(sort.Reverse(sort.StringSlice(files)))
	var removed []string
	for i, f := range files {
		if i < keep {
			continue
		}
		if err := os.Remove(f); err != nil {
			return removed, err
		}
		_ = os.Remove(SidecarPath(f))
		removed = append(removed, f)
	}
	return removed, nil
}
