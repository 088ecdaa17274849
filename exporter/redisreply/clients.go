package redisreply

import (
	"net"
	"strings"
)

// Client is one line of CLIENT LIST: its fields by name ("id", "addr",
// "name", "age", "omem", ...), and the host and port of addr.
type Client struct {
	Fields     map[string]string
	Host, Port string
}

// ParseClientList reads CLIENT LIST's reply: one client per line, fields
// "key=value" separated by spaces (a value may be empty; the name is the
// one field whose value could hold a space, and Redis refuses that).
// Lines without an id are skipped.
func ParseClientList(text string) []Client {
	var out []Client
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		fields := map[string]string{}
		for _, kv := range strings.Fields(line) {
			k, v, ok := strings.Cut(kv, "=")
			if ok && k != "" {
				fields[k] = v
			}
		}
		if fields["id"] == "" {
			continue
		}
		c := Client{Fields: fields}
		if h, p, err := net.SplitHostPort(fields["addr"]); err == nil {
			c.Host, c.Port = h, p
		}
		out = append(out, c)
	}
	return out
}
