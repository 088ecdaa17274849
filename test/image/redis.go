package image

import (
	"bufio"
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
)

// RedisName is the Redis image the examples' StatefulSets and the
// chart's example templates name.
const RedisName = "redis:7.0"

// redisPrograms are Debian's Redis executables the official image has in
// /usr/local/bin (redis-server and redis-sentinel are symlinks to
// redis-check-rdb there as here).
var redisPrograms = []string{
	"/usr/bin/redis-server",
	"/usr/bin/redis-sentinel",
	"/usr/bin/redis-cli",
	"/usr/bin/redis-check-rdb",
	"/usr/bin/redis-check-aof",
}

// hostBusybox is Debian busybox-static's binary: static, so it needs no
// libraries of its own.
const hostBusybox = "/bin/busybox"

// busyboxApplets are linked to busybox: the probes' sh and grep, the
// entrypoint's test, and what one reaches for in `kubectl exec`.
var busyboxApplets = []string{
	"[", "awk", "cat", "chmod", "chown", "cp", "cut", "date", "df", "du",
	"echo", "env", "false", "find", "grep", "head", "hostname", "id",
	"kill", "ln", "ls", "mkdir", "mv", "nc", "nslookup", "pidof", "printf",
	"ps", "pwd", "rm", "sed", "sh", "sleep", "sort", "tail", "tee", "test",
	"timeout", "top", "touch", "tr", "true", "uname", "wc", "wget", "which",
}

// redisUID is the official image's redis user and group, the examples'
// runAsUser and fsGroup.
const redisUID = 999

// redisEntrypoint is the official image's docker-entrypoint.sh without
// its privilege drop (no gosu here; the examples run as 999 already). The
// examples give only args ([/etc/redis/conf/redis.conf, ...]): this
// script turns them into a redis-server command line, as the official
// image does.
const redisEntrypoint = `#!/bin/sh
set -e

# The first argument is an option (-f, --port) or a config file: run
# redis-server with them.
if [ "${1#-}" != "$1" ] || [ "${1%.conf}" != "$1" ]; then
	set -- redis-server "$@"
fi

# Files Redis creates (RDB, AOF, nodes.conf) readable by its user only.
um="$(umask)"
if [ "$um" = '0022' ]; then
	umask 0077
fi

exec "$@"
`

// RedisImage is redis:7.0 assembled from Debian's packages on this
// machine: the Redis programs with every library ldd lists for them,
// busybox for the probes' shell, the official image's redis user (999),
// /data as working directory and its docker-entrypoint.sh semantics.
func RedisImage() (Image, error) {
	tree := hostTree{}
	for _, p := range redisPrograms {
		if err := tree.add(p); err != nil {
			return Image{}, fmt.Errorf("redis image (make deps installs redis-server, redis-tools, redis-sentinel): %w", err)
		}
		libs, err := lddDeps(p)
		if err != nil {
			return Image{}, err
		}
		for _, lib := range libs {
			if err := tree.add(lib); err != nil {
				return Image{}, fmt.Errorf("redis image: library of %s: %w", p, err)
			}
		}
	}
	if err := tree.add(hostBusybox); err != nil {
		return Image{}, fmt.Errorf("redis image (make deps installs busybox-static): %w", err)
	}
	// Applets beside the binary, wherever the host's /bin leads.
	busybox, err := filepath.EvalSymlinks(hostBusybox)
	if err != nil {
		return Image{}, err
	}
	for _, applet := range busyboxApplets {
		tree.put(File{Path: filepath.Join(filepath.Dir(busybox), applet), Link: filepath.Base(busybox)})
	}
	version, err := redisVersion()
	if err != nil {
		return Image{}, err
	}

	files := tree.files()
	files = append(files,
		File{Path: "/usr/local/bin/docker-entrypoint.sh", Mode: 0o755, Data: []byte(redisEntrypoint)},
		File{Path: "/etc/passwd", Mode: 0o644, Data: []byte("root:x:0:0:root:/root:/bin/sh\nredis:x:999:999::/home/redis:/bin/sh\n")},
		File{Path: "/etc/group", Mode: 0o644, Data: []byte("root:x:0:\nredis:x:999:\n")},
		File{Path: "/root", Mode: 0o700, Dir: true},
		File{Path: "/data", Mode: 0o777, Uid: redisUID, Gid: redisUID, Dir: true},
		File{Path: "/tmp", Mode: fs.ModeSticky | 0o777, Dir: true},
	)
	return Image{
		Name:       RedisName,
		Files:      files,
		Entrypoint: []string{"/usr/local/bin/docker-entrypoint.sh"},
		Cmd:        []string{"redis-server"},
		Env: []string{
			"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
			"REDIS_VERSION=" + version,
		},
		WorkingDir:   "/data",
		ExposedPorts: []string{"6379/tcp"},
		Labels: map[string]string{
			"org.opencontainers.image.description": "Redis " + version + " from Debian's packages, assembled by test/image",
		},
	}, nil
}

// hostTree collects host paths to copy into an image, keeping every
// symlink on the way as a symlink (merged /usr's /lib -> usr/lib, Debian's
// redis-server -> redis-check-rdb, libzstd.so.1 -> libzstd.so.1.5.4), so
// the image resolves the same names the same way the host does.
type hostTree map[string]File

// add copies p: each symlink met while resolving it becomes a File, and
// the regular file it ends at is copied.
func (t hostTree) add(p string) error {
	for hops := 0; hops < 40; hops++ {
		next, done, err := t.step(filepath.Clean(p))
		if err != nil || done {
			return err
		}
		p = next
	}
	return fmt.Errorf("%s: too many symlinks", p)
}

// step walks p from the root to its first symlink, records it and
// returns the path with that link replaced by its target; at a regular
// file it records the file and is done.
func (t hostTree) step(p string) (next string, done bool, err error) {
	parts := strings.Split(strings.TrimPrefix(p, "/"), "/")
	dir := "/"
	for i, part := range parts {
		cur := filepath.Join(dir, part)
		fi, err := os.Lstat(cur)
		if err != nil {
			return "", false, err
		}
		if fi.Mode()&fs.ModeSymlink != 0 {
			target, err := os.Readlink(cur)
			if err != nil {
				return "", false, err
			}
			t.put(File{Path: cur, Link: target})
			if !filepath.IsAbs(target) {
				target = filepath.Join(dir, target)
			}
			return filepath.Join(append([]string{target}, parts[i+1:]...)...), false, nil
		}
		if i == len(parts)-1 {
			if !fi.Mode().IsRegular() {
				return "", false, fmt.Errorf("%s: not a regular file (%v)", cur, fi.Mode())
			}
			t.put(File{Path: cur, Mode: fi.Mode().Perm(), Src: cur})
			return "", true, nil
		}
		dir = cur
	}
	return "", false, fmt.Errorf("%s: empty path", p)
}

// put records f unless its path is already there (two programs share
// libraries; a busybox applet never replaces a copied program).
func (t hostTree) put(f File) {
	if _, ok := t[f.Path]; !ok {
		t[f.Path] = f
	}
}

func (t hostTree) files() []File {
	out := make([]File, 0, len(t))
	for _, f := range t {
		out = append(out, f)
	}
	return out
}

// lddLine matches the lines of ldd's output that name a file:
// "libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x...)" and the loader's
// "/lib64/ld-linux-x86-64.so.2 (0x...)"; the vDSO has no path.
var lddLine = regexp.MustCompile(`^\s*(?:\S+\s+=>\s+)?(/\S+)\s+\(0x[0-9a-f]+\)$`)

// lddDeps lists the shared objects, the dynamic loader included, that
// ldd resolves for a binary.
func lddDeps(binary string) ([]string, error) {
	out, err := exec.Command("ldd", binary).CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("ldd %s: %w\n%s", binary, err, out)
	}
	return parseLdd(out)
}

// parseLdd reads ldd's output; a library it could not find is an error,
// since the image would not start.
func parseLdd(out []byte) ([]string, error) {
	var libs []string
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		line := sc.Text()
		if strings.Contains(line, "not found") {
			return nil, fmt.Errorf("ldd: %s", strings.TrimSpace(line))
		}
		if m := lddLine.FindStringSubmatch(line); m != nil {
			libs = append(libs, m[1])
		}
	}
	return libs, sc.Err()
}

// redisVersion is the host redis-server's version ("7.0.15").
func redisVersion() (string, error) {
	out, err := exec.Command(redisPrograms[0], "--version").Output()
	if err != nil {
		return "", fmt.Errorf("redis-server --version: %w", err)
	}
	m := regexp.MustCompile(`v=(\S+)`).FindSubmatch(out)
	if m == nil {
		return "", fmt.Errorf("redis-server --version: no version in %q", out)
	}
	return string(m[1]), nil
}
