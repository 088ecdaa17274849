package metrics

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"
)

func TestGroupCollector(t *testing.T) {
	for _, tc := range []struct {
		name   string
		groups []GroupState
		err    error
		want   string
	}{
		{name: "no groups", want: ``},
		{name: "a converged group and one without spec.replicas", groups: []GroupState{
			{Namespace: "redis", Name: "cache", Desired: 3, HasDesired: true, Current: 3, Ready: 3, Synced: 3, Master: "cache-0",
				LastSwitchover: time.Unix(1764561600, 250_000_000),
				Pods:           []PodState{{Name: "cache-0", Role: "master"}, {Name: "cache-1", Role: "replica", Synced: true}, {Name: "cache-2"}},
				Backups:        &BackupState{LastSuccess: time.Unix(1764561000, 0), Succeeded: 7, Failed: 1}},
			{Namespace: "redis", Name: "queue", Current: 2, Ready: 1, Synced: 1, Backups: &BackupState{Failed: 2}},
		}, want: `
# HELP redis_autoscaler_backups_total Backups of a RedisReplicationGroup by result (success, failure), as recorded in status.backup.
# TYPE redis_autoscaler_backups_total counter
redis_autoscaler_backups_total{group="cache",namespace="redis",result="failure"} 1
redis_autoscaler_backups_total{group="cache",namespace="redis",result="success"} 7
redis_autoscaler_backups_total{group="queue",namespace="redis",result="failure"} 2
redis_autoscaler_backups_total{group="queue",namespace="redis",result="success"} 0
# HELP redis_autoscaler_last_backup_timestamp_seconds Unix time the newest good backup of a RedisReplicationGroup finished (redis-autoscaler backup --group records it in status.backup); absent until the first.
# TYPE redis_autoscaler_last_backup_timestamp_seconds gauge
redis_autoscaler_last_backup_timestamp_seconds{group="cache",namespace="redis"} 1.764561e+09
# HELP redis_autoscaler_scaler_group_last_switchover_timestamp_seconds Unix time the scaler last moved a RedisReplicationGroup's master (status.lastSwitchoverTime); absent until the first switchover.
# TYPE redis_autoscaler_scaler_group_last_switchover_timestamp_seconds gauge
redis_autoscaler_scaler_group_last_switchover_timestamp_seconds{group="cache",namespace="redis"} 1.76456160025e+09
# HELP redis_autoscaler_scaler_group_master 1 for the pod that is a RedisReplicationGroup's master.
# TYPE redis_autoscaler_scaler_group_master gauge
redis_autoscaler_scaler_group_master{group="cache",namespace="redis",pod="cache-0"} 1
# HELP redis_autoscaler_scaler_group_pod_info 1 for each pod of a RedisReplicationGroup, with the role the scaler gave it (master, replica, or empty while down) and whether a replica is in sync; joins the exporter's per-pod series to their group.
# TYPE redis_autoscaler_scaler_group_pod_info gauge
redis_autoscaler_scaler_group_pod_info{group="cache",namespace="redis",pod="cache-0",role="master",synced="false"} 1
redis_autoscaler_scaler_group_pod_info{group="cache",namespace="redis",pod="cache-1",role="replica",synced="true"} 1
redis_autoscaler_scaler_group_pod_info{group="cache",namespace="redis",pod="cache-2",role="",synced="false"} 1
# HELP redis_autoscaler_scaler_group_replicas Replicas of a RedisReplicationGroup by state: desired (spec.replicas), current and ready (the StatefulSet's pods), synced (master plus replicas attached and in sync).
# TYPE redis_autoscaler_scaler_group_replicas gauge
redis_autoscaler_scaler_group_replicas{group="cache",namespace="redis",state="current"} 3
redis_autoscaler_scaler_group_replicas{group="cache",namespace="redis",state="desired"} 3
redis_autoscaler_scaler_group_replicas{group="cache",namespace="redis",state="ready"} 3
redis_autoscaler_scaler_group_replicas{group="cache",namespace="redis",state="synced"} 3
redis_autoscaler_scaler_group_replicas{group="queue",namespace="redis",state="current"} 2
redis_autoscaler_scaler_group_replicas{group="queue",namespace="redis",state="ready"} 1
redis_autoscaler_scaler_group_replicas{group="queue",namespace="redis",state="synced"} 1
`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := NewGroupCollector(func(context.Context) ([]GroupState, error) { return tc.groups, tc.err })
			require.NoError(t, testutil.CollectAndCompare(c, strings.NewReader(tc.want)))
		})
	}
	// A failing list is a scrape error, not a panic or silence.
	c := NewGroupCollector(func(context.Context) ([]GroupState, error) { return nil, errors.New("cache not synced") })
	reg := prometheus.NewPedanticRegistry()
	require.NoError(t, reg.Register(c))
	_, err := reg.Gather()
	require.ErrorContains(t, err, "cache not synced")
}
