package discovery

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"

	"sigs.k8s.io/yaml"
)

// Config is how to reach the API server: its URL, the TLS settings and
// the credentials (a bearer token, read again for every request so that
// rotated ServiceAccount tokens are picked up, or a client certificate).
//
// This package speaks to the API server with net/http and encoding/json
// rather than client-go: linking k8s.io/apimachinery costs the lean
// exporter about 6 MB of RSS at start-up (its package initialisers touch
// that much of the binary), as much as the rest of a one-target exporter,
// and discovery needs one list and one watch of pods.
type Config struct {
	Server string
	TLS    *tls.Config
	// Token is a bearer token; TokenFile is read for each request when
	// Token is empty.
	Token     string
	TokenFile string
	// Username and Password are basic authentication (old kubeconfigs).
	Username, Password string
}

// The in-cluster files every pod gets from its ServiceAccount.
const (
	serviceAccountDir = "/var/run/secrets/kubernetes.io/serviceaccount"
)

// InClusterConfig is the pod's own ServiceAccount, as client-go's
// rest.InClusterConfig reads it.
func InClusterConfig() (Config, error) {
	host, port := os.Getenv("KUBERNETES_SERVICE_HOST"), os.Getenv("KUBERNETES_SERVICE_PORT")
	if host == "" || port == "" {
		return Config{}, errors.New("not running in a Kubernetes pod (KUBERNETES_SERVICE_HOST/PORT unset): set --kubernetes.kubeconfig")
	}
	ca, err := os.ReadFile(filepath.Join(serviceAccountDir, "ca.crt"))
	if err != nil {
		return Config{}, fmt.Errorf("in-cluster CA: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(ca) {
		return Config{}, errors.New("in-cluster CA: no certificate in ca.crt")
	}
	return Config{
		Server:    "https://" + net.JoinHostPort(host, port),
		TLS:       &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12},
		TokenFile: filepath.Join(serviceAccountDir, "token"),
	}, nil
}

// kubeconfig is the part of a kubeconfig file discovery uses.
type kubeconfig struct {
	CurrentContext string `json:"current-context"`
	Contexts       []struct {
		Name    string `json:"name"`
		Context struct {
			Cluster  string `json:"cluster"`
			AuthInfo string `json:"user"`
		} `json:"context"`
	} `json:"contexts"`
	Clusters []struct {
		Name    string `json:"name"`
		Cluster struct {
			Server                   string `json:"server"`
			CertificateAuthority     string `json:"certificate-authority"`
			CertificateAuthorityData string `json:"certificate-authority-data"`
			InsecureSkipTLSVerify    bool   `json:"insecure-skip-tls-verify"`
			TLSServerName            string `json:"tls-server-name"`
		} `json:"cluster"`
	} `json:"clusters"`
	Users []struct {
		Name string `json:"name"`
		User struct {
			Token                 string `json:"token"`
			TokenFile             string `json:"tokenFile"`
			ClientCertificate     string `json:"client-certificate"`
			ClientCertificateData string `json:"client-certificate-data"`
			ClientKey             string `json:"client-key"`
			ClientKeyData         string `json:"client-key-data"`
			Username              string `json:"username"`
			Password              string `json:"password"`
			Exec                  any    `json:"exec"`
			AuthProvider          any    `json:"auth-provider"`
		} `json:"user"`
	} `json:"users"`
}

// LoadKubeconfig reads the current context of a kubeconfig file: server,
// CA, and a token, token file, client certificate or basic credentials.
// Exec and auth-provider plugins are refused with a clear error: they run
// programs the exporter should not.
func LoadKubeconfig(path string) (Config, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("kubeconfig: %w", err)
	}
	var kc kubeconfig
	if err := yaml.Unmarshal(raw, &kc); err != nil {
		return Config{}, fmt.Errorf("kubeconfig %s: %w", path, err)
	}
	dir := filepath.Dir(path)
	rel := func(p string) string {
		if p == "" || filepath.IsAbs(p) {
			return p
		}
		return filepath.Join(dir, p)
	}
	ctxName := kc.CurrentContext
	if ctxName == "" && len(kc.Contexts) == 1 {
		ctxName = kc.Contexts[0].Name
	}
	var clusterName, userName string
	found := false
	for _, c := range kc.Contexts {
		if c.Name == ctxName {
			clusterName, userName, found = c.Context.Cluster, c.Context.AuthInfo, true
		}
	}
	if !found {
		return Config{}, fmt.Errorf("kubeconfig %s: no context %q", path, ctxName)
	}
	cfg := Config{TLS: &tls.Config{MinVersion: tls.VersionTLS12}}
	found = false
	for _, c := range kc.Clusters {
		if c.Name != clusterName {
			continue
		}
		found = true
		cl := c.Cluster
		cfg.Server = strings.TrimSuffix(cl.Server, "/")
		cfg.TLS.InsecureSkipVerify = cl.InsecureSkipTLSVerify
		cfg.TLS.ServerName = cl.TLSServerName
		ca, err := fileOrData(rel(cl.CertificateAuthority), cl.CertificateAuthorityData)
		if err != nil {
			return Config{}, fmt.Errorf("kubeconfig %s: cluster %q CA: %w", path, clusterName, err)
		}
		if ca != nil {
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(ca) {
				return Config{}, fmt.Errorf("kubeconfig %s: cluster %q CA holds no certificate", path, clusterName)
			}
			cfg.TLS.RootCAs = pool
		}
	}
	if !found || cfg.Server == "" {
		return Config{}, fmt.Errorf("kubeconfig %s: no server for cluster %q", path, clusterName)
	}
	for _, u := range kc.Users {
		if u.Name != userName {
			continue
		}
		us := u.User
		if us.Exec != nil || us.AuthProvider != nil {
			return Config{}, fmt.Errorf("kubeconfig %s: user %q uses an exec or auth-provider plugin, which the exporter does not run; use a token, token file or client certificate", path, userName)
		}
		cfg.Token, cfg.TokenFile = us.Token, rel(us.TokenFile)
		cfg.Username, cfg.Password = us.Username, us.Password
		cert, err := fileOrData(rel(us.ClientCertificate), us.ClientCertificateData)
		if err != nil {
			return Config{}, fmt.Errorf("kubeconfig %s: user %q certificate: %w", path, userName, err)
		}
		key, err := fileOrData(rel(us.ClientKey), us.ClientKeyData)
		if err != nil {
			return Config{}, fmt.Errorf("kubeconfig %s: user %q key: %w", path, userName, err)
		}
		if cert != nil || key != nil {
			pair, err := tls.X509KeyPair(cert, key)
			if err != nil {
				return Config{}, fmt.Errorf("kubeconfig %s: user %q client certificate: %w", path, userName, err)
			}
			cfg.TLS.Certificates = []tls.Certificate{pair}
		}
	}
	return cfg, nil
}

// fileOrData is a kubeconfig's "x" (a file) or "x-data" (base64) value;
// nil when neither is set.
func fileOrData(file, data string) ([]byte, error) {
	if data != "" {
		return base64.StdEncoding.DecodeString(data)
	}
	if file != "" {
		return os.ReadFile(file)
	}
	return nil, nil
}
