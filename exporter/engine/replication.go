package engine

import (
	"context"
	"net"
	"sync"

	"github.com/redis-autoscaler/redis-autoscaler/exporter/redisinfo"
	"github.com/redis-autoscaler/redis-autoscaler/exporter/target"
)

// Lag is how far a replica is behind its master.
type Lag struct {
	// Bytes is the master's replication offset minus the replica's.
	Bytes    float64
	HasBytes bool
	// Seconds is, while the link is up, the time since the replica last
	// acknowledged the stream as the master reports it; while the link is
	// down, how long it has been down.
	Seconds float64
}

// attachLag computes the lag of every replica in results. A replica alone
// does not know its master's offset, so the master's INFO is needed: taken
// from the same scrape when the master is a target too, otherwise read over
// a cached connection to the master with the replica's credentials.
func (c *Engine) attachLag(ctx context.Context, results []*Result) {
	masters := map[string]*redisinfo.Info{}
	for _, r := range results {
		if r.Sample != nil && r.Sample.Info.Role() == "master" && r.Target.Network == "tcp" {
			masters[r.Target.Address] = r.Sample.Info
		}
	}
	missing := map[string]target.Target{}
	for _, r := range results {
		if addr, ok := masterAddress(r); ok {
			if _, known := masters[addr]; !known {
				t := r.Target
				t.Network, t.Address, t.Namespace, t.Pod = "tcp", addr, "", ""
				missing[addr] = t
			}
		}
	}
	c.lookupMasters(ctx, missing, masters)
	for _, r := range results {
		if addr, ok := masterAddress(r); ok {
			r.Lag = replicaLag(r.Sample.Info, r.Target, masters[addr])
		}
	}
}

func masterAddress(r *Result) (string, bool) {
	if r.Sample == nil || r.Sample.Info.Role() != "slave" {
		return "", false
	}
	host, port := r.Sample.Info.Fields["master_host"], r.Sample.Info.Fields["master_port"]
	if host == "" || port == "" {
		return "", false
	}
	return net.JoinHostPort(host, port), true
}

func (c *Engine) lookupMasters(ctx context.Context, missing map[string]target.Target, masters map[string]*redisinfo.Info) {
	var mu sync.Mutex
	var wg sync.WaitGroup
	sem := make(chan struct{}, c.opts.Concurrency)
	for addr, t := range missing {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			tctx, cancel := context.WithTimeout(ctx, c.opts.Timeout)
			defer cancel()
			s, err := c.aux.get(t).client.Scrape(tctx)
			if err != nil {
				c.opts.Logger.Debug("master of a replica not reachable for lag", "master", t.String(), "err", err)
				return
			}
			mu.Lock()
			masters[addr] = s.Info
			mu.Unlock()
		}()
	}
	wg.Wait()
}

// replicaLag is a pure function of the replica's and (maybe nil) master's
// INFO. The replica is found in the master's replica list by its port and,
// when several share that port, by its address.
func replicaLag(replica *redisinfo.Info, t target.Target, master *redisinfo.Info) *Lag {
	linkUp := replica.Fields["master_link_status"] == "up"
	lag := &Lag{}
	if !linkUp {
		if down, ok := replica.Float("master_link_down_since_seconds"); ok && down >= 0 {
			lag.Seconds = down
		}
	}
	if master == nil {
		if linkUp {
			return nil
		}
		return lag
	}
	replOffset, ok1 := replica.Float("slave_repl_offset")
	masterOffset, ok2 := master.Float("master_repl_offset")
	if ok1 && ok2 {
		lag.Bytes, lag.HasBytes = max(0, masterOffset-replOffset), true
	}
	if linkUp {
		port := replica.Fields["tcp_port"]
		var match *redisinfo.ReplicaStat
		for i := range master.Replicas {
			rs := &master.Replicas[i]
			if rs.Port != port {
				continue
			}
			if match == nil || rs.IP == t.Host() {
				match = rs
			}
		}
		if match != nil {
			lag.Seconds = match.Lag
		}
	}
	return lag
}
