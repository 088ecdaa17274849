package collector

import (
	"slices"
	"strconv"
	"strings"
)

// configDescs are CONFIG GET *'s families (--include-config-metrics).
type configDescs struct {
	configKeyValue, configValue, outputBufferLimit, outputBufferOvercome *family
	// configGauge are redis_exporter's config_<name> gauges.
	configGauge *dynamicDescs
}

func newConfigDescs(d familyMaker) (ds configDescs) {
	ds.configGauge = d.dynamic()
	ds.configKeyValue = d.family("config_key_value", "Each setting from CONFIG GET * as labels, 1 (with --include-config-metrics; secrets left out).", "key", "value")
	ds.configValue = d.family("config_value", "Each numeric setting from CONFIG GET * (with --include-config-metrics).", "key")
	ds.outputBufferLimit = d.family("config_client_output_buffer_limit_bytes", "client-output-buffer-limit per class, hard and soft (with --include-config-metrics).", "class", "limit")
	ds.outputBufferOvercome = d.family("config_client_output_buffer_limit_overcome_seconds", "Seconds a class may exceed its soft output buffer limit (with --include-config-metrics).", "class", "limit")
	return ds
}

// redactedConfig are settings never exported: they hold secrets.
// redis_exporter exports them with --redact-config-metrics=false; this
// exporter never does (passwords never appear in metrics).
func redactedConfig(key string) bool {
	return strings.Contains(key, "pass") || strings.Contains(key, "auth") || key == "masteruser"
}

// configGauges are the settings redis_exporter always exports as
// config_<name> (maxclients comes from INFO here).
var configGauges = map[string]string{
	"io-threads":        "config_io_threads",
	"maxmemory":         "config_maxmemory",
	"repl-backlog-size": "config_repl_backlog_size",
}

// emitConfig exports CONFIG GET *: every setting as config_key_value
// (value as label) and config_value (numeric ones), bounded like other
// server-chosen labels, plus redis_exporter's config_* gauges.
func (rs *Results) emitConfig(e emitter, config map[string]string) {
	d := rs.descs
	keys := make([]string, 0, len(config))
	for k := range config {
		if !redactedConfig(k) {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for i, k := range keys {
		v := config[k]
		if i < rs.opts.MaxLabelValues {
			e.gauge(d.configKeyValue, 1, k, v)
			if f, err := strconv.ParseFloat(v, 64); err == nil {
				e.gauge(d.configValue, f, k)
			}
		}
		if name, ok := configGauges[k]; ok {
			if f, err := strconv.ParseFloat(v, 64); err == nil {
				e.gauge(d.configGauge.get(name, "CONFIG GET "+k+"."), f)
			}
		}
	}
	// "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60"
	parts := strings.Fields(config["client-output-buffer-limit"])
	for i := 0; i+3 < len(parts); i += 4 {
		class := parts[i]
		if f, err := strconv.ParseFloat(parts[i+1], 64); err == nil {
			e.gauge(d.outputBufferLimit, f, class, "hard")
		}
		if f, err := strconv.ParseFloat(parts[i+2], 64); err == nil {
			e.gauge(d.outputBufferLimit, f, class, "soft")
		}
		if f, err := strconv.ParseFloat(parts[i+3], 64); err == nil {
			e.gauge(d.outputBufferOvercome, f, class, "soft")
		}
	}
}
