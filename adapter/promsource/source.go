// Package promsource is the adapter's Prometheus value source
// (--source=prometheus): it reads the exporter's metrics back from a
// Prometheus server with one PromQL query per metric and namespace.
package promsource

import (
	"context"
	"fmt"
	"maps"
	"sync"
	"text/template"
	"time"

	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"
	"golang.org/x/sync/errgroup"
	corev1 "k8s.io/api/core/v1"

	"github.com/redis-autoscaler/redis-autoscaler/adapter/source"
)

// Source answers PodValues with PromQL queries against Prometheus.
type Source struct {
	api        v1.API
	opts       Options
	queries    map[string]*template.Template
	timestamps map[string]*template.Template // absent: trust evaluation time
	now        func() time.Time
}

var _ source.Source = (*Source)(nil)

// New checks the options, parses every query template (so a typo in a flag
// fails at start, not on the HPA's first request) and builds the client.
func New(o Options) (*Source, error) {
	o.Queries = maps.Clone(o.Queries)
	o.TimestampQueries = maps.Clone(o.TimestampQueries)
	if o.Queries == nil {
		o.Queries = map[string]string{}
	}
	if o.TimestampQueries == nil {
		o.TimestampQueries = map[string]string{}
	}
	o.fromFlags()
	o.defaults()
	client, err := newClient(&o)
	if err != nil {
		return nil, err
	}
	s := &Source{
		api:        v1.NewAPI(client),
		opts:       o,
		queries:    map[string]*template.Template{},
		timestamps: map[string]*template.Template{},
		now:        time.Now,
	}
	for _, name := range source.Names {
		text, ok := o.Queries[name]
		if !ok || text == "" {
			text = DefaultQueries[name]
		}
		if s.queries[name], err = parseTemplate(name, text); err != nil {
			return nil, err
		}
		stamp, ok := o.TimestampQueries[name]
		if !ok {
			stamp = DefaultTimestampQueries[name]
		}
		if stamp == "" {
			continue
		}
		if s.timestamps[name], err = parseTemplate(name, stamp); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// PodValues returns the newest value of metric for each of pods that
// Prometheus has a fresh, finite value for.
func (s *Source) PodValues(ctx context.Context, metric string, pods []*corev1.Pod) (map[string]source.Value, error) {
	if _, ok := s.queries[metric]; !ok {
		return nil, fmt.Errorf("prometheus source: unknown metric %q", metric)
	}
	byNamespace := map[string][]string{}
	for _, p := range pods {
		if p != nil {
			byNamespace[p.Namespace] = append(byNamespace[p.Namespace], p.Name)
		}
	}
	var mu sync.Mutex
	out := make(map[string]source.Value, len(pods))
	g, ctx := errgroup.WithContext(ctx)
	for ns, names := range byNamespace {
		g.Go(func() error {
			values, err := s.namespaceValues(ctx, metric, ns, names)
			if err != nil {
				return err
			}
			mu.Lock()
			maps.Copy(out, values)
			mu.Unlock()
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return out, nil
}

// namespaceValues runs the value query and, concurrently, the timestamp
// query for the pods of one namespace.
func (s *Source) namespaceValues(ctx context.Context, metric, namespace string, pods []string) (map[string]source.Value, error) {
	data := newQueryData(namespace, pods, s.opts.Window, s.opts.Quantile)
	ctx, cancel := context.WithTimeout(ctx, s.opts.Timeout)
	defer cancel()
	now := s.now()
	start := time.Now()

	var values, stamps model.Vector
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() (err error) {
		values, err = s.run(ctx, metric, s.queries[metric], data, now)
		return err
	})
	if t := s.timestamps[metric]; t != nil {
		g.Go(func() (err error) {
			stamps, err = s.run(ctx, metric, t, data, now)
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	want := make(map[string]bool, len(pods))
	for _, p := range pods {
		want[p] = true
	}
	window := time.Duration(0)
	if windowed[metric] {
		window = s.opts.Window
	}
	out := toValues(values, sampleTimes(stamps), want, now, window, s.opts.MaxStaleness)
	s.opts.Logger.Debug("prometheus query", "metric", metric, "namespace", namespace,
		"pods", len(pods), "values", len(out), "duration", time.Since(start))
	return out, nil
}

// run renders and executes one instant query at now.
func (s *Source) run(ctx context.Context, metric string, t *template.Template, data QueryData, now time.Time) (model.Vector, error) {
	query, err := render(t, data)
	if err != nil {
		return nil, err
	}
	result, warnings, _, err := s.api.Query(ctx, query, now, v1.WithTimeout(s.opts.Timeout))
	if err != nil {
		return nil, fmt.Errorf("prometheus query for %s: %w", metric, err)
	}
	if len(warnings) > 0 {
		s.opts.Logger.Warn("prometheus query warnings", "metric", metric, "warnings", warnings)
	}
	vector, ok := result.(model.Vector)
	if !ok {
		return nil, fmt.Errorf("prometheus query for %s: returned a %s, want an instant vector", metric, result.Type())
	}
	return vector, nil
}
