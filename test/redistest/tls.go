package redistest

import (
	"crypto/tls"
	"crypto/x509"
	"net"
	"os"
	"path/filepath"
	"testing"

	"github.com/redis-autoscaler/redis-autoscaler/test/testcerts"
)

// TLSFiles are PEM files of a throwaway CA, a server certificate for
// 127.0.0.1/localhost signed by it, and a client certificate.
type TLSFiles struct {
	CA, ServerCert, ServerKey, ClientCert, ClientKey string
}

// NewTLS writes a fresh CA and certificates into a temporary directory.
func NewTLS(t testing.TB) *TLSFiles {
	t.Helper()
	return newTLS(t, []string{"localhost", "redis.test"}, false)
}

// NewTLSNamed is NewTLS with a server certificate for these DNS names
// (and 127.0.0.1) that is also valid as a client certificate, as Redis
// replicas present their own certificate to the master (tls-replication).
func NewTLSNamed(t testing.TB, names ...string) *TLSFiles {
	t.Helper()
	return newTLS(t, names, true)
}

func newTLS(t testing.TB, names []string, serverIsClient bool) *TLSFiles {
	t.Helper()
	dir := t.TempDir()
	ca, err := testcerts.NewCA("redistest CA")
	if err != nil {
		t.Fatal(err)
	}
	server, err := ca.Issue(testcerts.Options{
		CommonName: names[0],
		DNSNames:   names,
		IPs:        []net.IP{net.ParseIP("127.0.0.1")},
		Server:     true,
		Client:     serverIsClient,
	})
	if err != nil {
		t.Fatal(err)
	}
	client, err := ca.Issue(testcerts.Options{CommonName: "redis-autoscaler-test-client", Client: true})
	if err != nil {
		t.Fatal(err)
	}
	f := &TLSFiles{CA: filepath.Join(dir, "ca.crt")}
	if err := ca.WriteCert(f.CA); err != nil {
		t.Fatal(err)
	}
	if f.ServerCert, f.ServerKey, err = server.WriteFiles(dir, "server"); err != nil {
		t.Fatal(err)
	}
	if f.ClientCert, f.ClientKey, err = client.WriteFiles(dir, "client"); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *TLSFiles) clientConfig() (*tls.Config, error) {
	pool := x509.NewCertPool()
	b, err := os.ReadFile(f.CA)
	if err != nil {
		return nil, err
	}
	pool.AppendCertsFromPEM(b)
	cert, err := tls.LoadX509KeyPair(f.ClientCert, f.ClientKey)
	if err != nil {
		return nil, err
	}
	return &tls.Config{RootCAs: pool, Certificates: []tls.Certificate{cert}, ServerName: "localhost", MinVersion: tls.VersionTLS12}, nil
}
