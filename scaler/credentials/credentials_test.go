package credentials

import (
	"context"
	"os"
	"testing"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	"github.com/redis-autoscaler/redis-autoscaler/scaler/api/v1alpha1"
	"github.com/redis-autoscaler/redis-autoscaler/scaler/redisops"
	"github.com/redis-autoscaler/redis-autoscaler/scaler/topology"
	"github.com/redis-autoscaler/redis-autoscaler/test/redistest"
)

func readFile(t *testing.T, path string) []byte {
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	return b
}

// Password, CA and client certificate come from Secrets; the resulting
// client talks to a real redis-server that serves TLS only and requires a
// password.
func TestCredentialsFromSecretsReachTLSRedis(t *testing.T) {
	files := redistest.NewTLS(t)
	srv := redistest.StartWith(t, redistest.Options{Password: "tls-pw", TLS: files})
	secrets := []*corev1.Secret{
		{ObjectMeta: metav1.ObjectMeta{Name: "auth", Namespace: "ns"}, Data: map[string][]byte{"pw": []byte("tls-pw")}},
		{ObjectMeta: metav1.ObjectMeta{Name: "ca", Namespace: "ns"}, Data: map[string][]byte{"ca.crt": readFile(t, files.CA)}},
		{ObjectMeta: metav1.ObjectMeta{Name: "client", Namespace: "ns"}, Type: corev1.SecretTypeTLS,
			Data: map[string][]byte{"tls.crt": readFile(t, files.ClientCert), "tls.key": readFile(t, files.ClientKey)}},
	}
	fc := fake.NewClientBuilder().WithScheme(scheme.Scheme)
	for _, s := range secrets {
		fc = fc.WithObjects(s)
	}
	r := fc.Build()
	g := &v1alpha1.RedisReplicationGroup{ObjectMeta: metav1.ObjectMeta{Name: "g", Namespace: "ns"},
		Spec: v1alpha1.RedisReplicationGroupSpec{
			Auth: &v1alpha1.AuthSpec{PasswordSecretRef: &v1alpha1.SecretKeyRef{Name: "auth", Key: "pw"}},
			TLS:  &v1alpha1.TLSSpec{Enabled: true, CASecretRef: &v1alpha1.SecretKeyRef{Name: "ca"}, ClientCertSecretName: "client"},
		}}
	auth, tc, err := Group(context.Background(), r, g)
	require.NoError(t, err)
	assert.Equal(t, "tls-pw", auth.Password)
	require.NotNil(t, tc.Config)
	assert.Len(t, tc.Config.Certificates, 1)
	assert.NotEmpty(t, tc.Key)

	c := redis.NewClient(redisops.ClientOptions(srv.Host, srv.TLSPort, auth, tc.Config))
	defer c.Close()
	var p topology.Pod
	require.NoError(t, redisops.Observe(context.Background(), c, &p))
	assert.True(t, p.IsMaster())

	// A missing Secret is an error naming the Secret, never its content.
	g.Spec.Auth.PasswordSecretRef.Name = "nope"
	_, _, err = Group(context.Background(), r, g)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "ns/nope")
}
