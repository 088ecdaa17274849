package collector

import "github.com/redis-autoscaler/redis-autoscaler/exporter/engine"

// emitExtras exports what the extra commands returned, when asked for and
// not refused; each family is a file of its own.
func (rs *Results) emitExtras(e emitter, r *engine.Result) {
	if r.Sample.ClusterInfo != nil {
		rs.emitCluster(e, r.Sample.Info, r.Sample.ClusterInfo)
	}
	if r.Sample.Config != nil {
		rs.emitConfig(e, r.Sample.Config)
	}
	rs.emitKeys(e, r)
	rs.emitKeyGroups(e, r)
	rs.emitScripts(e, r)
	rs.emitClients(e, r)
	rs.emitSlowlog(e, r)
	rs.emitLatencyHistograms(e, r)
}
