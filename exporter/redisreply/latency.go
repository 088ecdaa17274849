package redisreply

// LatencyHistogram is one command's LATENCY HISTOGRAM: cumulative counts
// by upper bound in microseconds, as Redis reports them.
type LatencyHistogram struct {
	Calls   uint64
	Buckets map[float64]uint64
}

// ParseLatencyHistogram reads LATENCY HISTOGRAM's RESP2 reply (Redis >= 7):
// [cmd, [calls, N, histogram_usec, [bound, count, ...]], ...]. Anything
// not of that shape is skipped.
func ParseLatencyHistogram(v any) map[string]LatencyHistogram {
	top, ok := v.([]any)
	if !ok {
		return nil
	}
	out := map[string]LatencyHistogram{}
	for i := 0; i+1 < len(top); i += 2 {
		name, ok1 := top[i].(string)
		details, ok2 := top[i+1].([]any)
		if !ok1 || !ok2 {
			continue
		}
		h := LatencyHistogram{Buckets: map[float64]uint64{}}
		for j := 0; j+1 < len(details); j += 2 {
			key, _ := details[j].(string)
			switch key {
			case "calls":
				if n, ok := details[j+1].(int64); ok && n >= 0 {
					h.Calls = uint64(n)
				}
			case "histogram_usec":
				pairs, _ := details[j+1].([]any)
				for k := 0; k+1 < len(pairs); k += 2 {
					bound, ok1 := pairs[k].(int64)
					count, ok2 := pairs[k+1].(int64)
					if ok1 && ok2 && bound > 0 && count >= 0 {
						h.Buckets[float64(bound)] = uint64(count)
					}
				}
			}
		}
		out[name] = h
	}
	return out
}
