package promsource

import (
	"log/slog"
	"time"

	"github.com/spf13/pflag"

	"github.com/redis-autoscaler/redis-autoscaler/adapter/source"
)

// Options configure the Prometheus source. The zero value plus URL works:
// every other field has a default matching the exporter's metric names.
type Options struct {
	// URL of the Prometheus server (or anything serving its HTTP API, e.g.
	// Thanos Query). User info in the URL is used as basic auth and never
	// logged.
	URL string
	// Queries maps a metric name (source.Names) to a text/template of
	// PromQL returning one sample per pod, labelled pod. Missing entries
	// take DefaultQueries.
	Queries map[string]string
	// TimestampQueries maps a metric name to a template returning, per pod,
	// the Unix time of the newest raw sample behind the metric. Prometheus
	// stamps instant-query results with the evaluation time and serves a
	// gauge for 5 minutes after its exporter went silent, so without this
	// a dead exporter's last value would look fresh. An empty template
	// means: trust the evaluation time. Missing entries take
	// DefaultTimestampQueries.
	TimestampQueries map[string]string
	// Window is the range of rate() and friends ({{.Window}}, default 1m).
	Window time.Duration
	// Quantile of the response-time histogram ({{.Quantile}}, default 0.99).
	Quantile float64
	// MaxStaleness drops values whose newest sample is older (default 2m).
	MaxStaleness time.Duration
	// Timeout of one query (default 10s).
	Timeout time.Duration

	BearerTokenFile    string // file holding a bearer token, re-read as it rotates
	BasicAuthUser      string
	BasicAuthPassFile  string // file holding the basic-auth password
	CAFile             string // CA bundle to verify Prometheus' certificate
	InsecureSkipVerify bool

	Logger *slog.Logger

	queryFlags, timestampFlags map[string]*string // set by AddFlags
}

func (o *Options) defaults() {
	if o.Window <= 0 {
		o.Window = time.Minute
	}
	if o.Quantile <= 0 || o.Quantile > 1 {
		o.Quantile = 0.99
	}
	if o.MaxStaleness <= 0 {
		o.MaxStaleness = 2 * time.Minute
	}
	if o.Timeout <= 0 {
		o.Timeout = 10 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
}

// AddFlags registers the --prometheus.* flags on fs (the adapter's flag set,
// shared with custom-metrics-apiserver, hence the prefix).
func (o *Options) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.URL, "prometheus.url", o.URL, "Prometheus base URL for --source=prometheus, e.g. http://prometheus.monitoring.svc:9090")
	o.queryFlags = map[string]*string{}
	o.timestampFlags = map[string]*string{}
	for _, name := range source.Names {
		o.queryFlags[name] = fs.String("prometheus.query."+name, DefaultQueries[name],
			"PromQL template for "+name+" returning one sample per pod labelled pod; fields {{.Namespace}}, {{.PodRegex}} (pod names as a regexp, quoted for a PromQL string), {{.Window}}, {{.Quantile}}")
		o.timestampFlags[name] = fs.String("prometheus.timestamp-query."+name, DefaultTimestampQueries[name],
			"PromQL template returning per pod the Unix time of the newest sample behind "+name+" (staleness check); empty: use the evaluation time")
	}
	fs.DurationVar(&o.Window, "prometheus.window", time.Minute, "Range of rate() in the queries ({{.Window}})")
	fs.Float64Var(&o.Quantile, "prometheus.response-time-quantile", 0.99, "Quantile of redis_probe_rtt_seconds served as "+source.ResponseTime)
	fs.DurationVar(&o.MaxStaleness, "prometheus.max-staleness", 2*time.Minute, "Values whose newest sample is older than this are not served")
	fs.DurationVar(&o.Timeout, "prometheus.timeout", 10*time.Second, "Timeout of one Prometheus query")
	fs.StringVar(&o.BearerTokenFile, "prometheus.bearer-token-file", "", "File holding a bearer token for Prometheus (re-read on every request)")
	fs.StringVar(&o.BasicAuthUser, "prometheus.basic-auth-user", "", "Basic-auth user for Prometheus")
	fs.StringVar(&o.BasicAuthPassFile, "prometheus.basic-auth-password-file", "", "File holding the basic-auth password for Prometheus")
	fs.StringVar(&o.CAFile, "prometheus.ca-file", "", "CA bundle to verify Prometheus' TLS certificate")
	fs.BoolVar(&o.InsecureSkipVerify, "prometheus.insecure-skip-tls-verify", false, "Do not verify Prometheus' TLS certificate")
}

// fromFlags copies the per-metric query flags into the maps: pflag needs a
// *string per flag, a map entry cannot be one.
func (o *Options) fromFlags() {
	for name, p := range o.queryFlags {
		o.Queries[name] = *p
	}
	for name, p := range o.timestampFlags {
		o.TimestampQueries[name] = *p
	}
}
