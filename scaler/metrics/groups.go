package metrics

import (
	"context"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// GroupState is what /metrics says of one RedisReplicationGroup.
type GroupState struct {
	Namespace, Name string
	// Desired is spec.replicas (what the HPA or kubectl scale asked);
	// HasDesired is false while it is unset.
	Desired    int32
	HasDesired bool
	// Current and Ready are the StatefulSet's pods; Synced counts the
	// master and the replicas attached and in sync.
	Current, Ready, Synced int32
	// Master is the pod the scaler made master ("" when none).
	Master string
}

// GroupCollector exports every group's state at scrape time (from the
// scaler's informer cache), so a deleted group's series go with it and
// dashboards and alerts need no kube-state-metrics.
type GroupCollector struct {
	mu       sync.Mutex
	list     func(context.Context) ([]GroupState, error)
	replicas *prometheus.Desc
	master   *prometheus.Desc
}

// NewGroupCollector creates the collector; SetSource gives it its groups.
func NewGroupCollector() *GroupCollector {
	return &GroupCollector{
		replicas: prometheus.NewDesc("redis_autoscaler_scaler_group_replicas",
			"Replicas of a RedisReplicationGroup by state: desired (spec.replicas), current and ready (the StatefulSet's pods), synced (master plus replicas attached and in sync).",
			[]string{"namespace", "group", "state"}, nil),
		master: prometheus.NewDesc("redis_autoscaler_scaler_group_master",
			"1 for the pod that is a RedisReplicationGroup's master.",
			[]string{"namespace", "group", "pod"}, nil),
	}
}

// SetSource sets where the groups come from (the latest scaler started in
// this process wins).
func (c *GroupCollector) SetSource(list func(context.Context) ([]GroupState, error)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.list = list
}

// Describe implements prometheus.Collector.
func (c *GroupCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.replicas
	ch <- c.master
}

// Collect implements prometheus.Collector.
func (c *GroupCollector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	list := c.list
	c.mu.Unlock()
	if list == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	groups, err := list(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(c.replicas, err)
		return
	}
	for _, g := range groups {
		gauge := func(state string, v int32) {
			ch <- prometheus.MustNewConstMetric(c.replicas, prometheus.GaugeValue, float64(v), g.Namespace, g.Name, state)
		}
		if g.HasDesired {
			gauge("desired", g.Desired)
		}
		gauge("current", g.Current)
		gauge("ready", g.Ready)
		gauge("synced", g.Synced)
		if g.Master != "" {
			ch <- prometheus.MustNewConstMetric(c.master, prometheus.GaugeValue, 1, g.Namespace, g.Name, g.Master)
		}
	}
}

// RegisterGroups registers the group collector once per registry and
// returns the one registered.
func RegisterGroups(reg prometheus.Registerer) *GroupCollector {
	return register(reg, NewGroupCollector())
}
