// Package redisreply parses the replies of the commands the scraper sends
// besides INFO (exporter/redisinfo parses INFO): CLUSTER NODES and CLUSTER
// INFO, SLOWLOG, LATENCY HISTOGRAM, CONFIG GET, the SENTINEL replies, Lua
// scripts' results and CLIENT LIST.
//
// Every function is pure: a reply in (text, or the values go-redis decodes
// a RESP2 reply into: string, int64, []any, map[any]any), a struct out.
// The scraper only sends commands and hands their replies here; the
// scaler reads CLUSTER NODES with the same parser. Replies come from
// servers the exporter does not control, so nothing here panics on any
// input (each parser has a fuzz target) and what is not of the expected
// shape is left out.
package redisreply

import "fmt"

// flatMap reads a RESP2 flat [key, value, ...] array (or a RESP3 map) as
// strings; an odd last element and anything not an array are left out.
func flatMap(v any) map[string]string {
	out := map[string]string{}
	switch r := v.(type) {
	case []any:
		for i := 0; i+1 < len(r); i += 2 {
			out[fmt.Sprint(r[i])] = fmt.Sprint(r[i+1])
		}
	case map[any]any:
		for k, val := range r {
			out[fmt.Sprint(k)] = fmt.Sprint(val)
		}
	}
	return out
}
