package collector

import (
	"strconv"

	"github.com/redis-autoscaler/redis-autoscaler/exporter/engine"
)

// clientFields are CLIENT LIST fields exported per client, as
// redis_exporter names them (age and idle become timestamps).
var clientFields = map[string]string{
	"omem":      "connected_client_output_buffer_memory_usage_bytes",
	"tot-mem":   "connected_client_total_memory_consumed_bytes",
	"age":       "connected_client_created_at_timestamp",
	"idle":      "connected_client_idle_since_timestamp",
	"sub":       "connected_client_channel_subscriptions_count",
	"psub":      "connected_client_pattern_matching_subscriptions_count",
	"qbuf":      "connected_client_query_buffer_length_bytes",
	"qbuf-free": "connected_client_query_buffer_free_space_bytes",
	"obl":       "connected_client_output_buffer_length_bytes",
	"oll":       "connected_client_output_list_length",
}

// clientDescs are CLIENT LIST's families (--export-client-list).
type clientDescs struct {
	clientInfo   *family
	clientGauges map[string]*family // by CLIENT LIST field
}

func newClientDescs(d familyMaker) (ds clientDescs) {
	ds.clientInfo = d.family("connected_client_info", "Each connected client (--export-client-list); 1.", "id", "name", "flags", "db", "host", "port", "user", "resp")
	ds.clientGauges = map[string]*family{}
	for field, name := range clientFields {
		ds.clientGauges[field] = d.family(name, "CLIENT LIST "+field+" of each connected client (--export-client-list).", "id", "name")
	}
	return ds
}

// emitClients exports CLIENT LIST, at most MaxLabelValues clients.
func (rs *Results) emitClients(e emitter, r *engine.Result) {
	d := rs.descs
	now := float64(r.Sample.At.Unix())
	for i, c := range r.Sample.Clients {
		if i >= rs.opts.MaxLabelValues {
			break
		}
		f := c.Fields
		port := ""
		if rs.opts.ClientPortLabel {
			port = c.Port
		}
		e.gauge(d.clientInfo, 1, f["id"], f["name"], f["flags"], f["db"], c.Host, port, f["user"], f["resp"])
		for field, fam := range d.clientGauges {
			v, err := strconv.ParseFloat(f[field], 64)
			if err != nil {
				continue
			}
			if field == "age" || field == "idle" {
				v = now - v
			}
			e.gauge(fam, v, f["id"], f["name"])
		}
	}
}
