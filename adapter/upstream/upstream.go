// Package upstream forwards custom-metrics requests to another
// custom.metrics.k8s.io server, such as prometheus-adapter. Only one
// APIService can own v1beta1/v1beta2.custom.metrics.k8s.io
// (kubernetes-sigs/prometheus-adapter#367,
// kubernetes-sigs/custom-metrics-apiserver#59): with Combine this adapter
// owns it, serves the Redis metrics itself and passes everything else on.
package upstream

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"slices"
	"sync"

	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/rest"
	"k8s.io/metrics/pkg/apis/custom_metrics"
	"k8s.io/metrics/pkg/apis/custom_metrics/v1beta2"
	cmclient "k8s.io/metrics/pkg/client/custom_metrics"
	"sigs.k8s.io/custom-metrics-apiserver/pkg/provider"
)

// Upstream is a provider.CustomMetricsProvider answering from an upstream
// server through the client the HPA itself uses.
type Upstream struct {
	opts      Options
	client    cmclient.CustomMetricsClient
	discovery discovery.DiscoveryInterface
	versions  cmclient.AvailableAPIsGetter

	mu      sync.RWMutex
	metrics []provider.CustomMetricInfo // last list read, kept when a refresh fails
}

var _ provider.CustomMetricsProvider = (*Upstream)(nil)

// New builds the client; it does not contact the upstream (Start does).
func New(o Options) (*Upstream, error) {
	o.defaults()
	cfg, err := restConfig(o)
	if err != nil {
		return nil, err
	}
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("upstream %s: discovery client: %w", o.URL, err)
	}
	// custom-metrics-apiserver's aggregated discovery document (the format
	// client-go asks for first) omits its own group, so the preferred
	// version would never be found; its plain /apis list has it.
	dc.UseLegacyDiscovery = true
	versions := cmclient.NewAvailableAPIsGetter(dc)
	return &Upstream{
		opts:      o,
		client:    cmclient.NewForConfig(cfg, resourceMapper{}, versions),
		discovery: dc,
		versions:  versions,
	}, nil
}

func restConfig(o Options) (*rest.Config, error) {
	u, err := url.Parse(o.URL)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return nil, fmt.Errorf("--upstream %q: want a URL such as https://prometheus-adapter.monitoring.svc:443", o.URL)
	}
	cfg := &rest.Config{
		Host:            o.URL,
		TLSClientConfig: rest.TLSClientConfig{CAFile: o.CAFile, Insecure: o.InsecureSkipVerify},
		Timeout:         o.Timeout,
		UserAgent:       "redis-autoscaler-adapter",
		// No client-side throttle: every upstream call answers an HPA call
		// to us, and client-go's default 5 QPS would queue them (the NOTES'
		// 200 ms per request of prometheus-adapter's own lister).
		QPS: -1,
	}
	if o.TokenFile != "" {
		_, err := os.Stat(o.TokenFile)
		switch {
		case err == nil:
			// client-go re-reads the file, so projected tokens can rotate.
			cfg.BearerTokenFile = o.TokenFile
		case errors.Is(err, os.ErrNotExist) && o.TokenFile == ServiceAccountTokenFile:
			o.Logger.Warn("no ServiceAccount token; calling upstream without one", "file", o.TokenFile)
		default:
			return nil, fmt.Errorf("--upstream.token-file: %w", err)
		}
	}
	return cfg, nil
}

// Start refreshes the upstream's metric list now and every RefreshInterval
// until ctx ends, in the background: ListAllMetrics never waits on it.
func (u *Upstream) Start(ctx context.Context) {
	// Non-sliding: a refresh starts every RefreshInterval, however long the
	// previous one took, as a ticker would.
	go wait.NonSlidingUntilWithContext(ctx, func(ctx context.Context) {
		if err := u.Refresh(ctx); err != nil && ctx.Err() == nil {
			u.opts.Logger.Warn("upstream metric list not refreshed; keeping the last one", "upstream", u.opts.URL, "err", err)
		}
	}, u.opts.RefreshInterval)
}

// Refresh reads the upstream's metric list once. It also forgets the
// upstream's preferred API version, so an upgraded upstream is followed.
func (u *Upstream) Refresh(ctx context.Context) error {
	u.versions.Invalidate()
	gv, err := u.versions.PreferredVersion()
	if err != nil {
		return fmt.Errorf("upstream %s: API version: %w", u.opts.URL, err)
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	resources, err := u.discovery.ServerResourcesForGroupVersion(gv.String())
	if err != nil {
		return fmt.Errorf("upstream %s: list metrics: %w", u.opts.URL, err)
	}
	metrics := metricInfos(resources.APIResources)
	u.mu.Lock()
	u.metrics = metrics
	u.mu.Unlock()
	u.opts.Logger.Debug("upstream metric list refreshed", "upstream", u.opts.URL, "version", gv.Version, "metrics", len(metrics))
	return nil
}

// ListAllMetrics returns the upstream's metrics as last read.
func (u *Upstream) ListAllMetrics() []provider.CustomMetricInfo {
	u.mu.RLock()
	defer u.mu.RUnlock()
	return slices.Clone(u.metrics)
}

// GetMetricByName forwards a single-object request. The client takes no
// context; Options.Timeout bounds each call instead.
func (u *Upstream) GetMetricByName(ctx context.Context, name types.NamespacedName, info provider.CustomMetricInfo, metricSelector labels.Selector) (*custom_metrics.MetricValue, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	metrics := u.scope(name.Namespace)
	value, err := metrics.GetForObject(kindForInfo(info), name.Name, info.Metric, orEverything(metricSelector))
	if err != nil {
		return nil, u.apiError(err, info)
	}
	out := &custom_metrics.MetricValue{}
	if err := v1beta2.Convert_v1beta2_MetricValue_To_custom_metrics_MetricValue(value, out, nil); err != nil {
		return nil, u.apiError(err, info)
	}
	return out, nil
}

// GetMetricBySelector forwards a request for all objects matching selector.
func (u *Upstream) GetMetricBySelector(ctx context.Context, namespace string, selector labels.Selector, info provider.CustomMetricInfo, metricSelector labels.Selector) (*custom_metrics.MetricValueList, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	list, err := u.scope(namespace).GetForObjects(kindForInfo(info), orEverything(selector), info.Metric, orEverything(metricSelector))
	if err != nil {
		return nil, u.apiError(err, info)
	}
	out := &custom_metrics.MetricValueList{}
	if err := v1beta2.Convert_v1beta2_MetricValueList_To_custom_metrics_MetricValueList(list, out, nil); err != nil {
		return nil, u.apiError(err, info)
	}
	return out, nil
}

// scope picks the namespaced or root-scoped form of the request.
func (u *Upstream) scope(namespace string) cmclient.MetricsInterface {
	if namespace == "" {
		return u.client.RootScopedMetrics()
	}
	return u.client.NamespacedMetrics(namespace)
}

// kindForInfo is the kind to ask the client for. Metrics of a namespace
// itself have their own path (/namespaces/NAME/metrics/METRIC), which the
// client takes for exactly the core kind Namespace.
func kindForInfo(info provider.CustomMetricInfo) schema.GroupKind {
	if info.GroupResource == (schema.GroupResource{Resource: "namespaces"}) {
		return schema.GroupKind{Kind: "Namespace"}
	}
	return kindFor(info.GroupResource)
}

func orEverything(s labels.Selector) labels.Selector {
	if s == nil {
		return labels.Everything()
	}
	return s
}
