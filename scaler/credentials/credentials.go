// Package credentials reads the Redis password and TLS client settings a
// RedisReplicationGroup or RedisCluster points at from their Secrets. The
// reconcilers and the backup command share it, so the backup command needs
// no reconciler to reach a group's Redis.
package credentials

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

// Group reads a group's password and TLS client settings from its
// Secrets. The scaler and the backup command both use it.
func Group(ctx context.Context, r client.Reader, g *v1alpha1.RedisReplicationGroup) (redisops.Auth, TLS, error) {
	return For(ctx, r, g.Namespace, g.Spec.Auth, g.Spec.TLS)
}

// For reads the password and TLS settings an auth and a TLS spec point
// at, from Secrets in namespace ns (RedisReplicationGroups and
// RedisClusters share the two specs). Secrets are read with the reader
// given, uncached in the scaler (its APIReader): it needs `get` on the few
// Secrets it is pointed at, not a cluster-wide watch of every Secret.
func For(ctx context.Context, r client.Reader, ns string, a *v1alpha1.AuthSpec, t *v1alpha1.TLSSpec) (redisops.Auth, TLS, error) {
	auth, cfg, key, err := read(ctx, r, ns, a, t)
	return auth, TLS{Config: cfg, Key: key}, err
}

func read(ctx context.Context, r client.Reader, ns string, a *v1alpha1.AuthSpec, t *v1alpha1.TLSSpec) (auth redisops.Auth, _ *tls.Config, key string, _ error) {
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

// TLS is a TLS client config (nil: plain TCP) and a digest identifying
// it, so a connection cache can tell two configs apart without comparing
// certificates.
type TLS struct {
	Config *tls.Config
	Key    string
}

// Password reads the password a SecretKeyRef names (key "password" unless
// it says otherwise) from namespace ns.
func Password(ctx context.Context, r client.Reader, ns string, ref *v1alpha1.SecretKeyRef) (string, error) {
	pw, err := secretKey(ctx, r, ns, ref.Name, keyOr(ref.Key, "password"))
	return string(pw), err
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
