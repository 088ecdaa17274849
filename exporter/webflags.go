package exporter

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/crypto/bcrypt"
	"sigs.k8s.io/yaml"
)

// WebFlags are redis_exporter's flags for the exporter's own endpoint: TLS
// and basic auth. They are turned into an exporter-toolkit web
// configuration (the same code serves --web.config.file).
type WebFlags struct {
	TLSCertFile, TLSKeyFile, TLSCAFile, TLSMinVersion string
	BasicAuthUser, BasicAuthPassword, BasicAuthHash   string
}

func (w WebFlags) set() bool {
	return w.TLSCertFile != "" || w.TLSKeyFile != "" || w.TLSCAFile != "" || w.BasicAuthUser != ""
}

// tlsVersions maps redis_exporter's --tls-server-min-version values to
// exporter-toolkit's.
var tlsVersions = map[string]string{"TLS1.0": "TLS10", "TLS1.1": "TLS11", "TLS1.2": "TLS12", "TLS1.3": "TLS13"}

// webConfigFile writes the web flags as an exporter-toolkit web config in
// dir and returns its path ("" when no web flag is set). A plain password
// is hashed with bcrypt here and never written.
func (w WebFlags) webConfigFile(dir string) (string, error) {
	if !w.set() {
		return "", nil
	}
	type tlsConfig struct {
		CertFile     string `json:"cert_file,omitempty"`
		KeyFile      string `json:"key_file,omitempty"`
		ClientCAFile string `json:"client_ca_file,omitempty"`
		ClientAuth   string `json:"client_auth_type,omitempty"`
		MinVersion   string `json:"min_version,omitempty"`
	}
	cfg := struct {
		TLS   *tlsConfig        `json:"tls_server_config,omitempty"`
		Users map[string]string `json:"basic_auth_users,omitempty"`
	}{}
	if w.TLSCertFile != "" || w.TLSKeyFile != "" {
		if w.TLSCertFile == "" || w.TLSKeyFile == "" {
			return "", errors.New("--tls-server-cert-file and --tls-server-key-file go together")
		}
		cfg.TLS = &tlsConfig{CertFile: w.TLSCertFile, KeyFile: w.TLSKeyFile}
		if w.TLSCAFile != "" {
			cfg.TLS.ClientCAFile, cfg.TLS.ClientAuth = w.TLSCAFile, "RequireAndVerifyClientCert"
		}
		if w.TLSMinVersion != "" {
			v, ok := tlsVersions[w.TLSMinVersion]
			if !ok {
				return "", fmt.Errorf("--tls-server-min-version %q: want TLS1.0, TLS1.1, TLS1.2 or TLS1.3", w.TLSMinVersion)
			}
			cfg.TLS.MinVersion = v
		}
	} else if w.TLSCAFile != "" {
		return "", errors.New("--tls-server-ca-cert-file needs --tls-server-cert-file and --tls-server-key-file")
	}
	if w.BasicAuthUser != "" {
		hash := w.BasicAuthHash
		switch {
		case hash != "" && w.BasicAuthPassword != "":
			return "", errors.New("--basic-auth-password and --basic-auth-hash-password conflict")
		case hash == "" && w.BasicAuthPassword == "":
			return "", errors.New("--basic-auth-username needs --basic-auth-password or --basic-auth-hash-password")
		case hash == "":
			b, err := bcrypt.GenerateFromPassword([]byte(w.BasicAuthPassword), bcrypt.DefaultCost)
			if err != nil {
				return "", err
			}
			hash = string(b)
		}
		cfg.Users = map[string]string{w.BasicAuthUser: hash}
	}
	b, err := yaml.Marshal(cfg)
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, "web-config.yml")
	return path, os.WriteFile(path, b, 0o600)
}
