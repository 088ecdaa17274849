package backup_test

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/redis-autoscaler/redis-autoscaler/backup"
	"github.com/redis-autoscaler/redis-autoscaler/scaler/redisops"
	"github.com/redis-autoscaler/redis-autoscaler/test/redistest"
)

func endpoint(s *redistest.Server) backup.Endpoint {
	return backup.Endpoint{Host: s.Host, Port: s.Port, Auth: redisops.Auth{Password: s.Password}, Label: s.HostPort()}
}

// fill writes n keys of every type into db 0 (and a few into db 3): short,
// integer and compressible strings, small and large lists, hashes, sets
// and sorted sets, streams with consumer groups and pending entries, and
// keys with TTLs. It returns the names of the keys, by database.
func fill(t testing.TB, c *redis.Client, n int) map[int][]string {
	t.Helper()
	ctx := context.Background()
	long := strings.Repeat("compressible-", 20)
	keys := map[int][]string{}
	p := c.Pipeline()
	for i := range n {
		k := fmt.Sprintf("k:%d", i)
		switch i % 10 {
		case 0:
			p.Set(ctx, k, "v"+strconv.Itoa(i), 0)
		case 1:
			p.Set(ctx, k, i, 0)
		case 2:
			p.Set(ctx, k, long+strconv.Itoa(i), time.Hour) // TTL
		case 3:
			p.RPush(ctx, k, "a", i, long)
		case 4:
			p.HSet(ctx, k, "f", i, "g", long)
		case 5:
			p.SAdd(ctx, k, 1, 2, i)
		case 6:
			p.SAdd(ctx, k, "x", "y"+strconv.Itoa(i))
		case 7:
			p.ZAdd(ctx, k, redis.Z{Score: float64(i) / 7, Member: "m"}, redis.Z{Score: -1, Member: long})
		case 8:
			p.XAdd(ctx, &redis.XAddArgs{Stream: k, Values: []any{"f", i}})
			p.XAdd(ctx, &redis.XAddArgs{Stream: k, Values: []any{"g", long}})
			p.XGroupCreate(ctx, k, "grp", "0")
			p.XReadGroup(ctx, &redis.XReadGroupArgs{Group: "grp", Consumer: "c", Streams: []string{k, ">"}, Count: 1})
		case 9:
			p.Set(ctx, k, i, 2*time.Hour) // TTL
		}
		keys[0] = append(keys[0], k)
		if p.Len() > 500 {
			_, err := p.Exec(ctx)
			require.NoError(t, err)
		}
	}
	for i := range 2000 { // large encodings: quicklist, hashtable, skiplist
		p.RPush(ctx, "big:list", long+strconv.Itoa(i))
		p.HSet(ctx, "big:hash", "f"+strconv.Itoa(i), i)
		p.SAdd(ctx, "big:set", "m"+strconv.Itoa(i))
		p.ZAdd(ctx, "big:zset", redis.Z{Score: float64(i), Member: "m" + strconv.Itoa(i)})
		if p.Len() > 500 {
			_, err := p.Exec(ctx)
			require.NoError(t, err)
		}
	}
	keys[0] = append(keys[0], "big:list", "big:hash", "big:set", "big:zset")
	_, err := p.Exec(ctx)
	require.NoError(t, err)
	conn := onDB(c, 3)
	defer conn.Close()
	for i := range 10 {
		k := fmt.Sprintf("db3:%d", i)
		require.NoError(t, conn.Set(ctx, k, i, 0).Err())
		keys[3] = append(keys[3], k)
	}
	return keys
}

// onDB is a client like c on another database (SELECT on a pooled
// connection would change the database of whoever uses it next).
func onDB(c *redis.Client, db int) *redis.Client {
	o := *c.Options()
	o.DB = db
	return redis.NewClient(&o)
}

// dump reads every key's type, value and whether it has a TTL, as text
// that is equal on two servers holding the same data.
func dump(t testing.TB, c *redis.Client, keys map[int][]string) map[string]string {
	t.Helper()
	ctx := context.Background()
	out := map[string]string{}
	for db, names := range keys {
		conn := onDB(c, db)
		defer conn.Close()
		for _, k := range names {
			typ, err := conn.Type(ctx, k).Result()
			require.NoError(t, err)
			var v any
			switch typ {
			case "string":
				v, err = conn.Get(ctx, k).Result()
			case "list":
				v, err = conn.LRange(ctx, k, 0, -1).Result()
			case "hash":
				v, err = conn.HGetAll(ctx, k).Result()
			case "set":
				var m []string
				m, err = conn.SMembers(ctx, k).Result()
				slices.Sort(m)
				v = m
			case "zset":
				v, err = conn.ZRangeWithScores(ctx, k, 0, -1).Result()
			case "stream":
				var msgs []redis.XMessage
				msgs, err = conn.XRange(ctx, k, "-", "+").Result()
				if err == nil {
					var groups []redis.XInfoGroup
					groups, err = conn.XInfoGroups(ctx, k).Result()
					v = fmt.Sprint(msgs, groups)
				}
			}
			require.NoError(t, err, k)
			ttl, err := conn.PTTL(ctx, k).Result()
			require.NoError(t, err)
			out[fmt.Sprintf("%d/%s", db, k)] = fmt.Sprintf("%s %v ttl=%v", typ, v, ttl > 0)
		}
	}
	return out
}

// noTemp asserts a backup directory holds no temporary file.
func noTemp(t *testing.T, dir string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	for _, e := range entries {
		assert.NotContains(t, e.Name(), ".tmp-", "temporary file left behind")
	}
}

// A backup taken while writes continue is a valid RDB (redis-check-rdb
// says so), holds a point-in-time snapshot (the writer's keys form an
// unbroken prefix), and restores into an empty server with every key,
// value and TTL of the data set; both transfer modes of Redis.
func TestBackupAndRestoreUnderWrites(t *testing.T) {
	for _, mode := range []string{"diskless", "disk"} {
		t.Run(mode, func(t *testing.T) {
			src := redistest.Start(t, "--repl-diskless-sync", map[string]string{"diskless": "yes", "disk": "no"}[mode], "--repl-diskless-sync-delay", "0")
			dst := redistest.Start(t)
			sc := src.Client(t)
			ctx := context.Background()
			keys := fill(t, sc, 10_000)

			var written atomic.Int64
			stop := make(chan struct{})
			var wg sync.WaitGroup
			wg.Add(1)
			go func() { // one writer: w:0, w:1, ... in order
				defer wg.Done()
				for i := 0; ; i++ {
					select {
					case <-stop:
						return
					default:
					}
					if sc.Set(ctx, "w:"+strconv.Itoa(i), i, 0).Err() != nil {
						return
					}
					written.Store(int64(i + 1))
				}
			}()
			for written.Load() < 100 {
				time.Sleep(time.Millisecond)
			}
			dir := t.TempDir()
			file := filepath.Join(dir, "snap.rdb")
			sidecar, err := backup.Backup(ctx, endpoint(src), file, backup.Options{})
			close(stop)
			wg.Wait()
			require.NoError(t, err)
			noTemp(t, dir)
			assert.Equal(t, mode == "diskless", sidecar.Diskless)

			out, err := exec.Command("redis-check-rdb", file).CombinedOutput()
			require.NoError(t, err, "redis-check-rdb: %s", out)
			assert.Contains(t, string(out), "RDB looks OK")

			st, err := os.Stat(file)
			require.NoError(t, err)
			assert.Equal(t, st.Size(), sidecar.Size)
			assert.Greater(t, sidecar.Keys, int64(10_014))
			assert.Len(t, sidecar.Sample, 100)
			assert.NotEmpty(t, sidecar.ReplID)

			res, err := backup.Restore(ctx, endpoint(dst), file, backup.RestoreOptions{})
			require.NoError(t, err)
			assert.Equal(t, sidecar.Keys, res.Keys)

			dc := dst.Client(t)
			assert.Equal(t, dump(t, sc, keys), dump(t, dc, keys))
			n, err := dc.DBSize(ctx).Result()
			require.NoError(t, err)
			w := n - int64(len(keys[0]))
			assert.Equal(t, sidecar.Keys-10, n, "db0 keys") // db3 holds 10
			for i := range w {                              // the writer's keys up to the snapshot, none after
				require.Equal(t, strconv.FormatInt(i, 10), dc.Get(ctx, "w:"+strconv.FormatInt(i, 10)).Val(), "w:%d", i)
			}
			assert.Zero(t, dc.Exists(ctx, "w:"+strconv.FormatInt(w, 10)).Val())
			ttl := dc.PTTL(ctx, "k:2").Val()
			assert.True(t, ttl > 50*time.Minute && ttl <= time.Hour, "TTL kept: %v", ttl)
			role, err := dc.Do(ctx, "ROLE").Slice()
			require.NoError(t, err)
			assert.Equal(t, "master", role[0], "the target is a master again")
		})
	}
}

// Truncated and corrupted files are refused before the target is touched,
// even with --force.
func TestRestoreRefusesDamagedFile(t *testing.T) {
	src := redistest.Start(t, "--repl-diskless-sync-delay", "0")
	dst := redistest.Start(t)
	ctx := context.Background()
	fill(t, src.Client(t), 1000)
	dir := t.TempDir()
	file := filepath.Join(dir, "good.rdb")
	_, err := backup.Backup(ctx, endpoint(src), file, backup.Options{})
	require.NoError(t, err)
	good, err := os.ReadFile(file)
	require.NoError(t, err)
	dc := dst.Client(t)
	require.NoError(t, dc.Set(ctx, "precious", "data", 0).Err())

	flipped := slices.Clone(good)
	flipped[len(flipped)/2] ^= 0x01
	for name, b := range map[string][]byte{"truncated": good[:len(good)*2/3], "flipped": flipped} {
		t.Run(name, func(t *testing.T) {
			bad := filepath.Join(dir, name+".rdb")
			require.NoError(t, os.WriteFile(bad, b, 0o600))
			_, err := backup.Restore(ctx, endpoint(dst), bad, backup.RestoreOptions{Force: true})
			require.ErrorContains(t, err, "not a complete RDB")
			assert.Equal(t, []string{"precious"}, dc.Keys(ctx, "*").Val())
			assert.Equal(t, "master", dc.Do(ctx, "ROLE").Val().([]any)[0])
		})
	}
	t.Run("sidecar mismatch", func(t *testing.T) {
		other := filepath.Join(dir, "other.rdb")
		require.NoError(t, os.WriteFile(other, good, 0o600))
		sc, err := backup.ReadSidecar(file)
		require.NoError(t, err)
		sc.Keys--
		b, err := json.Marshal(sc)
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(backup.SidecarPath(other), b, 0o600))
		_, err = backup.Restore(ctx, endpoint(dst), other, backup.RestoreOptions{Force: true})
		require.ErrorContains(t, err, "does not match its sidecar")
	})
	t.Run("target holds keys", func(t *testing.T) {
		_, err := backup.Restore(ctx, endpoint(dst), file, backup.RestoreOptions{})
		require.ErrorContains(t, err, "--force")
		assert.Equal(t, []string{"precious"}, dc.Keys(ctx, "*").Val())
	})
	t.Run("force replaces", func(t *testing.T) {
		_, err := backup.Restore(ctx, endpoint(dst), file, backup.RestoreOptions{Force: true})
		require.NoError(t, err)
		assert.Zero(t, dc.Exists(ctx, "precious").Val())
		assert.Equal(t, src.Client(t).DBSize(ctx).Val(), dc.DBSize(ctx).Val())
	})
}

// A backup that is interrupted, or whose source dies, leaves no file.
func TestBackupInterruptedLeavesNothing(t *testing.T) {
	src := redistest.Start(t, "--repl-diskless-sync-delay", "0")
	ctx := context.Background()
	require.NoError(t, src.Client(t).Do(ctx, "DEBUG", "POPULATE", 300_000, "key", 200).Err())
	dir := t.TempDir()
	file := filepath.Join(dir, "snap.rdb")
	cctx, cancel := context.WithCancel(ctx)
	var got atomic.Int64
	_, err := backup.Backup(cctx, endpoint(src), file, backup.Options{Progress: func(n int64) {
		if got.Add(n) > 1<<20 {
			cancel()
		}
	}})
	require.Error(t, err)
	assert.NoFileExists(t, file)
	assert.NoFileExists(t, backup.SidecarPath(file))
	noTemp(t, dir)

	_, err = backup.Backup(ctx, endpoint(src), file, backup.Options{Progress: func(n int64) {
		if got.Add(n) > 4<<20 {
			src.Kill()
		}
	}})
	require.Error(t, err)
	assert.NoFileExists(t, file)
	noTemp(t, dir)
}

// Password and TLS as the exporter takes them; a wrong password is a
// clear error that does not repeat the password.
func TestBackupAuthAndTLS(t *testing.T) {
	files := redistest.NewTLS(t)
	src := redistest.StartWith(t, redistest.Options{Password: "s3cret-pw", TLS: files, Args: []string{"--repl-diskless-sync-delay", "0"}})
	ctx := context.Background()
	c := redis.NewClient(&redis.Options{Addr: fmt.Sprintf("%s:%d", src.Host, src.TLSPort), Password: "s3cret-pw", TLSConfig: files.ClientConfig(t)})
	t.Cleanup(func() { c.Close() })
	require.NoError(t, c.Set(ctx, "a", "b", 0).Err())
	ep := backup.Endpoint{Host: src.Host, Port: src.TLSPort, Auth: redisops.Auth{Password: "s3cret-pw"}, TLS: files.ClientConfig(t), Label: "tls"}
	file := filepath.Join(t.TempDir(), "tls.rdb")
	sc, err := backup.Backup(ctx, ep, file, backup.Options{})
	require.NoError(t, err)
	assert.Equal(t, int64(1), sc.Keys)

	ep.Auth.Password = "wrong-pw"
	_, err = backup.Backup(ctx, ep, file+"2", backup.Options{})
	require.ErrorContains(t, err, "AUTH refused")
	assert.NotContains(t, err.Error(), "wrong-pw")
	assert.NoFileExists(t, file+"2")
}

// A target that replicates over TLS (tls-replication yes) gets the backup
// from a one-off master that serves TLS with the certificate given; without
// one the restore refuses before touching it.
func TestRestoreOverTLSReplication(t *testing.T) {
	files := redistest.NewTLS(t)
	src := redistest.Start(t, "--repl-diskless-sync-delay", "0")
	fill(t, src.Client(t), 500)
	file := filepath.Join(t.TempDir(), "snap.rdb")
	_, err := backup.Backup(context.Background(), endpoint(src), file, backup.Options{})
	require.NoError(t, err)

	dst := redistest.StartWith(t, redistest.Options{TLS: files, Args: []string{"--tls-replication", "yes"}})
	ep := backup.Endpoint{Host: dst.Host, Port: dst.TLSPort, TLS: files.ClientConfig(t), Label: "tls-target"}
	_, err = backup.Restore(context.Background(), ep, file, backup.RestoreOptions{})
	require.ErrorContains(t, err, "tls-replication yes")

	pair, err := tls.LoadX509KeyPair(files.ServerCert, files.ServerKey)
	require.NoError(t, err)
	res, err := backup.Restore(context.Background(), ep, file, backup.RestoreOptions{ServerTLS: &tls.Config{Certificates: []tls.Certificate{pair}}})
	require.NoError(t, err)
	assert.EqualValues(t, 514, res.Keys)
}

// A restore stopped in the middle of the transfer leaves the target with
// its own data, a master again.
func TestRestoreInterruptedLeavesTargetUnchanged(t *testing.T) {
	src := redistest.Start(t, "--repl-diskless-sync-delay", "0")
	ctx := context.Background()
	loadIncompressible(t, src, 30) // a transfer long enough to stop in the middle
	file := filepath.Join(t.TempDir(), "big.rdb")
	_, err := backup.Backup(ctx, endpoint(src), file, backup.Options{})
	require.NoError(t, err)

	dst := redistest.Start(t)
	dc := dst.Client(t)
	require.NoError(t, dc.Set(ctx, "precious", "data", 0).Err())
	cctx, cancel := context.WithCancel(ctx)
	go func() { // cancel once the target is receiving
		for cctx.Err() == nil {
			if v, _ := dc.Info(ctx, "replication").Result(); strings.Contains(v, "master_sync_in_progress:1") {
				cancel()
				return
			}
			time.Sleep(time.Millisecond)
		}
	}()
	_, err = backup.Restore(cctx, endpoint(dst), file, backup.RestoreOptions{Force: true})
	cancel()
	require.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, []string{"precious"}, dc.Keys(ctx, "*").Val())
	assert.Equal(t, "master", dc.Do(ctx, "ROLE").Val().([]any)[0])
}
