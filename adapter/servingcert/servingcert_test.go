package servingcert_test

import (
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"

	"github.com/redis-autoscaler/redis-autoscaler/adapter/servingcert"
	"github.com/redis-autoscaler/redis-autoscaler/test/cluster"
)

func TestMain(m *testing.M) { cluster.Main(m) }

const ns = "redis-autoscaler"

func parseCert(t require.TestingT, b []byte) *x509.Certificate {
	blk, _ := pem.Decode(b)
	require.NotNil(t, blk)
	c, err := x509.ParseCertificate(blk.Bytes)
	require.NoError(t, err)
	return c
}

// Under the shipped RBAC of the adapter (its ServiceAccount, scoped to one
// Secret and two APIServices by name), the self-managed certificate is
// created, written to the directory, valid for the Service's DNS name
// under the CA injected into both APIServices, and renewed before expiry.
func TestSelfManagedCertificate(t *testing.T) {
	c := cluster.Shared(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	_, err := c.Client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{})
	require.NoError(t, err)
	for _, f := range []string{"serviceaccount.yaml", "rbac.yaml", "certificate-secret.yaml"} {
		require.NoError(t, c.Apply(ctx, filepath.Join("../../deploy/base/adapter", f)))
	}
	// Another Secret beside it, which the adapter must not read.
	_, err = c.Client.CoreV1().Secrets(ns).Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "other"}}, metav1.CreateOptions{})
	require.NoError(t, err)
	for _, v := range []string{"v1beta1", "v1beta2"} {
		// Registered with insecureSkipTLSVerify, which injection turns off.
		require.NoError(t, c.RegisterAPIService(ctx, "custom.metrics.k8s.io", v, 1, nil))
	}
	require.NoError(t, c.WaitServiceAccount(ctx, ns))
	cfg, err := c.ServiceAccountConfig(ctx, ns, "redis-autoscaler-adapter")
	require.NoError(t, err)

	sa := kubernetes.NewForConfigOrDie(cfg)
	_, err = sa.CoreV1().Secrets(ns).Get(ctx, "other", metav1.GetOptions{})
	require.True(t, apierrors.IsForbidden(err), "other Secrets are not readable: %v", err)
	_, err = sa.CoreV1().Secrets(ns).List(ctx, metav1.ListOptions{})
	require.True(t, apierrors.IsForbidden(err), "Secrets cannot be listed without the name: %v", err)

	dir := t.TempDir()
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	certFile, keyFile, err := servingcert.Start(runCtx, cfg, servingcert.Options{
		Mode: servingcert.ModeSelfManaged, Namespace: ns, SecretName: "redis-autoscaler-adapter-certs",
		ServiceName: "redis-autoscaler-adapter", Dir: dir,
		APIServices:  []string{"v1beta1.custom.metrics.k8s.io", "v1beta2.custom.metrics.k8s.io"},
		CertValidity: 6 * time.Second,
	})
	require.NoError(t, err)
	require.FileExists(t, keyFile)

	dyn := dynamic.NewForConfigOrDie(c.Config)
	apiservices := dyn.Resource(schema.GroupVersionResource{Group: "apiregistration.k8s.io", Version: "v1", Resource: "apiservices"})
	var first *x509.Certificate
	require.EventuallyWithT(t, func(ct *assert.CollectT) {
		sec, err := c.Client.CoreV1().Secrets(ns).Get(ctx, "redis-autoscaler-adapter-certs", metav1.GetOptions{})
		if !assert.NoError(ct, err) {
			return
		}
		pool := x509.NewCertPool()
		if !assert.True(ct, pool.AppendCertsFromPEM(sec.Data["ca.crt"])) {
			return
		}
		b, err := os.ReadFile(certFile)
		if !assert.NoError(ct, err) {
			return
		}
		first = parseCert(t, b)
		_, err = first.Verify(x509.VerifyOptions{Roots: pool, DNSName: "redis-autoscaler-adapter.redis-autoscaler.svc"})
		assert.NoError(ct, err, "the served certificate verifies under the CA for the Service name")
		for _, v := range []string{"v1beta1", "v1beta2"} {
			obj, err := apiservices.Get(ctx, v+".custom.metrics.k8s.io", metav1.GetOptions{})
			if !assert.NoError(ct, err) {
				return
			}
			bundle, _, _ := unstructured.NestedString(obj.Object, "spec", "caBundle")
			skip, _, _ := unstructured.NestedBool(obj.Object, "spec", "insecureSkipTLSVerify")
			assert.Equal(ct, base64.StdEncoding.EncodeToString(sec.Data["ca.crt"]), bundle, v)
			assert.False(ct, skip, v)
		}
	}, 30*time.Second, 200*time.Millisecond)

	// Renewed before it expires, and the new one is written to the file.
	require.EventuallyWithT(t, func(ct *assert.CollectT) {
		b, err := os.ReadFile(certFile)
		if !assert.NoError(ct, err) {
			return
		}
		cur := parseCert(t, b)
		// cert-controller numbers every certificate 1: compare the bytes.
		assert.NotEqual(ct, first.Raw, cur.Raw, "renewed")
		assert.True(ct, time.Now().Before(cur.NotAfter))
	}, 20*time.Second, 200*time.Millisecond)
	require.True(t, time.Now().Before(first.NotAfter.Add(time.Second)), "renewed before (or at) the old one's expiry")
}
