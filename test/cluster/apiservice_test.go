package cluster_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/redis-autoscaler/redis-autoscaler/test/cluster"
	"github.com/redis-autoscaler/redis-autoscaler/test/testcerts"
)

// A tiny aggregated API server on the host, registered with
// RegisterAPIService, is reached through kube-apiserver: the aggregator
// verifies it with the caBundle, and it authenticates the aggregator by the
// front-proxy client certificate and reads the user from X-Remote-User.
func TestRegisterAPIService(t *testing.T) {
	t.Parallel()
	c := cluster.Shared(t)
	ctx := ctxT(t, time.Minute)
	const group, version = "probe.test.redis-autoscaler.io", "v1"

	ca, err := testcerts.NewCA("aggregated-test-ca")
	require.NoError(t, err)
	serving, err := ca.Issue(testcerts.Options{
		CommonName: "aggregated", DNSNames: []string{cluster.APIServiceHost(group, version)}, Server: true,
	})
	require.NoError(t, err)
	cert, err := serving.TLSCertificate()
	require.NoError(t, err)
	proxyCAs := x509.NewCertPool()
	proxyCAs.AddCert(c.FrontProxyCA.Cert)

	mux := http.NewServeMux()
	mux.HandleFunc("/apis/"+group+"/"+version, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{
			"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": group + "/" + version,
			"resources": []map[string]any{{"name": "whoami", "namespaced": false, "kind": "WhoAmI", "verbs": []string{"get"}}},
		})
	})
	mux.HandleFunc("/apis/"+group+"/"+version+"/whoami/me", func(w http.ResponseWriter, r *http.Request) {
		// Trust X-Remote-User only from the front-proxy client.
		if len(r.TLS.VerifiedChains) == 0 || r.TLS.PeerCertificates[0].Subject.CommonName != cluster.FrontProxyClientName {
			http.Error(w, "not the front proxy", http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{
			"kind": "WhoAmI", "apiVersion": group + "/" + version,
			"user": r.Header.Get("X-Remote-User"), "groups": r.Header.Values("X-Remote-Group"),
		})
	})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv := &http.Server{Handler: mux, TLSConfig: &tls.Config{
		Certificates: []tls.Certificate{cert},
		ClientAuth:   tls.VerifyClientCertIfGiven,
		ClientCAs:    proxyCAs,
	}}
	go srv.ServeTLS(l, "", "")
	t.Cleanup(func() { srv.Close() })

	port := l.Addr().(*net.TCPAddr).Port
	require.NoError(t, c.RegisterAPIService(ctx, group, version, port, ca.CertPEM))
	t.Cleanup(func() {
		// A dangling APIService would break discovery for the other tests.
		require.NoError(t, c.UnregisterAPIService(context.Background(), group, version))
	})
	require.NoError(t, c.WaitAPIServiceAvailable(ctx, group, version, 30*time.Second))

	body, err := c.Client.Discovery().RESTClient().Get().AbsPath("/apis", group, version, "whoami", "me").DoRaw(ctx)
	require.NoError(t, err)
	var got struct {
		User   string   `json:"user"`
		Groups []string `json:"groups"`
	}
	require.NoError(t, json.Unmarshal(body, &got))
	require.Equal(t, "admin", got.User)
	require.Contains(t, got.Groups, "system:masters")
}
