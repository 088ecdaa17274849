package testcerts_test

import (
	"crypto/x509"
	"encoding/pem"
	"net"
	"os"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/redis-autoscaler/redis-autoscaler/test/testcerts"
)

func TestIssue(t *testing.T) {
	ca, err := testcerts.NewCA("test CA")
	require.NoError(t, err)
	roots := x509.NewCertPool()
	roots.AddCert(ca.Cert)
	tests := []struct {
		name    string
		opts    testcerts.Options
		usage   x509.ExtKeyUsage
		dnsName string // verified as the server name when set
		refused x509.ExtKeyUsage
	}{
		{"server", testcerts.Options{CommonName: "localhost", DNSNames: []string{"localhost", "redis.test"}, IPs: []net.IP{net.ParseIP("127.0.0.1")}, Server: true},
			x509.ExtKeyUsageServerAuth, "redis.test", x509.ExtKeyUsageClientAuth},
		{"client", testcerts.Options{CommonName: "user", Organization: []string{"system:masters"}, Client: true},
			x509.ExtKeyUsageClientAuth, "", x509.ExtKeyUsageServerAuth},
		{"both", testcerts.Options{CommonName: "replica", DNSNames: []string{"replica"}, Server: true, Client: true},
			x509.ExtKeyUsageClientAuth, "replica", -1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			kp, err := ca.Issue(tc.opts)
			require.NoError(t, err)
			_, err = kp.TLSCertificate()
			require.NoError(t, err)
			dir := t.TempDir()
			certFile, keyFile, err := kp.WriteFiles(dir, tc.name)
			require.NoError(t, err)
			require.FileExists(t, keyFile)
			b, err := os.ReadFile(certFile)
			require.NoError(t, err)
			block, _ := pem.Decode(b)
			require.NotNil(t, block)
			cert, err := x509.ParseCertificate(block.Bytes)
			require.NoError(t, err)
			require.Equal(t, tc.opts.Organization, cert.Subject.Organization)
			_, err = cert.Verify(x509.VerifyOptions{Roots: roots, DNSName: tc.dnsName, KeyUsages: []x509.ExtKeyUsage{tc.usage}})
			require.NoError(t, err)
			if tc.refused >= 0 {
				_, err = cert.Verify(x509.VerifyOptions{Roots: roots, KeyUsages: []x509.ExtKeyUsage{tc.refused}})
				require.Error(t, err, "a %s certificate must not pass as %v", tc.name, tc.refused)
			}
		})
	}
}
