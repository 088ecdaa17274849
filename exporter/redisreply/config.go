package redisreply

import "strconv"

// ParseConfig reads CONFIG GET's flat [key, value, ...] reply (RESP2) or
// its map (RESP3).
func ParseConfig(v any) map[string]string { return flatMap(v) }

// ConfigDatabases is the databases setting of a CONFIG GET reply, when it
// holds one that is a number.
func ConfigDatabases(config map[string]string) (int, bool) {
	n, err := strconv.Atoi(config["databases"])
	return n, err == nil
}
