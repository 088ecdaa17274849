package collector

import (
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/redis-autoscaler/redis-autoscaler/exporter/redisinfo"
)

// clusterDescs are CLUSTER INFO's families, named after the fields a
// server reports.
type clusterDescs struct {
	cluster *dynamicDescs
}

func newClusterDescs(d familyMaker) clusterDescs {
	return clusterDescs{cluster: d.dynamic()}
}

// clusterRenamed are CLUSTER INFO fields redis_exporter renames (still
// gauges there, so here); every other cluster_* field is a gauge of its
// own name.
var clusterRenamed = map[string]string{
	"cluster_stats_messages_sent":     "cluster_messages_sent_total",
	"cluster_stats_messages_received": "cluster_messages_received_total",
}

// maxClusterFields bounds the gauges built from CLUSTER INFO field names
// (a server chooses them; Redis 7 reports about 30).
const maxClusterFields = 100

var metricNameRE = regexp.MustCompile(`^[a-z_][a-z0-9_]*$`)

// emitCluster exports CLUSTER INFO of a cluster-enabled server as
// redis_exporter does: cluster_state and the other cluster_* fields as
// gauges ("ok" is 1, "fail" 0), the message totals renamed.
func (rs *Results) emitCluster(e emitter, info *redisinfo.Info, fields map[string]string) {
	keys := make([]string, 0, len(fields))
	for k := range fields {
		if strings.HasPrefix(k, "cluster_") && metricNameRE.MatchString(k) {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for i, k := range keys {
		if i >= maxClusterFields {
			break
		}
		v, ok := statusOrFloat(fields[k])
		if !ok {
			continue
		}
		name := k
		if renamed, ok := clusterRenamed[k]; ok {
			name = renamed
		}
		if _, inInfo := info.Fields[k]; inInfo {
			continue // exported from INFO already
		}
		fam, ok := rs.descs.fields[name] // the INFO field family of that name, if any
		if !ok {
			fam = rs.descs.cluster.get(name, "CLUSTER INFO "+k+" (ok is 1).")
		}
		e.gauge(fam, v)
	}
}

// statusOrFloat reads a value as redis_exporter does: ok/true 1,
// err/fail/false 0, else a number.
func statusOrFloat(s string) (float64, bool) {
	switch s {
	case "ok", "true":
		return 1, true
	case "err", "fail", "false":
		return 0, true
	}
	v, err := strconv.ParseFloat(s, 64)
	return v, err == nil
}
