package promsource

import (
	"errors"
	"fmt"
	"net/url"

	"github.com/prometheus/client_golang/api"
	promconfig "github.com/prometheus/common/config"
)

// newClient builds the Prometheus HTTP client. Credentials come from files
// and are re-read by the round tripper, so rotated Secrets need no restart.
func newClient(o *Options) (api.Client, error) {
	if o.URL == "" {
		return nil, errors.New("--prometheus.url is required with --source=prometheus")
	}
	u, err := url.Parse(o.URL)
	if err != nil {
		return nil, fmt.Errorf("--prometheus.url: %w", redactURLError(err))
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("--prometheus.url: scheme %q: want http or https", u.Scheme)
	}
	hc := promconfig.HTTPClientConfig{
		TLSConfig:       promconfig.TLSConfig{CAFile: o.CAFile, InsecureSkipVerify: o.InsecureSkipVerify},
		FollowRedirects: true,
		EnableHTTP2:     true,
	}
	if o.BearerTokenFile != "" {
		hc.Authorization = &promconfig.Authorization{Type: "Bearer", CredentialsFile: o.BearerTokenFile}
	}
	// Credentials in the URL become basic auth and leave the URL, so no
	// error text (which quotes the URL) can ever carry them.
	if u.User != nil {
		pw, _ := u.User.Password()
		hc.BasicAuth = &promconfig.BasicAuth{Username: u.User.Username(), Password: promconfig.Secret(pw)}
		u.User = nil
	}
	if o.BasicAuthUser != "" || o.BasicAuthPassFile != "" {
		hc.BasicAuth = &promconfig.BasicAuth{Username: o.BasicAuthUser, PasswordFile: o.BasicAuthPassFile}
	}
	if err := hc.Validate(); err != nil {
		return nil, fmt.Errorf("prometheus client config: %w", err)
	}
	rt, err := promconfig.NewRoundTripperFromConfig(hc, "redis-autoscaler-adapter")
	if err != nil {
		return nil, fmt.Errorf("prometheus client: %w", err)
	}
	client, err := api.NewClient(api.Config{Address: u.String(), RoundTripper: rt})
	if err != nil {
		return nil, fmt.Errorf("prometheus client: %w", err)
	}
	return client, nil
}

// redactURLError keeps url.Parse's reason but not the URL it quotes, which
// may hold a password.
func redactURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("%s: %w", ue.Op, ue.Err)
	}
	return err
}
