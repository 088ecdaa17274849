package scraper

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"

	"github.com/redis-autoscaler/redis-autoscaler/exporter/keycheck"
	"github.com/redis-autoscaler/redis-autoscaler/exporter/redisinfo"
)

// runKeyChecks reads the keys asked for, and walks the key groups, on the
// kept connection, after INFO and the other extras.
func (c *Client) runKeyChecks(ctx context.Context, s *Sample) {
	checks := !c.extras.Keys.Empty() && !(c.extras.SkipKeysOnMaster && s.Info.Role() == "master")
	groups := c.groups != nil && !c.refused[extraKeyGroups]
	if !checks && !groups {
		return
	}
	conn := c.rdb.Conn()
	defer conn.Close()
	if checks {
		res, err := keycheck.Run(ctx, conn, c.keyReader(s), c.target.DB, c.extras.Keys)
		if err != nil {
			logger().Warn("key checks failed", "target", c.target.String(), "err", c.scrubError(err))
		}
		s.Keys = res
	}
	if groups {
		// As redis_exporter: key groups are walked on masters too, whatever
		// --skip-checkkeys-for-role-master says.
		start := time.Now()
		res, err := c.groups.Step(ctx, conn, c.target.DB, keyspaceDBs(s.Info))
		s.KeyGroupsDuration = time.Since(start)
		if err != nil && !c.accepted(extraKeyGroups, err) && !c.refused[extraKeyGroups] {
			logger().Warn("key groups failed", "target", c.target.String(), "err", c.scrubError(err))
		}
		s.KeyGroups = res
	}
}

// keyspaceDBs are the databases INFO keyspace lists (those with keys).
func keyspaceDBs(info *redisinfo.Info) []int {
	out := make([]int, 0, len(info.Keyspace))
	for _, db := range info.Keyspace {
		if n, err := strconv.Atoi(strings.TrimPrefix(db.DB, "db")); err == nil {
			out = append(out, n)
		}
	}
	return out
}

// keyReader is where named keys are read: with Extras.IsCluster on a
// cluster-enabled server, a cluster client that sends each key's commands
// to the node owning its slot (following MOVED), as redis_exporter's
// --is-cluster does; otherwise the kept connection (nil). The cluster
// client is made once, with the target's credentials and TLS, and keeps at
// most one connection per node.
func (c *Client) keyReader(s *Sample) keycheck.Reader {
	if !c.extras.IsCluster || s.Info.Fields["cluster_enabled"] != "1" {
		return nil
	}
	c.clusterMu.Lock()
	defer c.clusterMu.Unlock()
	if c.closed {
		return nil
	}
	if c.cluster == nil {
		o := c.rdb.Options()
		c.cluster = redis.NewClusterClient(&redis.ClusterOptions{
			Addrs:    []string{o.Addr},
			Username: o.Username, Password: o.Password,
			TLSConfig: o.TLSConfig, ClientName: o.ClientName,
			Protocol: 2, DisableIdentity: true,
			MaintNotificationsConfig: &maintnotifications.Config{Mode: maintnotifications.ModeDisabled},
			DialTimeout:              o.DialTimeout, ReadTimeout: o.ReadTimeout, WriteTimeout: o.WriteTimeout,
			ContextTimeoutEnabled: true,
			PoolSize:              1, MaxIdleConns: 1,
			ReadBufferSize: o.ReadBufferSize, WriteBufferSize: o.WriteBufferSize,
		})
	}
	return c.cluster
}
