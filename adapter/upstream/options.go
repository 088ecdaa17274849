package upstream

import (
	"log/slog"
	"time"

	"github.com/spf13/pflag"
)

// ServiceAccountTokenFile is where Kubernetes mounts a pod's token.
const ServiceAccountTokenFile = "/var/run/secrets/kubernetes.io/serviceaccount/token"

// Options say where the upstream custom-metrics server is and how to reach it.
type Options struct {
	// URL of the upstream server, e.g. https://prometheus-adapter.monitoring.svc:443.
	// Empty disables forwarding.
	URL string
	// CAFile verifies the upstream's serving certificate.
	CAFile string
	// InsecureSkipVerify accepts any certificate (self-signed adapters).
	InsecureSkipVerify bool
	// TokenFile holds the bearer token presented upstream (default: our
	// ServiceAccount's). The upstream authorizes the adapter, not the HPA:
	// the aggregator's front-proxy identity cannot be passed on.
	TokenFile string
	// Timeout of one upstream request (default 10s).
	Timeout time.Duration
	// RefreshInterval of the upstream's metric list (default 1m).
	RefreshInterval time.Duration

	Logger *slog.Logger
}

func (o *Options) defaults() {
	if o.Timeout <= 0 {
		o.Timeout = 10 * time.Second
	}
	if o.RefreshInterval <= 0 {
		o.RefreshInterval = time.Minute
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
}

// AddFlags registers the --upstream* flags.
func (o *Options) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.URL, "upstream", o.URL, "URL of a custom.metrics.k8s.io server (e.g. https://prometheus-adapter.monitoring.svc:443) that gets every metric this adapter does not serve itself, so both can share the one APIService")
	fs.StringVar(&o.CAFile, "upstream.ca-file", o.CAFile, "CA bundle to verify the upstream's serving certificate")
	fs.BoolVar(&o.InsecureSkipVerify, "upstream.insecure-skip-tls-verify", o.InsecureSkipVerify, "Do not verify the upstream's serving certificate")
	fs.StringVar(&o.TokenFile, "upstream.token-file", ServiceAccountTokenFile, "File holding the bearer token presented upstream (re-read as it rotates); empty: none")
	fs.DurationVar(&o.Timeout, "upstream.timeout", 10*time.Second, "Timeout of one upstream request")
	fs.DurationVar(&o.RefreshInterval, "upstream.refresh-interval", time.Minute, "How often the upstream's metric list is refreshed")
}
