// Package keycheck reads chosen keys of a Redis for the exporter's
// --check-keys, --check-single-keys and --count-keys (redis_exporter's
// options): their size, value and memory, or how many keys match a
// pattern. Patterns are walked with SCAN in batches, within a budget of
// keys per scrape, on the exporter's kept connection after INFO.
package keycheck

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// DBKey is a key (or a SCAN pattern) in a database.
type DBKey struct {
	DB  int
	Key string
}

// Parse reads redis_exporter's key list syntax: comma-separated
// "pattern" (db 0) or "dbN=pattern" (or "N=pattern"); keys may be
// URL-escaped (a comma is %2C).
func Parse(arg string) ([]DBKey, error) {
	var out []DBKey
	for _, item := range strings.Split(arg, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		db, key := "0", item
		if d, k, ok := strings.Cut(item, "="); ok {
			db, key = strings.TrimPrefix(strings.TrimSpace(d), "db"), strings.TrimSpace(k)
			if strings.Contains(key, "=") {
				return nil, fmt.Errorf("key list item %q: more than one '='", item)
			}
		}
		n, err := strconv.Atoi(db)
		if err != nil || n < 0 || n > 65535 {
			return nil, fmt.Errorf("key list item %q: database %q is not a number", item, db)
		}
		k, err := url.QueryUnescape(key)
		if err != nil {
			return nil, fmt.Errorf("key list item %q: %v", item, err)
		}
		if k == "" {
			return nil, fmt.Errorf("key list item %q: empty key", item)
		}
		out = append(out, DBKey{DB: n, Key: k})
	}
	return out, nil
}

// Spec is what to check on each target.
type Spec struct {
	// Patterns are SCANned; every matching key is checked.
	Patterns []DBKey
	// Singles are checked by name, without SCAN.
	Singles []DBKey
	// Counts are SCANned and only counted.
	Counts []DBKey
	// StreamPatterns are SCANned for streams, StreamSingles named; both
	// are read with XINFO (--check-streams, --check-single-streams).
	StreamPatterns, StreamSingles []DBKey
	// NoConsumerMetrics skips XINFO CONSUMERS
	// (--streams-exclude-consumer-metrics).
	NoConsumerMetrics bool
	// BatchSize is SCAN's COUNT (default 1000).
	BatchSize int64
	// Budget bounds the keys SCAN returns per target and scrape, over all
	// patterns and counts (default 10000): a pattern matching millions of
	// keys cannot make a scrape walk them all.
	Budget int
	// NoValues leaves string values out (redis_exporter's
	// --disable-exporting-key-values).
	NoValues bool
}

// Empty reports whether nothing is to be checked.
func (s Spec) Empty() bool {
	return len(s.Patterns)+len(s.Singles)+len(s.Counts)+len(s.StreamPatterns)+len(s.StreamSingles) == 0
}

func (s Spec) withDefaults() Spec {
	if s.BatchSize <= 0 {
		s.BatchSize = 1000
	}
	if s.Budget <= 0 {
		s.Budget = 10000
	}
	return s
}
