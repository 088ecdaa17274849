package scaler_test

import (
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/redis-autoscaler/redis-autoscaler/scaler/api/v1alpha1"
	"github.com/redis-autoscaler/redis-autoscaler/test/redistest"
)

// A group of TLS-only Redis pods (no plain port; replication over TLS;
// certificates from a Secret the pod spec mounts) is attached and switched
// over by the scaler, which verifies the servers against the CA.
func TestTLSOnlyGroup(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "tls")
	files := redistest.NewTLS(t)
	cfg := files.ClientConfig(t)
	cfg.ServerName = "redis.test"
	e.tls = cfg
	read := func(path string) []byte {
		b, err := os.ReadFile(path)
		require.NoError(t, err)
		return b
	}
	require.NoError(t, e.cl.Create(e.ctx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "redis-tls", Namespace: e.ns},
		Data: map[string][]byte{"ca.crt": read(files.CA), "tls.crt": read(files.ServerCert), "tls.key": read(files.ServerKey),
			"client.crt": read(files.ClientCert), "client.key": read(files.ClientKey)},
	}))
	require.NoError(t, e.cl.Create(e.ctx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "scaler-client", Namespace: e.ns},
		Type:       corev1.SecretTypeTLS,
		Data:       map[string][]byte{"tls.crt": read(files.ClientCert), "tls.key": read(files.ClientKey)},
	}))
	e.startScaler(nil)
	e.createGroupEdited("cache", 3, func(sts *appsv1.StatefulSet) {
		spec := &sts.Spec.Template.Spec
		spec.Volumes = []corev1.Volume{{Name: "tls", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "redis-tls"}}}}
		spec.Containers[0].VolumeMounts = []corev1.VolumeMount{{Name: "tls", MountPath: "/tls", ReadOnly: true}}
	}, "--port", "0", "--tls-port", "6379",
		"--tls-cert-file", "/tls/tls.crt", "--tls-key-file", "/tls/tls.key", "--tls-ca-cert-file", "/tls/ca.crt",
		// Replication over TLS, replicas presenting a client certificate
		// (clients must: tls-auth-clients defaults to yes).
		"--tls-replication", "yes", "--tls-client-cert-file", "/tls/client.crt", "--tls-client-key-file", "/tls/client.key",
		"--replicaof", "127.0.0.1", "1")
	g := e.group("cache")
	patch := client.MergeFrom(g.DeepCopy())
	g.Spec.TLS = &v1alpha1.TLSSpec{Enabled: true, ServerName: "redis.test",
		CASecretRef: &v1alpha1.SecretKeyRef{Name: "redis-tls", Key: "ca.crt"}, ClientCertSecretName: "scaler-client"}
	require.NoError(t, e.cl.Patch(e.ctx, g, patch))

	m := e.waitConverged("cache", 3, 90*time.Second)
	keys := make([]string, 200)
	for i := range keys {
		keys[i] = fmt.Sprintf("tls-%d", i)
		require.NoError(t, e.redis(m.Status.PodIP).Set(e.ctx, keys[i], i, 0).Err())
	}
	// Plain TCP is refused: the pods are TLS-only.
	plain := *e
	plain.tls = nil
	_, err := plain.observe(m.Status.PodIP)
	require.Error(t, err, "a plain connection to a TLS-only pod")

	e.makeMaster("cache", "cache-2", 3)
	w := e.startWriter("cache", "w-")
	require.Eventually(t, func() bool { return w.Count() > 100 }, 20*time.Second, 10*time.Millisecond)
	e.scale("cache", 2)
	m = e.waitConverged("cache", 2, 90*time.Second)
	acked := w.Finish()
	t.Logf("TLS-only group scaled 3 -> 2 over a switchover: master %s, %d writes acknowledged; event %s", m.Name, len(acked), e.requireEvent("Switchover"))
	for _, p := range e.pods("cache") {
		e.requireKeys(p.Status.PodIP, append(acked, keys...))
	}
}
