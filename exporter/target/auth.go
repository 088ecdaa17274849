package target

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
)

// Credentials are the login used for targets that do not carry their own.
type Credentials struct {
	User     string
	Password string
	// PerTarget maps an address as written in redis_exporter's password file
	// ("redis://host:6379") to its password.
	PerTarget map[string]string
}

// LoadPasswordFile reads a password file. Two formats are accepted so that a
// Kubernetes Secret mounted as a file and redis_exporter's password map both
// work unchanged:
//   - a JSON object {"redis://host:6379": "password", ...} (redis_exporter's
//     --redis.password-file), returned as the per-target map;
//   - anything else: the whole file, trailing newline removed, is the password.
func LoadPasswordFile(path string) (password string, perTarget map[string]string, err error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", nil, fmt.Errorf("read password file: %w", err)
	}
	text := strings.TrimRight(string(b), "\r\n")
	if strings.HasPrefix(strings.TrimSpace(text), "{") {
		m := map[string]string{}
		if err := json.Unmarshal([]byte(text), &m); err != nil {
			// The JSON error would quote file content: say only where it failed.
			return "", nil, fmt.Errorf("password file %s: looks like JSON but is not a string map", path)
		}
		return "", m, nil
	}
	if text == "" {
		return "", nil, fmt.Errorf("password file %s is empty", path)
	}
	return text, nil, nil
}

// Apply fills in user and password for a target that has none of its own:
// from the per-target map, else the global ones. Only for targets the
// operator named (--redis.addr, discovered pods, --scrape.allowed-targets).
func (c Credentials) Apply(t Target) Target {
	if t.Password == "" {
		if pw, ok := c.lookup(t); ok {
			t.Password = pw
		} else {
			t.Password = c.Password
		}
	}
	if t.User == "" {
		t.User = c.User
	}
	return t
}

// ApplyPerTarget fills in only a password the per-target map holds for t:
// a /scrape target nobody named gets no global password, so a caller
// cannot make the exporter send it to a host of their choosing.
func (c Credentials) ApplyPerTarget(t Target) Target {
	if t.Password == "" {
		if pw, ok := c.lookup(t); ok {
			t.Password = pw
			if t.User == "" {
				t.User = c.User
			}
		}
	}
	return t
}

func (c Credentials) lookup(t Target) (string, bool) {
	if len(c.PerTarget) == 0 {
		return "", false
	}
	// The map is keyed the way users wrote addresses; try the usual forms.
	for _, k := range []string{t.String(), t.Address, strings.TrimPrefix(t.String(), "redis://")} {
		if pw, ok := c.PerTarget[k]; ok {
			return pw, true
		}
	}
	return "", false
}

// TLSOptions configure TLS to rediss:// targets.
type TLSOptions struct {
	CAFile     string
	CertFile   string
	KeyFile    string
	ServerName string
	SkipVerify bool
}

// Config builds the client TLS configuration, or an error naming the file
// that could not be used.
func (o TLSOptions) Config() (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: o.ServerName, InsecureSkipVerify: o.SkipVerify} //nolint:gosec // skip-verify is the user's explicit choice
	if o.CAFile != "" {
		b, err := os.ReadFile(o.CAFile)
		if err != nil {
			return nil, fmt.Errorf("read TLS CA: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(b) {
			return nil, fmt.Errorf("TLS CA file %s holds no PEM certificate", o.CAFile)
		}
		cfg.RootCAs = pool
	}
	if (o.CertFile == "") != (o.KeyFile == "") {
		return nil, errors.New("TLS client certificate and key must be given together")
	}
	if o.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(o.CertFile, o.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("load TLS client certificate: %w", err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return cfg, nil
}
