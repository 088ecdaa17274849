package cluster

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// redisPort is the port Redis listens on: --port in the args, else the
// container port named "redis", else the first container port, else 6379.
func redisPort(c *corev1.Container, args []string) int {
	if v, ok := redisOption(args, "port"); ok {
		if n, err := strconv.Atoi(v); err == nil && n > 0 {
			return n
		}
	}
	for _, p := range c.Ports {
		if p.Name == "redis" {
			return int(p.ContainerPort)
		}
	}
	if len(c.Ports) > 0 {
		return int(c.Ports[0].ContainerPort)
	}
	return 6379
}

// redisOption returns the value of the last "--name value" in args.
func redisOption(args []string, name string) (string, bool) {
	val, found := "", false
	for i := 0; i+1 < len(args); i++ {
		if strings.EqualFold(args[i], "--"+name) {
			val, found = args[i+1], true
		}
	}
	return val, found
}

// redisArgs extracts the redis-server arguments from command and args. The
// official image's entrypoint takes either "redis-server ..." or options
// alone; anything else (e.g. "sh -c ...") cannot be run without a shell
// image and is refused.
func redisArgs(c *corev1.Container, vars map[string]string) ([]string, error) {
	cmd := expandAll(c.Command, vars)
	args := expandAll(c.Args, vars)
	argv := args
	if len(cmd) > 0 {
		switch filepath.Base(cmd[0]) {
		case "redis-server", "docker-entrypoint.sh":
			argv = append(cmd[1:len(cmd):len(cmd)], args...)
		default:
			return nil, fmt.Errorf("command %q is not redis-server", cmd[0])
		}
	}
	if len(argv) > 0 && filepath.Base(argv[0]) == "redis-server" {
		argv = argv[1:]
	}
	return argv, nil
}

// redisProcess builds the redis-server command line: the container's own
// arguments (container paths mapped to host paths), then the settings the
// runner must control, last so they win: the pod's address and port, the
// data directory, and logging to the captured stdout.
//
// The data directory is the volume mounted at the --dir the args ask for,
// else a volume mounted at /data (the official image's working dir), else
// the first PersistentVolumeClaim mount, else a fresh empty directory per
// container start: without a volume, a restarted Redis comes back empty,
// as a restarted container does.
func (r *PodRunner) redisProcess(pod *corev1.Pod, st *podState, c *containerState, ms mounts, env []string, vars map[string]string) (processSpec, error) {
	argv, err := redisArgs(&c.spec, vars)
	if err != nil {
		return processSpec{}, err
	}
	// A leading non-option is a config file path. Use it when a volume
	// (ConfigMap, Secret, ...) provides it; the image's own files do not
	// exist here, so otherwise drop it.
	var cf confSettings
	if len(argv) > 0 && !strings.HasPrefix(argv[0], "-") {
		hp, ok := ms.hostPath(argv[0])
		if _, statErr := os.Stat(hp); !ok || statErr != nil {
			r.log.Warn("redis config file not provided by a volume; ignored", "pod", st.key, "file", argv[0])
			r.recorder.Eventf(pod, corev1.EventTypeWarning, "ConfigFileIgnored", "%s: no volume provides it; started without it", argv[0])
			argv = argv[1:]
		} else {
			conf := filepath.Join(st.dir, c.spec.Name+"-redis.conf")
			if cf, err = rewriteRedisConf(hp, conf, ms); err != nil {
				return processSpec{}, err
			}
			argv[0] = conf
		}
	}
	userDir, hasUserDir := redisOption(argv, "dir")
	if !hasUserDir && cf.dir != "" {
		userDir, hasUserDir = cf.dir, true
	}
	for i := range argv {
		argv[i] = ms.rewriteArg(argv[i])
	}
	dataDir := ""
	if hasUserDir {
		dataDir, _ = ms.hostPath(userDir)
	}
	if dataDir == "" {
		dataDir, _ = ms.hostPath("/data")
	}
	if dataDir == "" {
		for _, m := range ms {
			if m.persistent {
				dataDir = m.hostPath
				break
			}
		}
	}
	if dataDir == "" {
		dataDir = filepath.Join(st.dir, c.spec.Name+"-data")
		if err := os.RemoveAll(dataDir); err != nil {
			return processSpec{}, err
		}
	}
	if err := os.MkdirAll(dataDir, 0o755); err != nil {
		return processSpec{}, err
	}
	port := redisPort(&c.spec, argv)
	password, ok := redisOption(argv, "requirepass")
	if !ok {
		password = cf.password
	}
	// TLS only (port 0 and a tls-port, in args or the config file): the
	// plain port stays closed and readiness is checked on the TLS port.
	plainPort := strconv.Itoa(port)
	tlsOnly := false
	portOpt, hasPort := redisOption(argv, "port")
	if !hasPort {
		portOpt, hasPort = cf.port, cf.port != ""
	}
	tlsPortOpt, hasTLSPort := redisOption(argv, "tls-port")
	if !hasTLSPort {
		tlsPortOpt, hasTLSPort = cf.tlsPort, cf.tlsPort != ""
	}
	if hasPort && portOpt == "0" && hasTLSPort {
		if n, err := strconv.Atoi(tlsPortOpt); err == nil && n > 0 {
			port, plainPort, tlsOnly = n, "0", true
		}
	}
	st.mu.Lock()
	c.port, c.password, c.tlsOnly = port, password, tlsOnly
	st.mu.Unlock()
	argv = append(argv,
		"--bind", st.ip,
		"--port", plainPort,
		"--dir", dataDir,
		"--daemonize", "no",
		"--supervised", "no",
		"--logfile", "",
		"--pidfile", "",
	)
	return processSpec{
		Path: r.opts.RedisServer,
		Args: argv,
		Env:  append(baseEnv(st), env...),
		Dir:  dataDir,
	}, nil
}

// baseEnv is the environment every pod process starts from: enough to run,
// nothing of the test process's own (KUBECONFIG in particular).
func baseEnv(st *podState) []string {
	return []string{"PATH=" + os.Getenv("PATH"), "HOME=" + st.dir}
}

// overriddenDirectives are set by the runner on the command line; in a
// config file they may name container paths that do not exist on the host,
// and Redis applies "dir" (a chdir) while still reading the file.
var overriddenDirectives = map[string]bool{
	"dir": true, "logfile": true, "pidfile": true, "daemonize": true,
	"supervised": true, "bind": true, "port": true,
}

// rewriteRedisConf copies a redis.conf, dropping the directives the runner
// sets and mapping absolute container paths (include, tls-*-file, aclfile
// ...) to host paths, and returns the settings of the file the runner needs.
func rewriteRedisConf(src, dst string, ms mounts) (confSettings, error) {
	b, err := os.ReadFile(src)
	if err != nil {
		return confSettings{}, err
	}
	text := string(b)
	cf := confSettings{
		password: confDirective(text, "requirepass", ms),
		port:     confDirective(text, "port", ms),
		tlsPort:  confDirective(text, "tls-port", ms),
	}
	cf.dir, err = rewriteConfFile(text, dst, ms, 0)
	return cf, err
}

// confSettings are what a config file (and its includes) says that the
// runner acts on.
type confSettings struct {
	// dir chooses the data directory as --dir would.
	dir string
	// password (requirepass, often from an included Secret) is what
	// readiness checks authenticate with.
	password string
	// port and tlsPort: the runner sets --port itself, so a TLS-only
	// config (port 0, tls-port N) must keep the plain port closed.
	port, tlsPort string
}

// rewriteConfFile writes text to dst with container paths mapped; an
// included file that a volume provides is rewritten the same way (its
// paths are container paths too) into dst.<n> and included from there.
func rewriteConfFile(text, dst string, ms mounts, depth int) (dir string, err error) {
	var out []string
	for i, line := range strings.Split(text, "\n") {
		fields := strings.Fields(line)
		if len(fields) == 0 || strings.HasPrefix(fields[0], "#") {
			out = append(out, line)
			continue
		}
		name := strings.ToLower(fields[0])
		if overriddenDirectives[name] {
			if name == "dir" && len(fields) > 1 {
				dir = strings.Trim(fields[1], `"'`)
			}
			continue
		}
		if name == "include" && len(fields) > 1 && depth < 5 {
			if hp, ok := ms.hostPath(fields[1]); ok {
				if b, rerr := os.ReadFile(hp); rerr == nil {
					inc := fmt.Sprintf("%s.%d", dst, i)
					d, werr := rewriteConfFile(string(b), inc, ms, depth+1)
					if werr != nil {
						return "", werr
					}
					if d != "" {
						dir = d
					}
					out = append(out, "include "+inc)
					continue
				}
			}
		}
		for i := 1; i < len(fields); i++ {
			fields[i] = ms.rewriteArg(fields[i])
		}
		out = append(out, strings.Join(fields, " "))
	}
	return dir, os.WriteFile(dst, []byte(strings.Join(out, "\n")), 0o600)
}

// confDirective is the last value of a directive in a redis.conf text,
// following include lines (container paths mapped to host paths).
func confDirective(text, name string, ms mounts) string {
	val := ""
	for _, line := range strings.Split(text, "\n") {
		fields := strings.Fields(line)
		if len(fields) < 2 {
			continue
		}
		switch strings.ToLower(fields[0]) {
		case name:
			val = strings.Trim(fields[1], `"'`)
		case "include":
			if hp, ok := ms.hostPath(fields[1]); ok {
				if b, err := os.ReadFile(hp); err == nil {
					if v := confDirective(string(b), name, ms); v != "" {
						val = v
					}
				}
			}
		}
	}
	return val
}
