package cluster

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"os"
	"path/filepath"

	"github.com/redis-autoscaler/redis-autoscaler/test/testcerts"
)

// newServiceAccountKey writes the key pair that signs and verifies
// ServiceAccount tokens (kube-apiserver --service-account-signing-key-file,
// --service-account-key-file; kube-controller-manager
// --service-account-private-key-file).
func newServiceAccountKey(dir string) (privFile, pubFile string, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return "", "", err
	}
	privDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return "", "", err
	}
	pubDER, err := x509.MarshalPKIXPublicKey(key.Public())
	if err != nil {
		return "", "", err
	}
	privFile = filepath.Join(dir, "sa.key")
	pubFile = filepath.Join(dir, "sa.pub")
	if err := os.WriteFile(privFile, testcerts.PEM("PRIVATE KEY", privDER), 0o600); err != nil {
		return "", "", err
	}
	if err := os.WriteFile(pubFile, testcerts.PEM("PUBLIC KEY", pubDER), 0o600); err != nil {
		return "", "", err
	}
	return privFile, pubFile, nil
}
