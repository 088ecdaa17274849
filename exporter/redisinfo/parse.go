// Package redisinfo parses the text Redis returns for INFO.
//
// It is a plain function over a string so it can be tested on literal input
// and fuzzed; it never talks to Redis. Everything it returns is a substring
// of, or a number read from, the input: parsing allocates little.
package redisinfo

import (
	"errors"
	"math"
	"strconv"
	"strings"
)

// Info is one parsed INFO reply.
type Info struct {
	// Fields holds every plain "key:value" line of every section. Redis
	// keeps keys unique across sections, so one flat map is enough.
	Fields map[string]string
	// Sections lists the "# Name" headers seen, lower-cased, in order.
	Sections []string

	Commands  []CommandStat // from "# Commandstats"
	Latencies []LatencyStat // from "# Latencystats" (Redis >= 7)
	Errors    []ErrorStat   // from "# Errorstats" (Redis >= 6.2)
	Keyspace  []DBStat      // from "# Keyspace"
	Replicas  []ReplicaStat // "slaveN:" lines of a master's "# Replication"
}

// CommandStat is one "cmdstat_<name>:calls=..,usec=.." line.
type CommandStat struct {
	Name          string
	Calls         float64
	Usec          float64
	RejectedCalls float64
	FailedCalls   float64
}

// LatencyStat is one "latency_percentiles_usec_<name>:p50=..,p99=.." line.
type LatencyStat struct {
	Name        string
	Percentiles []Percentile
}

// Percentile is one quantile of a command's latency, in microseconds.
type Percentile struct {
	Quantile float64 // 0.5 for p50, 0.999 for p99.9
	Usec     float64
}

// ErrorStat is one "errorstat_<prefix>:count=N" line.
type ErrorStat struct {
	Prefix string
	Count  float64
}

// DBStat is one "dbN:keys=..,expires=..,avg_ttl=.." line.
type DBStat struct {
	DB        string // "db0"
	Keys      float64
	Expires   float64
	AvgTTLMs  float64
	HasAvgTTL bool
}

// ReplicaStat is one "slaveN:ip=..,port=..,state=..,offset=..,lag=.." line.
type ReplicaStat struct {
	IP     string
	Port   string
	State  string
	Offset float64
	Lag    float64 // seconds since the replica's last acknowledgement
}

// ErrNotInfo is returned for input that holds no INFO field at all, such as
// a reply from something that is not Redis.
var ErrNotInfo = errors.New("no INFO fields in reply")

// Parse parses an INFO reply. Lines it does not understand are skipped, so a
// newer Redis with new fields still parses; only input with no field at all
// is an error.
func Parse(text string) (*Info, error) {
	info := &Info{Fields: make(map[string]string, 256)}
	section := ""
	for len(text) > 0 {
		var line string
		if i := strings.IndexByte(text, '\n'); i >= 0 {
			line, text = text[:i], text[i+1:]
		} else {
			line, text = text, ""
		}
		line = strings.TrimRight(line, "\r")
		if line == "" {
			continue
		}
		if line[0] == '#' {
			section = strings.ToLower(strings.TrimSpace(line[1:]))
			info.Sections = append(info.Sections, section)
			continue
		}
		key, value, ok := strings.Cut(line, ":")
		if !ok || key == "" {
			continue
		}
		info.parseLine(section, key, value)
	}
	if len(info.Fields)+len(info.Commands)+len(info.Latencies)+len(info.Errors)+len(info.Keyspace)+len(info.Replicas) == 0 {
		return nil, ErrNotInfo
	}
	return info, nil
}

func (info *Info) parseLine(section, key, value string) {
	switch {
	case strings.HasPrefix(key, "cmdstat_"):
		info.Commands = append(info.Commands, parseCommandStat(key[len("cmdstat_"):], value))
	case strings.HasPrefix(key, "latency_percentiles_usec_"):
		info.Latencies = append(info.Latencies, parseLatencyStat(key[len("latency_percentiles_usec_"):], value))
	case strings.HasPrefix(key, "errorstat_"):
		info.Errors = append(info.Errors, ErrorStat{Prefix: key[len("errorstat_"):], Count: num(pairValue(value, "count"))})
	case section == "keyspace" && strings.HasPrefix(key, "db"):
		info.Keyspace = append(info.Keyspace, parseDB(key, value))
	case section == "replication" && isReplicaKey(key) && strings.Contains(value, "="):
		info.Replicas = append(info.Replicas, parseReplica(value))
	default:
		info.Fields[key] = value
	}
}

// isReplicaKey matches "slave0", "slave1", ... but not "slave_repl_offset".
func isReplicaKey(key string) bool {
	if !strings.HasPrefix(key, "slave") || len(key) == len("slave") {
		return false
	}
	for _, c := range key[len("slave"):] {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

func parseCommandStat(name, value string) CommandStat {
	cs := CommandStat{Name: name}
	eachPair(value, func(k, v string) {
		switch k {
		case "calls":
			cs.Calls = num(v)
		case "usec":
			cs.Usec = num(v)
		case "rejected_calls":
			cs.RejectedCalls = num(v)
		case "failed_calls":
			cs.FailedCalls = num(v)
		}
	})
	return cs
}

func parseLatencyStat(name, value string) LatencyStat {
	ls := LatencyStat{Name: name}
	eachPair(value, func(k, v string) {
		if len(k) < 2 || k[0] != 'p' {
			return
		}
		q, err := strconv.ParseFloat(k[1:], 64)
		if err != nil || q < 0 || q > 100 {
			return
		}
		// Rounded so that p99.9 is exactly 0.999, as a quantile label reads.
		ls.Percentiles = append(ls.Percentiles, Percentile{Quantile: math.Round(q*1e6) / 1e8, Usec: num(v)})
	})
	return ls
}

func parseDB(key, value string) DBStat {
	db := DBStat{DB: key}
	eachPair(value, func(k, v string) {
		switch k {
		case "keys":
			db.Keys = num(v)
		case "expires":
			db.Expires = num(v)
		case "avg_ttl":
			db.AvgTTLMs, db.HasAvgTTL = num(v), true
		}
	})
	return db
}

func parseReplica(value string) ReplicaStat {
	var r ReplicaStat
	eachPair(value, func(k, v string) {
		switch k {
		case "ip":
			r.IP = v
		case "port":
			r.Port = v
		case "state":
			r.State = v
		case "offset":
			r.Offset = num(v)
		case "lag":
			r.Lag = num(v)
		}
	})
	return r
}

// eachPair calls fn for every "k=v" of a comma-separated list.
func eachPair(s string, fn func(k, v string)) {
	for len(s) > 0 {
		var pair string
		if i := strings.IndexByte(s, ','); i >= 0 {
			pair, s = s[:i], s[i+1:]
		} else {
			pair, s = s, ""
		}
		if k, v, ok := strings.Cut(pair, "="); ok {
			fn(k, v)
		}
	}
}

func pairValue(s, key string) string {
	var out string
	eachPair(s, func(k, v string) {
		if k == key {
			out = v
		}
	})
	return out
}

// num reads a number; anything unreadable is 0 (callers check presence via
// Fields, not via the value).
func num(s string) float64 {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0
	}
	return f
}

// Float returns the named field as a number; ok is false when it is absent
// or not a number.
func (info *Info) Float(key string) (float64, bool) {
	v, ok := info.Fields[key]
	if !ok {
		return 0, false
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil {
		return 0, false
	}
	return f, true
}

// Role is "master" or "slave" (Redis' own word), or "" when unknown.
func (info *Info) Role() string { return info.Fields["role"] }

// Version is redis_version, e.g. "7.0.15".
func (info *Info) Version() string { return info.Fields["redis_version"] }

// MajorVersion is the leading number of redis_version, 0 when unknown.
func (info *Info) MajorVersion() int {
	v := info.Version()
	if i := strings.IndexByte(v, '.'); i >= 0 {
		v = v[:i]
	}
	n, _ := strconv.Atoi(v)
	return n
}
