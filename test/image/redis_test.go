package image

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"
)

// requireRoot fails in CI and skips elsewhere when the test cannot chroot.
func requireRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() == 0 {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("this test chroots into the image: run it as root")
	}
	t.Skip("not root: cannot chroot into the image")
}

// redisRoot builds the Redis image, writes its archive and unpacks the
// layer into a directory, as containerd's snapshotter would.
func redisRoot(t *testing.T) (Image, string) {
	t.Helper()
	requireRoot(t)
	im, err := RedisImage()
	require.NoError(t, err)
	archive := filepath.Join(t.TempDir(), "redis.tar")
	_, err = im.WriteDockerArchive(archive)
	require.NoError(t, err)
	root := filepath.Join(t.TempDir(), "rootfs")
	require.NoError(t, os.Mkdir(root, 0o755))
	extractLayer(t, openArchive(t, archive).layer, root)
	return im, root
}

// chroot runs argv inside root as user ("uid:gid", "" for root) with the
// image's environment.
func chroot(t *testing.T, im Image, root, user string, argv ...string) (string, error) {
	t.Helper()
	args := []string{}
	if user != "" {
		args = append(args, "--userspec="+user)
	}
	args = append(append(args, root), argv...)
	cmd := exec.Command("chroot", args...)
	cmd.Env = im.Env
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// The image is self-contained: its own loader finds every library ldd
// lists on the host, at the same path, and every program runs from it.
func TestRedisImage(t *testing.T) {
	im, root := redisRoot(t)
	t.Run("libraries", func(t *testing.T) {
		for _, prog := range redisPrograms {
			host, err := lddDeps(prog)
			require.NoError(t, err)
			require.Contains(t, host, "/lib64/ld-linux-x86-64.so.2", "the loader")
			out, err := chroot(t, im, root, "", "/lib64/ld-linux-x86-64.so.2", "--list", prog)
			require.NoError(t, err, out)
			inImage, err := parseLdd([]byte(out))
			require.NoError(t, err, "%s in the image", prog)
			require.ElementsMatch(t, host, inImage, prog)
		}
	})
	applets := "for a in " + strings.Join(slices.DeleteFunc(slices.Clone(busyboxApplets), func(a string) bool { return a == "[" }), " ") +
		"; do command -v $a >/dev/null || echo missing $a; done; echo checked"
	for name, tc := range map[string]struct {
		user    string
		argv    []string
		want    string
		failing bool // the program exits non-zero by design
	}{
		"redis-server":      {argv: []string{"/usr/bin/redis-server", "--version"}, want: "Redis server v=7.0"},
		"redis-sentinel":    {argv: []string{"redis-sentinel", "--version"}, want: "Redis server v=7.0"},
		"redis-cli":         {argv: []string{"redis-cli", "--version"}, want: "redis-cli 7.0"},
		"redis-check-rdb":   {argv: []string{"redis-check-rdb", "--version"}, want: "redis-check-rdb 7.0"},
		"redis-check-aof":   {argv: []string{"redis-check-aof"}, want: "Usage: redis-check-aof", failing: true},
		"sh":                {argv: []string{"/bin/sh", "-c", "echo ok"}, want: "ok\n"},
		"applets":           {argv: []string{"sh", "-c", applets}, want: "checked\n"},
		"root":              {argv: []string{"id"}, want: "uid=0(root) gid=0(root)"},
		"redis user":        {user: "999:999", argv: []string{"sh", "-c", "id && touch /data/x && echo writable && touch /tmp/y && echo tmp"}, want: "uid=999(redis) gid=999(redis)"},
		"entrypoint option": {argv: []string{"/usr/local/bin/docker-entrypoint.sh", "--version"}, want: "Redis server v=7.0"},
		"entrypoint conf":   {argv: []string{"/usr/local/bin/docker-entrypoint.sh", "/no/such.conf"}, want: "Fatal error, can't open config file '/no/such.conf'", failing: true},
		"entrypoint cmd":    {argv: []string{"/usr/local/bin/docker-entrypoint.sh", "redis-cli", "--version"}, want: "redis-cli 7.0"},
		"cli has tls":       {argv: []string{"redis-cli", "--tls", "-p", "1", "ping"}, want: "Could not connect to Redis at 127.0.0.1:1", failing: true},
	} {
		t.Run(name, func(t *testing.T) {
			out, err := chroot(t, im, root, tc.user, tc.argv...)
			if !tc.failing {
				require.NoError(t, err, out)
			}
			require.Contains(t, out, tc.want)
		})
	}
}

// example is a Redis StatefulSet of deploy/examples and the ConfigMap its
// config volume mounts.
type example struct {
	statefulSet, configMap string
}

// The examples' pods run on the image as their StatefulSets say: the
// container's args through the image's entrypoint, the pod's user, the
// config and auth files where the volumes mount them, a read-only root
// with /data writable, and both probes' commands succeeding.
func TestRedisExamplesRunOnImage(t *testing.T) {
	im, root := redisRoot(t)
	for name, ex := range map[string]example{
		"redis-group":   {"deploy/examples/redis-group/statefulset.yaml", "deploy/examples/redis-group/redis-config.yaml"},
		"redis-cluster": {"deploy/examples/redis-cluster/statefulset.yaml", "deploy/examples/redis-cluster/redis-config.yaml"},
	} {
		t.Run(name, func(t *testing.T) {
			var sts appsv1.StatefulSet
			require.NoError(t, yaml.UnmarshalStrict([]byte(repoFile(t, ex.statefulSet)), &sts))
			var cm corev1.ConfigMap
			require.NoError(t, yaml.UnmarshalStrict([]byte(repoFile(t, ex.configMap)), &cm))
			pod := sts.Spec.Template.Spec
			i := slices.IndexFunc(pod.Containers, func(c corev1.Container) bool { return c.Name == "redis" })
			require.GreaterOrEqual(t, i, 0, "no redis container")
			c := pod.Containers[i]
			require.Equal(t, RedisName, c.Image)

			const password = "example-password"
			env := containerEnv(t, c, password)
			argv := containerArgv(im, c, env)
			user := podUser(t, pod, c)
			for _, m := range c.VolumeMounts {
				dir := filepath.Join(root, m.MountPath)
				require.NoError(t, os.RemoveAll(dir))
				require.NoError(t, os.MkdirAll(dir, 0o755))
				switch m.Name {
				case "data":
					require.NoError(t, os.Chown(dir, 0, int(*pod.SecurityContext.FSGroup)))
					require.NoError(t, os.Chmod(dir, 0o2775))
				case "config":
					for k, v := range cm.Data {
						require.NoError(t, os.WriteFile(filepath.Join(dir, k), []byte(v), 0o644))
					}
				case "auth":
					f := filepath.Join(dir, "auth.conf")
					require.NoError(t, os.WriteFile(f, []byte(fmt.Sprintf("requirepass %s\nmasterauth %s\n", password, password)), 0o440))
					require.NoError(t, os.Chown(f, 0, int(*pod.SecurityContext.FSGroup)))
				default:
					t.Fatalf("volume %s: the test does not know what it holds", m.Name)
				}
			}

			server := startInPod(t, root, user, append(slices.Clone(im.Env), env...), argv)
			probeEnv := append(slices.Clone(im.Env), env...)
			probe := func(p *corev1.Probe) (string, error) {
				return execInPod(server, root, user, probeEnv, p.Exec.Command)
			}
			var out string
			var err error
			for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
				select {
				case <-server.exited:
					t.Fatalf("the container's process %q exited", argv)
				default:
				}
				if out, err = probe(c.ReadinessProbe); err == nil {
					break
				}
			}
			require.NoError(t, err, "readiness probe %q: %s", c.ReadinessProbe.Exec.Command, out)
			out, err = probe(c.LivenessProbe)
			require.NoError(t, err, "liveness probe %q: %s", c.LivenessProbe.Exec.Command, out)

			// The args reached redis-server: the config file's settings
			// are in force.
			out, err = execInPod(server, root, user, probeEnv, []string{"redis-cli", "-h", "127.0.0.1", "config", "get", "appendonly"})
			require.NoError(t, err, out)
			require.Equal(t, "appendonly\nyes\n", out)
			entries, err := os.ReadDir(filepath.Join(root, "data"))
			require.NoError(t, err)
			require.NotEmpty(t, entries, "redis wrote nothing in /data")
			out, err = execInPod(server, root, user, probeEnv, []string{"touch", "/etc/written"})
			require.Error(t, err, "the root is writable: the test does not run it as the pod does")
			require.Contains(t, out, "Read-only file system")
		})
	}
}

// containerEnv is the container's environment as the kubelet sets it,
// for the sources the examples use.
func containerEnv(t *testing.T, c corev1.Container, password string) []string {
	var env []string
	for _, e := range c.Env {
		switch {
		case e.ValueFrom == nil:
			env = append(env, e.Name+"="+e.Value)
		case e.ValueFrom.FieldRef != nil && e.ValueFrom.FieldRef.FieldPath == "status.podIP":
			env = append(env, e.Name+"=127.0.0.1")
		case e.ValueFrom.SecretKeyRef != nil && e.ValueFrom.SecretKeyRef.Key == "password":
			env = append(env, e.Name+"="+password)
		default:
			t.Fatalf("env %s: source %+v unknown to the test", e.Name, e.ValueFrom)
		}
	}
	return env
}

// containerArgv composes the process as the kubelet does: command
// replaces the entrypoint (and drops the image's cmd), args replace cmd,
// $(VAR) expands from the container's environment.
func containerArgv(im Image, c corev1.Container, env []string) []string {
	entry, cmd := im.Entrypoint, im.Cmd
	if len(c.Command) > 0 {
		entry, cmd = c.Command, nil
	}
	if len(c.Args) > 0 {
		cmd = c.Args
	}
	vars := map[string]string{}
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		vars[k] = v
	}
	ref := regexp.MustCompile(`\$\(([A-Za-z_][A-Za-z0-9_]*)\)`)
	var argv []string
	for _, a := range append(slices.Clone(entry), cmd...) {
		argv = append(argv, ref.ReplaceAllStringFunc(a, func(m string) string {
			if v, ok := vars[m[2:len(m)-1]]; ok {
				return v
			}
			return m
		}))
	}
	return argv
}

// podUser is "uid:gid" from the container's or the pod's securityContext.
func podUser(t *testing.T, pod corev1.PodSpec, c corev1.Container) string {
	uid, gid := pod.SecurityContext.RunAsUser, pod.SecurityContext.RunAsGroup
	if sc := c.SecurityContext; sc != nil {
		if sc.RunAsUser != nil {
			uid = sc.RunAsUser
		}
		if sc.RunAsGroup != nil {
			gid = sc.RunAsGroup
		}
	}
	require.NotNil(t, uid, "runAsUser")
	require.NotNil(t, gid, "runAsGroup")
	if c.SecurityContext != nil && c.SecurityContext.ReadOnlyRootFilesystem != nil {
		require.True(t, *c.SecurityContext.ReadOnlyRootFilesystem, "the test runs the root read-only")
	}
	return strconv.FormatInt(*uid, 10) + ":" + strconv.FormatInt(*gid, 10)
}

// podScript makes a network namespace with loopback up (the pod's) and a
// mount namespace where the root is read-only but /data
// (readOnlyRootFilesystem with a volume), then runs the process in the
// image's working directory.
const podScript = `set -e
ip link set lo up
mount --bind "$ROOT" "$ROOT"
mount --bind "$ROOT/data" "$ROOT/data"
mount -o remount,bind,ro "$ROOT"
exec chroot --userspec="$USERSPEC" "$ROOT" /bin/sh -c 'cd /data && exec "$@"' sh "$@"
`

// podProcess is the container's process; exited closes when it ends.
type podProcess struct {
	cmd    *exec.Cmd
	exited chan struct{}
}

// startInPod starts argv as the container's process; the test's end
// kills it.
func startInPod(t *testing.T, root, user string, env, argv []string) *podProcess {
	t.Helper()
	cmd := exec.Command("unshare", append([]string{"--net", "--mount", "--", "sh", "-c", podScript, "sh"}, argv...)...)
	cmd.Env = append(slices.Clone(env), "ROOT="+root, "USERSPEC="+user)
	var log strings.Builder
	cmd.Stdout, cmd.Stderr = &log, &log
	require.NoError(t, cmd.Start())
	p := &podProcess{cmd: cmd, exited: make(chan struct{})}
	go func() {
		cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-p.exited
		if t.Failed() {
			t.Logf("container output:\n%s", log.String())
		}
	})
	return p
}

// execInPod runs argv as a probe does: in the process's network and
// mount namespaces, on the image, as the container's user, in its working
// directory.
func execInPod(server *podProcess, root, user string, env, argv []string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	args := append([]string{
		"--net=/proc/" + strconv.Itoa(server.cmd.Process.Pid) + "/ns/net",
		"--mount=/proc/" + strconv.Itoa(server.cmd.Process.Pid) + "/ns/mnt",
		"chroot", "--userspec=" + user, root, "/bin/sh", "-c", `cd /data && exec "$@"`, "sh",
	}, argv...)
	cmd := exec.CommandContext(ctx, "nsenter", args...)
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// Every Redis container in deploy/ (the examples, their TLS variant, the
// chart's example templates) names the image RedisImage builds.
func TestRedisName(t *testing.T) {
	image := regexp.MustCompile(`(?m)^\s*image:\s*"?(redis[^\s"]*)"?\s*$`)
	found := 0
	require.NoError(t, filepath.WalkDir(filepath.Join("..", "..", "deploy"), func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".yaml") {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range image.FindAllStringSubmatch(string(b), -1) {
			if m[1] == "redis-autoscaler" {
				continue // kustomize's placeholder for ProductName
			}
			found++
			require.Equal(t, RedisName, m[1], path)
		}
		return nil
	}))
	require.GreaterOrEqual(t, found, 4, "the examples and the chart's example templates")
}
