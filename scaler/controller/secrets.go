package controller

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/redis-autoscaler/redis-autoscaler/scaler/api/v1alpha1"
	"github.com/redis-autoscaler/redis-autoscaler/scaler/redisops"
)

// credentials reads the group's password and TLS settings from Secrets.
// Secrets are read uncached (APIReader): the scaler needs `get` on the few
// Secrets it is pointed at, not a cluster-wide watch of every Secret.
func (r *Reconciler) credentials(ctx context.Context, g *v1alpha1.RedisReplicationGroup) (redisops.Auth, tlsSettings, error) {
	auth, cfg, key, err := Credentials(ctx, r.APIReader, g)
	return auth, tlsSettings{config: cfg, key: key}, err
}

// Credentials reads a group's password and TLS client settings from its
// Secrets (nil TLS config: plain TCP); key is a digest identifying the
// TLS settings. The backup command uses it too.
func Credentials(ctx context.Context, r client.Reader, g *v1alpha1.RedisReplicationGroup) (auth redisops.Auth, _ *tls.Config, key string, _ error) {
	return CredentialsFor(ctx, r, g.Namespace, g.Spec.Auth, g.Spec.TLS)
}

// CredentialsFor reads the password and TLS settings an auth and a TLS
// spec point at, from Secrets in namespace ns (RedisReplicationGroups and
// RedisClusters share the two specs).
func CredentialsFor(ctx context.Context, r client.Reader, ns string, a *v1alpha1.AuthSpec, t *v1alpha1.TLSSpec) (auth redisops.Auth, _ *tls.Config, key string, _ error) {
	secretKey := func(name, key string) ([]byte, error) { return secretKey(ctx, r, ns, name, key) }
	if a != nil {
		auth.Username = a.Username
		if a.PasswordSecretRef != nil {
			pw, err := secretKey(a.PasswordSecretRef.Name, keyOr(a.PasswordSecretRef.Key, "password"))
			if err != nil {
				return auth, nil, "", err
			}
			auth.Password = string(pw)
		}
	}
	if t == nil || !t.Enabled {
		return auth, nil, "", nil
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: t.ServerName, InsecureSkipVerify: t.InsecureSkipVerify} //nolint:gosec // user's explicit choice
	h := sha256.New()
	fmt.Fprintf(h, "%s|%v|", t.ServerName, t.InsecureSkipVerify)
	if t.CASecretRef != nil {
		pem, err := secretKey(t.CASecretRef.Name, keyOr(t.CASecretRef.Key, "ca.crt"))
		if err != nil {
			return auth, nil, "", err
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return auth, nil, "", fmt.Errorf("secret %s/%s: no PEM certificate", ns, t.CASecretRef.Name)
		}
		cfg.RootCAs = pool
		h.Write(pem)
	}
	if t.ClientCertSecretName != "" {
		crt, err := secretKey(t.ClientCertSecretName, corev1.TLSCertKey)
		if err != nil {
			return auth, nil, "", err
		}
		key, err := secretKey(t.ClientCertSecretName, corev1.TLSPrivateKeyKey)
		if err != nil {
			return auth, nil, "", err
		}
		pair, err := tls.X509KeyPair(crt, key)
		if err != nil {
			return auth, nil, "", fmt.Errorf("secret %s/%s: %w", ns, t.ClientCertSecretName, err)
		}
		cfg.Certificates = []tls.Certificate{pair}
		h.Write(crt)
	}
	return auth, cfg, hex.EncodeToString(h.Sum(nil)), nil
}

// tlsSettings is the TLS client config and a digest identifying it.
type tlsSettings struct {
	config *tls.Config
	key    string
}

func secretKey(ctx context.Context, r client.Reader, ns, name, key string) ([]byte, error) {
	var s corev1.Secret
	if err := r.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, &s); err != nil {
		return nil, fmt.Errorf("secret %s/%s: %w", ns, name, err)
	}
	v, ok := s.Data[key]
	if !ok {
		return nil, fmt.Errorf("secret %s/%s has no key %q", ns, name, key)
	}
	return v, nil
}

func keyOr(k, def string) string {
	if k == "" {
		return def
	}
	return k
}
