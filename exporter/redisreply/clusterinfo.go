package redisreply

import "strings"

// ParseClusterInfo reads CLUSTER INFO's "key:value" lines.
func ParseClusterInfo(text string) map[string]string {
	out := map[string]string{}
	for _, line := range strings.Split(text, "\n") {
		k, v, ok := strings.Cut(strings.TrimSpace(line), ":")
		if ok && k != "" {
			out[k] = v
		}
	}
	return out
}
