// Package target describes a Redis to scrape: where it is, how to log in and
// whether to use TLS, and turns that into go-redis client options.
//
// Secrets live only in Target.Password; the String form used in labels, logs
// and errors never contains them.
package target

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
)

// Target is one Redis endpoint.
type Target struct {
	Network  string // "tcp" or "unix"
	Address  string // host:port, or the socket path for unix
	TLS      bool   // rediss://
	DB       int
	User     string
	Password string

	// Labels identify the target in metrics; discovery sets namespace/pod.
	Namespace string
	Pod       string
}

// DefaultPort is Redis' well-known port, used when an address has none.
const DefaultPort = "6379"

// Parse reads an address as users write it: "host:port", "host",
// "redis://[user[:password]@]host[:port][/db]", "rediss://..." or
// "unix:///path/to/socket". Errors quote the address without credentials.
func Parse(addr string) (Target, error) {
	addr = strings.TrimSpace(addr)
	if addr == "" {
		return Target{}, errors.New("empty Redis address")
	}
	if !strings.Contains(addr, "://") {
		addr = "redis://" + addr
	}
	u, err := url.Parse(addr)
	if err != nil {
		// url's error quotes the input, which may hold a password.
		return Target{}, fmt.Errorf("invalid Redis address %q", Redact(addr))
	}
	t := Target{Network: "tcp"}
	if u.User != nil {
		t.User = u.User.Username()
		t.Password, _ = u.User.Password()
	}
	switch u.Scheme {
	case "redis", "rediss":
		t.TLS = u.Scheme == "rediss"
		host, port := u.Hostname(), u.Port()
		if host == "" {
			return Target{}, fmt.Errorf("invalid Redis address %q: no host", Redact(addr))
		}
		if port == "" {
			port = DefaultPort
		}
		if _, err := strconv.ParseUint(port, 10, 16); err != nil {
			return Target{}, fmt.Errorf("invalid Redis address %q: bad port", Redact(addr))
		}
		t.Address = net.JoinHostPort(host, port)
		if p := strings.Trim(u.Path, "/"); p != "" {
			db, err := strconv.Atoi(p)
			if err != nil || db < 0 {
				return Target{}, fmt.Errorf("invalid Redis address %q: bad database number", Redact(addr))
			}
			t.DB = db
		}
		if db := u.Query().Get("db"); db != "" {
			n, err := strconv.Atoi(db)
			if err != nil || n < 0 {
				return Target{}, fmt.Errorf("invalid Redis address %q: bad database number", Redact(addr))
			}
			t.DB = n
		}
	case "unix":
		t.Network = "unix"
		t.Address = u.Path
		if t.Address == "" {
			return Target{}, fmt.Errorf("invalid Redis address %q: no socket path", Redact(addr))
		}
	default:
		return Target{}, fmt.Errorf("invalid Redis address %q: scheme must be redis, rediss or unix", Redact(addr))
	}
	return t, nil
}

// String is the address as shown in labels and logs: scheme, address and
// a database other than 0 (two targets differing only in it are two
// series), never credentials.
func (t Target) String() string {
	var s string
	switch {
	case t.Network == "unix":
		s = "unix://" + t.Address
	case t.TLS:
		s = "rediss://" + t.Address
	default:
		s = "redis://" + t.Address
	}
	if t.DB != 0 {
		s += "/" + strconv.Itoa(t.DB)
	}
	return s
}

// Key identifies a connection: two targets with the same key can share one.
// It includes credentials, so it must never be printed.
func (t Target) Key() string {
	return fmt.Sprintf("%s|%d|%s|%s", t.String(), t.DB, t.User, t.Password)
}

// TLSConfig is the TLS configuration to dial t with: nil for a plain
// target; else a copy of base (TLS 1.2 at least when base is nil), whose
// server name defaults to t's host.
func (t Target) TLSConfig(base *tls.Config) *tls.Config {
	if !t.TLS {
		return nil
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if base != nil {
		cfg = base.Clone()
	}
	if cfg.ServerName == "" {
		cfg.ServerName = t.Host()
	}
	return cfg
}

// Host is the host part of a TCP address ("" for unix sockets).
func (t Target) Host() string {
	if t.Network != "tcp" {
		return ""
	}
	h, _, _ := net.SplitHostPort(t.Address)
	return h
}

// Redact removes the password from a URL-like address.
func Redact(addr string) string {
	scheme, rest, ok := strings.Cut(addr, "://")
	if !ok {
		return addr
	}
	at := strings.LastIndex(rest, "@")
	slash := strings.IndexByte(rest, '/')
	if at < 0 || (slash >= 0 && slash < at) {
		return addr
	}
	userinfo := rest[:at]
	if user, _, hasPw := strings.Cut(userinfo, ":"); hasPw {
		return scheme + "://" + user + ":xxxxx@" + rest[at+1:]
	}
	return scheme + "://xxxxx@" + rest[at+1:]
}
