// Package external serves external.metrics.k8s.io: the length of a Redis
// list or stream and the lag of a stream's consumer group, so that an HPA
// scales the workers that consume a Redis queue (what KEDA's Redis scalers
// do, without KEDA).
//
// The metric selector names the Redis and the key:
//
//	redisreplicationgroup=<name> | pod=<name> | host=<host> [port=<port>]
//	key=<key> | key_hex=<hex of the key>
//	group=<consumer group>          (redis_stream_consumer_group_lag)
//
// Label values cannot hold ':' or '/', common in key names: key_hex holds
// any key. A group's master is read (its status.master), a pod as named.
// Each value is read in one pipelined round trip with a deadline, and
// cached for an interval, so any number of HPAs cost Redis at most one
// read per key and interval.
package external

import (
	"context"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"net"
	"strconv"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/selection"
	"k8s.io/metrics/pkg/apis/external_metrics"
	"sigs.k8s.io/custom-metrics-apiserver/pkg/provider"

	"github.com/redis-autoscaler/redis-autoscaler/exporter/target"
)

// The metrics served.
const (
	ListLength   = "redis_list_length"
	StreamLength = "redis_stream_length"
	GroupLag     = "redis_stream_consumer_group_lag"
)

// Names are the external metrics served.
var Names = []string{ListLength, StreamLength, GroupLag}

// Resolve finds the Redis a selector names: the master of a
// RedisReplicationGroup, or a pod, in namespace.
type Resolve interface {
	GroupMaster(ctx context.Context, namespace, name string) (target.Target, error)
	Pod(ctx context.Context, namespace, name string) (target.Target, error)
}

// Options tune the provider.
type Options struct {
	Resolve     Resolve
	Credentials target.Credentials // applied to every Redis read
	TLS         bool               // host= targets with rediss://
	TLSConfig   *tls.Config
	// Interval is how long a value is cached (default 5s); Timeout bounds
	// one read (default 2s).
	Interval, Timeout time.Duration
}

// Provider serves the external metrics.
type Provider struct {
	opts    Options
	clients *clients

	mu    sync.Mutex
	cache map[string]cached
}

type cached struct {
	value float64
	err   error
	at    time.Time
}

var _ provider.ExternalMetricsProvider = (*Provider)(nil)

// New builds a provider.
func New(opts Options) *Provider {
	if opts.Interval <= 0 {
		opts.Interval = 5 * time.Second
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 2 * time.Second
	}
	return &Provider{opts: opts, clients: newClients(opts.TLSConfig, opts.Timeout, 64), cache: map[string]cached{}}
}

// Close releases the connections.
func (p *Provider) Close() { p.clients.close() }

// ListAllExternalMetrics lists the metric names (their labels are free).
func (p *Provider) ListAllExternalMetrics() []provider.ExternalMetricInfo {
	out := make([]provider.ExternalMetricInfo, len(Names))
	for i, n := range Names {
		out[i] = provider.ExternalMetricInfo{Metric: n}
	}
	return out
}

// query is what a selector asks for.
type query struct {
	metric                 string
	group, pod, host, port string
	key, consumerGroup     string
	labels                 map[string]string // echoed in the answer
}

// parse reads the selector's equality requirements; anything else is a
// clear error for the HPA's status.
func parse(metric string, sel labels.Selector) (query, error) {
	q := query{metric: metric, labels: map[string]string{}}
	reqs, _ := sel.Requirements()
	for _, r := range reqs {
		vals := r.Values().UnsortedList()
		if (r.Operator() != selection.Equals && r.Operator() != selection.DoubleEquals && r.Operator() != selection.In) || len(vals) != 1 {
			return q, fmt.Errorf("label %q: only key=value selects the Redis and key", r.Key())
		}
		v := vals[0]
		q.labels[r.Key()] = v
		switch r.Key() {
		case "redisreplicationgroup":
			q.group = v
		case "pod":
			q.pod = v
		case "host":
			q.host = v
		case "port":
			q.port = v
		case "key":
			q.key = v
		case "key_hex":
			b, err := hex.DecodeString(v)
			if err != nil {
				return q, fmt.Errorf("key_hex %q is not hexadecimal: %v", v, err)
			}
			q.key = string(b)
		case "group":
			q.consumerGroup = v
		default:
			return q, fmt.Errorf("unknown label %q (want redisreplicationgroup, pod or host and port; key or key_hex; group)", r.Key())
		}
	}
	switch n := btoi(q.group != "") + btoi(q.pod != "") + btoi(q.host != ""); {
	case n == 0:
		return q, errors.New("name the Redis: redisreplicationgroup=<name>, pod=<name> or host=<host>")
	case n > 1:
		return q, errors.New("name one Redis: only one of redisreplicationgroup, pod and host")
	}
	if q.port != "" && q.host == "" {
		return q, errors.New("port goes with host")
	}
	if q.key == "" {
		return q, errors.New("name the key: key=<key> or key_hex=<hex>")
	}
	if metric == GroupLag && q.consumerGroup == "" {
		return q, errors.New("name the consumer group: group=<name>")
	}
	return q, nil
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// GetExternalMetric answers one HPA query: one value, for the Redis and
// key the selector names.
func (p *Provider) GetExternalMetric(ctx context.Context, namespace string, sel labels.Selector, info provider.ExternalMetricInfo) (*external_metrics.ExternalMetricValueList, error) {
	switch info.Metric {
	case ListLength, StreamLength, GroupLag:
	default:
		return nil, apierrors.NewNotFound(external_metrics.Resource("externalmetrics"), info.Metric)
	}
	q, err := parse(info.Metric, sel)
	if err != nil {
		return nil, apierrors.NewBadRequest(info.Metric + ": " + err.Error())
	}
	ctx, cancel := context.WithTimeout(ctx, p.opts.Timeout)
	defer cancel()
	v, at, err := p.value(ctx, namespace, q)
	if err != nil {
		return nil, err
	}
	return &external_metrics.ExternalMetricValueList{Items: []external_metrics.ExternalMetricValue{{
		MetricName:   info.Metric,
		MetricLabels: q.labels,
		Timestamp:    metav1.NewTime(at),
		Value:        *resource.NewQuantity(int64(math.Round(v)), resource.DecimalSI),
	}}}, nil
}

// value reads (or takes from the cache) the value q asks for.
func (p *Provider) value(ctx context.Context, namespace string, q query) (float64, time.Time, error) {
	k := namespace + "\x00" + q.metric + "\x00" + q.group + "\x00" + q.pod + "\x00" + q.host + "\x00" + q.port + "\x00" + q.key + "\x00" + q.consumerGroup
	p.mu.Lock()
	c, ok := p.cache[k]
	p.mu.Unlock()
	if ok && time.Since(c.at) < p.opts.Interval {
		return c.value, c.at, c.err
	}
	t, err := p.redisOf(ctx, namespace, q)
	if err != nil {
		return 0, time.Time{}, err
	}
	v, err := read(ctx, p.clients.get(t), q)
	now := time.Now()
	var bad *badKey
	if err == nil || errors.As(err, &bad) {
		// Values and the key's own errors (wrong type, no such group) are
		// cached; a Redis that did not answer is asked again next time.
		if err != nil {
			err = apierrors.NewBadRequest(q.metric + ": " + err.Error())
		}
		p.mu.Lock()
		p.prune(now)
		p.cache[k] = cached{value: v, err: err, at: now}
		p.mu.Unlock()
	} else {
		err = apierrors.NewServiceUnavailable(fmt.Sprintf("%s: reading %s: %v", q.metric, t, scrub(err, t.Password)))
	}
	return v, now, err
}

// prune drops expired entries, so selectors no HPA asks for any more do
// not accumulate. p.mu is held.
func (p *Provider) prune(now time.Time) {
	for k, c := range p.cache {
		if now.Sub(c.at) > 10*p.opts.Interval {
			delete(p.cache, k)
		}
	}
}

func (p *Provider) redisOf(ctx context.Context, namespace string, q query) (target.Target, error) {
	var t target.Target
	var err error
	switch {
	case q.group != "":
		t, err = p.opts.Resolve.GroupMaster(ctx, namespace, q.group)
	case q.pod != "":
		t, err = p.opts.Resolve.Pod(ctx, namespace, q.pod)
	default:
		port := q.port
		if port == "" {
			port = "6379"
		}
		if n, perr := strconv.Atoi(port); perr != nil || n <= 0 || n > 65535 {
			return t, apierrors.NewBadRequest(fmt.Sprintf("%s: port %q is not a port", q.metric, port))
		}
		t = target.Target{Network: "tcp", Address: net.JoinHostPort(q.host, port), TLS: p.opts.TLS}
	}
	if err != nil {
		return t, err
	}
	return p.opts.Credentials.Apply(t), nil
}
