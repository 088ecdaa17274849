package cluster_test

import (
	"net"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// A redis.conf from a ConfigMap volume as first argument is used, later
// args override it, a password from a Secret reaches --requirepass through
// $(VAR) expansion, and the readiness check authenticates.
func TestRedisConfigFileAndPassword(t *testing.T) {
	c, ns, ctx := sharedNamespace(t, "conf", time.Minute)

	_, err := c.Client.CoreV1().ConfigMaps(ns).Create(ctx, &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: "redis-conf"},
		// dir, logfile, port name container paths and ports; the runner
		// replaces them with the pod's own.
		Data: map[string]string{"redis.conf": "port 6379\ndir /data\nlogfile /var/log/redis/redis.log\nmaxmemory 32mb\nmaxmemory-policy allkeys-lfu\n"},
	}, metav1.CreateOptions{})
	require.NoError(t, err)
	_, err = c.Client.CoreV1().Secrets(ns).Create(ctx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "redis-auth"},
		StringData: map[string]string{"password": "pw-123"},
	}, metav1.CreateOptions{})
	require.NoError(t, err)
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "conf", Labels: map[string]string{"app": "conf"}},
		Spec: corev1.PodSpec{
			Containers: []corev1.Container{{
				Name:    "redis",
				Image:   "docker.io/library/redis:7.0",
				Command: []string{"redis-server"},
				Args:    []string{"/etc/redis/redis.conf", "--maxmemory-policy", "volatile-lru", "--requirepass", "$(REDIS_PASSWORD)"},
				Env: []corev1.EnvVar{{Name: "REDIS_PASSWORD", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
					LocalObjectReference: corev1.LocalObjectReference{Name: "redis-auth"}, Key: "password"}}}},
				VolumeMounts: []corev1.VolumeMount{{Name: "conf", MountPath: "/etc/redis"}},
			}},
			Volumes: []corev1.Volume{{Name: "conf", VolumeSource: corev1.VolumeSource{
				ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: "redis-conf"}}}}},
		},
	}
	_, err = c.Client.CoreV1().Pods(ns).Create(ctx, pod, metav1.CreateOptions{})
	require.NoError(t, err)
	p := readyPods(t, c.Client, ns, pod.Labels, 1, 30*time.Second)[0]

	addr := net.JoinHostPort(p.Status.PodIP, "6379")
	anon := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1})
	defer anon.Close()
	require.ErrorContains(t, anon.Ping(ctx).Err(), "NOAUTH")

	rc := redis.NewClient(&redis.Options{Addr: addr, Password: "pw-123", MaxRetries: -1})
	defer rc.Close()
	cfg, err := rc.ConfigGet(ctx, "maxmemory*").Result()
	require.NoError(t, err)
	require.Equal(t, "33554432", cfg["maxmemory"], "from the ConfigMap's redis.conf")
	require.Equal(t, "volatile-lru", cfg["maxmemory-policy"], "args override the file")
}
