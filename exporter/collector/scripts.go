package collector

import (
	"slices"

	"github.com/redis-autoscaler/redis-autoscaler/exporter/engine"
)

// scriptDescs are the families of --script.
type scriptDescs struct {
	scriptResult, scriptValues *family
}

func newScriptDescs(d familyMaker) (ds scriptDescs) {
	ds.scriptResult = d.family("script_result", "Result of each --script: 1 values exported, 2 nothing returned, 0 failed.", "filename")
	ds.scriptValues = d.family("script_values", "Values a --script returned, by key.", "key", "filename")
	return ds
}

// emitScripts exports each Lua script's result and, at most
// MaxLabelValues, its values in key order.
func (rs *Results) emitScripts(e emitter, r *engine.Result) {
	d := rs.descs
	for _, sc := range r.Sample.Scripts {
		switch {
		case sc.Err != nil:
			e.gauge(d.scriptResult, 0, sc.Name)
		case sc.Empty:
			e.gauge(d.scriptResult, 2, sc.Name)
		default:
			keys := make([]string, 0, len(sc.Values))
			for k := range sc.Values {
				keys = append(keys, k)
			}
			slices.Sort(keys)
			for i, k := range keys {
				if i < rs.opts.MaxLabelValues {
					e.gauge(d.scriptValues, sc.Values[k], k, sc.Name)
				}
			}
			e.gauge(d.scriptResult, 1, sc.Name)
		}
	}
}
