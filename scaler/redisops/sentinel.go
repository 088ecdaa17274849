package redisops

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"

	"github.com/redis/go-redis/v9"
)

// SentinelMaster asks Sentinel where the master of name is.
func SentinelMaster(ctx context.Context, s *redis.Client, name string) (string, int, error) {
	addr, err := s.Do(ctx, "SENTINEL", "GET-MASTER-ADDR-BY-NAME", name).StringSlice()
	if err != nil {
		return "", 0, fmt.Errorf("SENTINEL GET-MASTER-ADDR-BY-NAME %s: %w", name, err)
	}
	if len(addr) != 2 {
		return "", 0, fmt.Errorf("SENTINEL GET-MASTER-ADDR-BY-NAME %s: unexpected reply %v", name, addr)
	}
	port, err := strconv.Atoi(addr[1])
	if err != nil {
		return "", 0, fmt.Errorf("SENTINEL GET-MASTER-ADDR-BY-NAME %s: port %q: %w", name, addr[1], err)
	}
	return addr[0], port, nil
}

// SentinelFailover asks Sentinel to fail over name (it picks the replica by
// its own rules: priority, offset, run ID).
func SentinelFailover(ctx context.Context, s *redis.Client, name string) error {
	if err := s.Do(ctx, "SENTINEL", "FAILOVER", name).Err(); err != nil {
		return fmt.Errorf("SENTINEL FAILOVER %s: %w", name, err)
	}
	return nil
}

// SentinelReplicaCount is how many replicas Sentinel knows for name
// (including ones it considers down).
func SentinelReplicaCount(ctx context.Context, s *redis.Client, name string) (int, error) {
	v, err := s.Do(ctx, "SENTINEL", "REPLICAS", name).Slice()
	if err != nil {
		return 0, fmt.Errorf("SENTINEL REPLICAS %s: %w", name, err)
	}
	return len(v), nil
}

// SentinelReset makes Sentinel forget removed replicas of name.
func SentinelReset(ctx context.Context, s *redis.Client, name string) error {
	if err := s.Do(ctx, "SENTINEL", "RESET", name).Err(); err != nil {
		return fmt.Errorf("SENTINEL RESET %s: %w", name, err)
	}
	return nil
}

// SentinelFailoverInProgress reports whether Sentinel is failing name over
// (flag failover_in_progress, or a promotion it is still waiting for):
// nobody else should touch the topology meanwhile.
func SentinelFailoverInProgress(ctx context.Context, s *redis.Client, name string) (bool, error) {
	v, err := s.Do(ctx, "SENTINEL", "MASTER", name).Slice()
	if err != nil {
		return false, fmt.Errorf("SENTINEL MASTER %s: %w", name, err)
	}
	for i := 0; i+1 < len(v); i += 2 {
		if k, _ := v[i].(string); k == "flags" {
			flags, _ := v[i+1].(string)
			return strings.Contains(flags, "failover_in_progress") || strings.Contains(flags, "promoted"), nil
		}
	}
	return false, nil
}

// SentinelReplicaPriorities is each replica's replica-priority as Sentinel
// last saw it (it refreshes a replica's INFO every 10 s), by "ip:port".
func SentinelReplicaPriorities(ctx context.Context, s *redis.Client, name string) (map[string]int, error) {
	v, err := s.Do(ctx, "SENTINEL", "REPLICAS", name).Slice()
	if err != nil {
		return nil, fmt.Errorf("SENTINEL REPLICAS %s: %w", name, err)
	}
	out := map[string]int{}
	for _, r := range v {
		fields, ok := r.([]any)
		if !ok {
			continue
		}
		var ip, port string
		prio := -1
		for i := 0; i+1 < len(fields); i += 2 {
			k, _ := fields[i].(string)
			val, _ := fields[i+1].(string)
			switch k {
			case "ip":
				ip = val
			case "port":
				port = val
			case "slave-priority", "replica-priority":
				prio, _ = strconv.Atoi(val)
			}
		}
		if ip != "" && prio >= 0 {
			out[net.JoinHostPort(ip, port)] = prio
		}
	}
	return out, nil
}
