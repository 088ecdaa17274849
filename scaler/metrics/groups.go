package metrics

import (
	"context"
	"strconv"
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
	// LastSwitchover is when the scaler last moved the master (zero: never).
	LastSwitchover time.Time
	// Pods are the group's pods with the role the scaler gave each.
	Pods []PodState
	// Backups is status.backup (nil: never backed up with --group).
	Backups *BackupState
}

// BackupState is what the backup command recorded in a group's status.
type BackupState struct {
	// LastSuccess is when the newest good backup finished (zero: none).
	LastSuccess       time.Time
	Succeeded, Failed int64
}

// PodState is one pod of a group: its role label ("master", "replica" or
// "" while down or unknown) and whether a replica is in sync.
type PodState struct {
	Name, Role string
	Synced     bool
}

// GroupCollector exports every group's state at scrape time (from the
// scaler's informer cache), so a deleted group's series go with it and
// dashboards and alerts need no kube-state-metrics.
type GroupCollector struct {
	// list reads the groups (from the scaler's informer cache).
	list           func(context.Context) ([]GroupState, error)
	replicas       *prometheus.Desc
	master         *prometheus.Desc
	lastSwitchover *prometheus.Desc
	pod            *prometheus.Desc
	lastBackup     *prometheus.Desc
	backups        *prometheus.Desc
}

// NewGroupCollector creates the collector of the groups list returns.
func NewGroupCollector(list func(context.Context) ([]GroupState, error)) *GroupCollector {
	return &GroupCollector{
		list: list,
		replicas: prometheus.NewDesc("redis_autoscaler_scaler_group_replicas",
			"Replicas of a RedisReplicationGroup by state: desired (spec.replicas), current and ready (the StatefulSet's pods), synced (master plus replicas attached and in sync).",
			[]string{"namespace", "group", "state"}, nil),
		master: prometheus.NewDesc("redis_autoscaler_scaler_group_master",
			"1 for the pod that is a RedisReplicationGroup's master.",
			[]string{"namespace", "group", "pod"}, nil),
		lastSwitchover: prometheus.NewDesc("redis_autoscaler_scaler_group_last_switchover_timestamp_seconds",
			"Unix time the scaler last moved a RedisReplicationGroup's master (status.lastSwitchoverTime); absent until the first switchover.",
			[]string{"namespace", "group"}, nil),
		pod: prometheus.NewDesc("redis_autoscaler_scaler_group_pod_info",
			"1 for each pod of a RedisReplicationGroup, with the role the scaler gave it (master, replica, or empty while down) and whether a replica is in sync; joins the exporter's per-pod series to their group.",
			[]string{"namespace", "group", "pod", "role", "synced"}, nil),
		lastBackup: prometheus.NewDesc("redis_autoscaler_last_backup_timestamp_seconds",
			"Unix time the newest good backup of a RedisReplicationGroup finished (redis-autoscaler backup --group records it in status.backup); absent until the first.",
			[]string{"namespace", "group"}, nil),
		backups: prometheus.NewDesc("redis_autoscaler_backups_total",
			"Backups of a RedisReplicationGroup by result (success, failure), as recorded in status.backup.",
			[]string{"namespace", "group", "result"}, nil),
	}
}

// Describe implements prometheus.Collector.
func (c *GroupCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.replicas
	ch <- c.master
	ch <- c.lastSwitchover
	ch <- c.pod
	ch <- c.lastBackup
	ch <- c.backups
}

// Collect implements prometheus.Collector.
func (c *GroupCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	groups, err := c.list(ctx)
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
		if !g.LastSwitchover.IsZero() {
			ch <- prometheus.MustNewConstMetric(c.lastSwitchover, prometheus.GaugeValue, float64(g.LastSwitchover.UnixMilli())/1000, g.Namespace, g.Name)
		}
		for _, p := range g.Pods {
			ch <- prometheus.MustNewConstMetric(c.pod, prometheus.GaugeValue, 1, g.Namespace, g.Name, p.Name, p.Role, strconv.FormatBool(p.Synced))
		}
		if b := g.Backups; b != nil {
			if !b.LastSuccess.IsZero() {
				ch <- prometheus.MustNewConstMetric(c.lastBackup, prometheus.GaugeValue, float64(b.LastSuccess.Unix()), g.Namespace, g.Name)
			}
			ch <- prometheus.MustNewConstMetric(c.backups, prometheus.CounterValue, float64(b.Succeeded), g.Namespace, g.Name, "success")
			ch <- prometheus.MustNewConstMetric(c.backups, prometheus.CounterValue, float64(b.Failed), g.Namespace, g.Name, "failure")
		}
	}
}
