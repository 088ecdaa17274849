package exporter

import (
	"encoding/csv"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/redis-autoscaler/redis-autoscaler/exporter/keycheck"
	"github.com/redis-autoscaler/redis-autoscaler/exporter/scraper"
)

// Config is the exporter's command line. Flag names and environment
// variables follow redis_exporter where it has the same option, so a
// manifest written for it works unchanged.
type Config struct {
	Addrs        addrList
	User         string
	Password     string
	PasswordFile string
	Namespace    string

	ListenAddress string
	MetricsPath   string
	WebConfigFile string

	ConnectionTimeout time.Duration
	ScrapeTimeout     time.Duration
	Concurrency       int
	// AllowedTargets (--scrape.allowed-targets): the /scrape targets
	// accepted, a regular expression fully matching redis://host:port.
	AllowedTargets *regexp.Regexp
	// MaxScrapeTargets bounds the /scrape connection pool.
	MaxScrapeTargets int
	// MaxLabelValues bounds distinct cmd and err label values per target.
	MaxLabelValues int
	// Slowlog and LatencyHistogram ask for the extra commands' metrics.
	Slowlog, LatencyHistogram bool
	// ExcludeLatencyHistogram is redis_exporter's flag, accepted so its
	// manifests work; histograms are off unless asked for here anyway.
	ExcludeLatencyHistogram bool

	TLSCAFile     string
	TLSCertFile   string
	TLSKeyFile    string
	TLSServerName string
	TLSSkipVerify bool

	KubeNamespace string
	KubeSelector  string
	KubePort      int
	KubeConfig    string
	KubeTLS       bool
	RedisOnly     bool
	LogFormat     string
	LogLevel      string
	Debug         bool
	// redis_exporter options with the same names.
	SystemMetrics     bool
	GoRuntimeMetrics  bool
	SetClientName     bool
	PingOnConnect     bool
	InstanceRoleLabel bool
	DisableScrape     bool
	ConfigMetrics     bool
	// Web are redis_exporter's TLS and basic auth flags for /metrics.
	Web WebFlags
	// Lua scripts and the client list.
	Scripts        []scraper.Script
	ScriptReadOnly bool
	ClientList     bool
	ClientPort     bool
	EmptyDBs       bool
	SentinelPeers  bool
	SkipKeysMaster bool
	// Key checks (redis_exporter's --check-keys and friends).
	Keys keycheck.Spec
	// IsCluster: key checks follow the cluster's slots, and
	// /discover-cluster-nodes lists the nodes (ClusterHostnames: by
	// hostname).
	IsCluster, ClusterHostnames bool
	// KeyGroups are --check-key-groups' Lua patterns.
	KeyGroups            []string
	MaxDistinctKeyGroups int
	RedactConfig         bool
	ConfigCommand        string
	PrintedVersion       bool
}

// addrList is a repeatable, comma-separated flag. A value from the
// environment is replaced, not extended, by the first one on the command line.
type addrList struct {
	values  []string
	fromEnv bool
}

func (a *addrList) String() string { return strings.Join(a.values, ",") }

func (a *addrList) Set(v string) error {
	if a.fromEnv {
		a.values, a.fromEnv = nil, false
	}
	for _, part := range strings.Split(v, ",") {
		if part = strings.TrimSpace(part); part != "" {
			a.values = append(a.values, part)
		}
	}
	return nil
}

// envExceptions are the environment variables not named by envName's
// rule, as redis_exporter names them.
var envExceptions = map[string]string{
	"redis.addr":                          "REDIS_ADDR",
	"redis.user":                          "REDIS_USER",
	"redis.password":                      "REDIS_PASSWORD",
	"redis.password-file":                 "REDIS_PASSWORD_FILE",
	"include-config-metrics":              "REDIS_EXPORTER_INCL_CONFIG_METRICS",
	"include-modules-metrics":             "REDIS_EXPORTER_INCL_MODULES_METRICS",
	"include-search-indexes-metrics":      "REDIS_EXPORTER_INCL_SEARCH_INDEXES_METRICS",
	"include-sentinel-peer-info":          "REDIS_EXPORTER_INCL_SENTINEL_PEER_INFO",
	"include-system-metrics":              "REDIS_EXPORTER_INCL_SYSTEM_METRICS",
	"include-rdb-file-size-metric":        "REDIS_EXPORTER_INCL_RDB_FILE_SIZE_METRIC",
	"include-metrics-for-empty-databases": "REDIS_EXPORTER_INCL_METRICS_FOR_EMPTY_DATABASES",
	"kubernetes.kubeconfig":               "KUBECONFIG",
	"version":                             "",
}

// envName is the environment variable of a flag: redis_exporter's
// REDIS_EXPORTER_ and the name in capitals with '-' and '.' as '_'
// (check-keys: REDIS_EXPORTER_CHECK_KEYS), unless excepted.
func envName(flag string) string {
	if env, ok := envExceptions[flag]; ok {
		return env
	}
	return "REDIS_EXPORTER_" + strings.ToUpper(strings.NewReplacer("-", "_", ".", "_").Replace(flag))
}

// unsupportedFlags are redis_exporter's options this exporter does not
// implement, with their defaults: accepted at their default (manifests
// often spell defaults out), refused with a reason otherwise, so a
// manifest relying on one fails loudly instead of silently doing less.
var unsupportedFlags = map[string]string{
	"is-tile38": "false", "include-modules-metrics": "false",
	"include-search-indexes-metrics": "false", "check-search-indexes": ".*",
	"include-rdb-file-size-metric": "false",
}

var unsupportedWhy = map[string]string{
	"is-tile38":                      "Tile38 is not a target of this exporter",
	"include-modules-metrics":        "module metrics (RediSearch, RedisJSON, ...) are not implemented",
	"include-search-indexes-metrics": "RediSearch index metrics are not implemented",
	"check-search-indexes":           "RediSearch index metrics are not implemented",
	"include-rdb-file-size-metric":   "reading the RDB file needs the exporter on Redis' host; not implemented",
}

// ParseFlags reads flags, then the environment for flags not given.
func ParseFlags(args []string, getenv func(string) string, stderr io.Writer) (*Config, error) {
	c := &Config{}
	fs := flag.NewFlagSet("redis-autoscaler exporter", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Var(&c.Addrs, "redis.addr", "Redis address(es) to scrape: host:port, redis://[user:password@]host:port[/db], rediss://..., unix:///path; repeatable or comma-separated (default redis://localhost:6379 when no Kubernetes discovery is set)")
	fs.StringVar(&c.User, "redis.user", "", "ACL user name for Redis >= 6")
	fs.StringVar(&c.Password, "redis.password", "", "Redis password (prefer --redis.password-file)")
	fs.StringVar(&c.PasswordFile, "redis.password-file", "", "File holding the password, or a JSON map of address to password (redis_exporter's format) for several targets and /scrape")
	fs.StringVar(&c.Namespace, "namespace", "redis", "Prefix of metric names")
	fs.StringVar(&c.ListenAddress, "web.listen-address", ":9121", "Address to listen on for the web interface and metrics")
	fs.StringVar(&c.MetricsPath, "web.telemetry-path", "/metrics", "Path under which metrics are served")
	fs.StringVar(&c.WebConfigFile, "web.config.file", "", "exporter-toolkit web configuration file (TLS, basic auth)")
	fs.DurationVar(&c.ConnectionTimeout, "connection-timeout", 5*time.Second, "Timeout of one target's scrape: dial and reply")
	fs.DurationVar(&c.ScrapeTimeout, "scrape.timeout", 10*time.Second, "Deadline of a whole scrape of all targets (lowered to Prometheus' scrape timeout when it sends one)")
	fs.IntVar(&c.Concurrency, "scrape.concurrency", 64, "Targets scraped at once")
	var allowed string
	fs.StringVar(&allowed, "scrape.allowed-targets", "", "Regular expression the /scrape target (as redis://host:port, rediss://... or unix://...) must match in full; others are refused, and only these (besides --redis.addr and discovered pods) get the configured password")
	fs.BoolVar(&c.Slowlog, "include-slowlog-metrics", false, "Also send SLOWLOG LEN and SLOWLOG GET 1 (redis_slowlog_length, redis_slowlog_last_id, redis_last_slow_execution_duration_seconds), pipelined after INFO")
	fs.BoolVar(&c.LatencyHistogram, "include-latency-histogram-metrics", false, "Also send LATENCY HISTOGRAM (redis_commands_latencies_usec; Redis >= 7), pipelined after INFO")
	fs.BoolVar(&c.ExcludeLatencyHistogram, "exclude-latency-histogram-metrics", false, "redis_exporter's flag, accepted: histograms are off unless --include-latency-histogram-metrics")
	fs.IntVar(&c.MaxLabelValues, "max-label-values", 1000, "Distinct cmd and err label values exported per target (commands, error prefixes); the rest are summed into \"other\"")
	fs.IntVar(&c.MaxScrapeTargets, "scrape.max-targets", 1000, "Connections kept for /scrape targets; beyond this the least recently used is closed")
	fs.StringVar(&c.TLSCAFile, "tls-ca-cert-file", "", "CA certificate file to verify rediss:// servers")
	fs.StringVar(&c.TLSCertFile, "tls-client-cert-file", "", "Client certificate file for rediss:// servers that require one")
	fs.StringVar(&c.TLSKeyFile, "tls-client-key-file", "", "Client key file for rediss:// servers that require one")
	fs.StringVar(&c.TLSServerName, "tls-server-name", "", "Server name to verify rediss:// certificates against (default: the target host)")
	fs.BoolVar(&c.TLSSkipVerify, "skip-tls-verification", false, "Do not verify rediss:// server certificates")
	fs.StringVar(&c.KubeNamespace, "kubernetes.namespace", "", "Discover Redis pods in this namespace (\"\" with a selector: all namespaces)")
	fs.StringVar(&c.KubeSelector, "kubernetes.selector", "", "Label selector of the Redis pods to discover (enables Kubernetes discovery)")
	fs.IntVar(&c.KubePort, "kubernetes.port", 0, "Redis port of discovered pods (default: the container port named redis, else 6379)")
	fs.BoolVar(&c.KubeTLS, "kubernetes.tls", false, "Scrape discovered pods with TLS (rediss://)")
	fs.StringVar(&c.KubeConfig, "kubernetes.kubeconfig", "", "kubeconfig file (default: in-cluster configuration)")
	fs.BoolVar(&c.RedisOnly, "redis-only-metrics", false, "Do not export the exporter's own Go and process metrics")
	fs.StringVar(&c.LogFormat, "log-format", "txt", "Log format: txt or json")
	fs.StringVar(&c.LogLevel, "log-level", "info", "Log level: debug, info, warn or error (--debug wins)")
	fs.BoolVar(&c.Debug, "debug", false, "Log at debug level")
	fs.BoolVar(&c.SystemMetrics, "include-system-metrics", false, "Also export redis_total_system_memory_bytes (INFO memory)")
	fs.BoolVar(&c.GoRuntimeMetrics, "include-go-runtime-metrics", false, "Also export the Go runtime/metrics set of the exporter (go_* beyond the defaults)")
	fs.BoolVar(&c.SetClientName, "set-client-name", false, "Name the exporter's connections redis_exporter (CLIENT SETNAME, once per new connection)")
	fs.BoolVar(&c.PingOnConnect, "ping-on-connect", false, "Send PING after connecting (redis_exporter's option; one more command per new connection)")
	fs.BoolVar(&c.InstanceRoleLabel, "append-instance-role-label", false, "Add an instance_role label (master, slave) to every per-target metric")
	fs.BoolVar(&c.DisableScrape, "disable-scrape-endpoint", false, "Serve no /scrape endpoint")
	fs.BoolVar(&c.ConfigMetrics, "include-config-metrics", false, "Also send CONFIG GET * and export every setting (redis_config_key_value, redis_config_value) and redis_config_* gauges; settings holding secrets are always left out")
	fs.BoolVar(&c.RedactConfig, "redact-config-metrics", true, "redis_exporter's flag, accepted: settings holding secrets are never exported here, whatever its value")
	var checkKeys, singleKeys, countKeys, checkStreams, singleStreams, scripts, keyGroups string
	fs.BoolVar(&c.IsCluster, "is-cluster", false, "Redis Cluster: checked keys (--check-single-keys, --check-keys, streams) are read from the node owning their slot, with the target's credentials; /discover-cluster-nodes lists the cluster's nodes (CLUSTER NODES of the first --redis.addr that answers) for Prometheus' http_sd, to scrape each with /scrape. CLUSTER INFO metrics need no flag")
	fs.BoolVar(&c.ClusterHostnames, "cluster-discover-hostnames", false, "/discover-cluster-nodes lists nodes by their announced hostname (cluster-announce-hostname) where they have one")
	fs.StringVar(&keyGroups, "check-key-groups", "", "Comma-separated (CSV) Lua patterns grouping every key by the first that matches (its captures name the group; else \"unclassified\"): redis_key_group_count and redis_key_group_memory_usage_bytes per database. The keyspace is walked in a Lua script, at most --check-keys-budget keys per scrape, resuming in the next; a database's groups are exported once a walk of it completes")
	fs.IntVar(&c.MaxDistinctKeyGroups, "max-distinct-key-groups", 100, "Key groups exported per database, those using most memory; the rest are summed in the group \"overflow\"")
	fs.StringVar(&scripts, "script", "", "Comma-separated Lua script files run each scrape (EVAL, in the same pipeline as the other extras); each returns key, value pairs: redis_script_values, redis_script_result")
	fs.StringVar(&c.Web.TLSCertFile, "tls-server-cert-file", "", "Certificate for /metrics over HTTPS (or --web.config.file)")
	fs.StringVar(&c.Web.TLSKeyFile, "tls-server-key-file", "", "Key for /metrics over HTTPS")
	fs.StringVar(&c.Web.TLSCAFile, "tls-server-ca-cert-file", "", "CA that clients of /metrics must present a certificate from")
	fs.StringVar(&c.Web.TLSMinVersion, "tls-server-min-version", "TLS1.2", "Lowest TLS version of /metrics: TLS1.0 to TLS1.3")
	fs.StringVar(&c.Web.BasicAuthUser, "basic-auth-username", "", "Basic auth user of /metrics")
	fs.StringVar(&c.Web.BasicAuthPassword, "basic-auth-password", "", "Basic auth password (hashed with bcrypt in memory; prefer --basic-auth-hash-password)")
	fs.StringVar(&c.Web.BasicAuthHash, "basic-auth-hash-password", "", "Basic auth password as a bcrypt hash")
	fs.BoolVar(&c.EmptyDBs, "include-metrics-for-empty-databases", false, "Also send CONFIG GET databases and export db_keys 0 for empty databases (redis_exporter's default is on)")
	fs.BoolVar(&c.SentinelPeers, "include-sentinel-peer-info", false, "On Sentinel targets, also export redis_sentinel_peer_info for each other Sentinel (more series)")
	fs.BoolVar(&c.SkipKeysMaster, "skip-checkkeys-for-role-master", false, "Skip the key and stream checks on masters")
	unsupported := map[string]*string{}
	for name, def := range unsupportedFlags {
		v := def
		unsupported[name] = &v
		fs.StringVar(unsupported[name], name, def, "redis_exporter's option, not supported by this exporter: setting it is an error")
	}
	fs.BoolVar(&c.ScriptReadOnly, "lua-script-read-only", false, "Run --script with EVAL_RO")
	fs.BoolVar(&c.ClientList, "export-client-list", false, "Also send CLIENT LIST: redis_connected_client_* per client (one series set per connection: high cardinality)")
	fs.BoolVar(&c.ClientPort, "export-client-port", false, "Fill the port label of redis_connected_client_info")
	fs.StringVar(&checkStreams, "check-streams", "", "Comma-separated stream patterns (\"dbN=pattern\") found with SCAN ... TYPE stream: length, groups, pending, lag and consumers (XINFO)")
	fs.StringVar(&singleStreams, "check-single-streams", "", "Comma-separated streams (\"dbN=key\") read with XINFO")
	fs.BoolVar(&c.Keys.NoConsumerMetrics, "streams-exclude-consumer-metrics", false, "No per-consumer stream metrics (fewer series)")
	fs.StringVar(&checkKeys, "check-keys", "", "Comma-separated key patterns (\"pattern\" or \"dbN=pattern\") whose keys' size, value and memory are exported; found with SCAN")
	fs.StringVar(&singleKeys, "check-single-keys", "", "Comma-separated keys (\"key\" or \"dbN=key\") whose size, value and memory are exported")
	fs.StringVar(&countKeys, "count-keys", "", "Comma-separated patterns (\"dbN=pattern\") whose matching keys are counted with SCAN")
	fs.Int64Var(&c.Keys.BatchSize, "check-keys-batch-size", 1000, "SCAN COUNT of key checks")
	fs.IntVar(&c.Keys.Budget, "check-keys-budget", 10000, "Keys SCAN may return per target and scrape over all patterns; beyond it the checks stop and redis_exporter_check_keys_budget_exhausted is 1")
	fs.BoolVar(&c.Keys.NoValues, "disable-exporting-key-values", false, "Do not export string values of checked keys")
	fs.StringVar(&c.ConfigCommand, "config-command", "CONFIG", "Name of the CONFIG command (when renamed); \"-\" skips config metrics")
	fs.BoolVar(&c.PrintedVersion, "version", false, "Print the version and exit")

	var envErr error
	fs.VisitAll(func(f *flag.Flag) {
		if env := envName(f.Name); env != "" && envErr == nil {
			if v := getenv(env); v != "" {
				if err := fs.Set(f.Name, v); err != nil {
					envErr = fmt.Errorf("environment %s: %w", env, err)
				}
			}
		}
	})
	if envErr != nil {
		return nil, envErr
	}
	c.Addrs.fromEnv = len(c.Addrs.values) > 0
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	for _, kl := range []struct {
		flag, arg string
		into      *[]keycheck.DBKey
	}{{"--check-keys", checkKeys, &c.Keys.Patterns}, {"--check-single-keys", singleKeys, &c.Keys.Singles}, {"--count-keys", countKeys, &c.Keys.Counts},
		{"--check-streams", checkStreams, &c.Keys.StreamPatterns}, {"--check-single-streams", singleStreams, &c.Keys.StreamSingles}} {
		keys, err := keycheck.Parse(kl.arg)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", kl.flag, err)
		}
		*kl.into = keys
	}
	if strings.TrimSpace(keyGroups) != "" {
		// CSV, as redis_exporter reads it: a pattern may hold a comma
		// when quoted.
		groups, err := csv.NewReader(strings.NewReader(keyGroups)).Read()
		if err != nil {
			return nil, fmt.Errorf("--check-key-groups: %w", err)
		}
		for _, g := range groups {
			if g = strings.TrimSpace(g); g != "" {
				c.KeyGroups = append(c.KeyGroups, g)
			}
		}
	}
	if c.MaxDistinctKeyGroups < 0 {
		return nil, fmt.Errorf("--max-distinct-key-groups: %d is negative", c.MaxDistinctKeyGroups)
	}
	for _, path := range strings.Split(scripts, ",") {
		if path = strings.TrimSpace(path); path == "" {
			continue
		}
		body, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("--script: %w", err)
		}
		c.Scripts = append(c.Scripts, scraper.Script{Name: path, Body: string(body)})
	}
	for name, v := range unsupported {
		if *v != unsupportedFlags[name] && !(unsupportedFlags[name] == "false" && *v == "false") {
			return nil, fmt.Errorf("--%s is redis_exporter's option and not supported here: %s", name, unsupportedWhy[name])
		}
	}
	if c.Web.set() && c.WebConfigFile != "" {
		return nil, errors.New("--web.config.file and the --tls-server-*/--basic-auth-* flags conflict: use one")
	}
	if allowed != "" {
		re, err := regexp.Compile("^(?:" + allowed + ")$")
		if err != nil {
			return nil, fmt.Errorf("--scrape.allowed-targets: %w", err)
		}
		c.AllowedTargets = re
	}
	if len(c.Addrs.values) == 0 && c.KubeSelector == "" && c.KubeNamespace == "" {
		c.Addrs.values = []string{"redis://localhost:6379"}
	}
	switch {
	case c.Concurrency < 1:
		return nil, errors.New("--scrape.concurrency must be at least 1")
	case c.MaxLabelValues < 1:
		return nil, errors.New("--max-label-values must be at least 1")
	case c.MaxScrapeTargets < 1:
		return nil, errors.New("--scrape.max-targets must be at least 1")
	case c.ConnectionTimeout <= 0 || c.ScrapeTimeout <= 0:
		return nil, errors.New("--connection-timeout and --scrape.timeout must be positive")
	case !slices.Contains([]string{"debug", "info", "warn", "warning", "error"}, strings.ToLower(c.LogLevel)):
		return nil, fmt.Errorf("--log-level %q: want debug, info, warn or error", c.LogLevel)
	case c.LogFormat != "txt" && c.LogFormat != "json" && c.LogFormat != "logfmt":
		return nil, fmt.Errorf("--log-format %q: want txt or json", c.LogFormat)
	}
	return c, nil
}

// osGetenv is os.Getenv; a variable so tests can pass their own.
var osGetenv = os.Getenv
