package engine

import (
	"context"
	"net"
	"strings"
	"sync"

	"golang.org/x/sync/errgroup"

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

// replState is what a scrape keeps of a target's INFO to work out
// replicas' lag once every target is scraped. It is small, so a caller
// that turns each Sample into output as it arrives (the exporter's text
// path) can let the Sample go before the lag is known.
type replState struct {
	role string
	// master is a replica's master as host:port ("" when unknown).
	master       string
	linkUp       bool
	downSince    float64
	hasDownSince bool
	replOffset   float64
	hasRepl      bool
	tcpPort      string
	// masterOffset and replicas are a master's.
	masterOffset float64
	hasMaster    bool
	replicas     []redisinfo.ReplicaStat
}

// replStateOf copies what it keeps: INFO's strings share the reply's
// memory, which must not outlive the Sample.
func replStateOf(info *redisinfo.Info) *replState {
	s := &replState{role: strings.Clone(info.Role())}
	switch s.role {
	case "master":
		s.masterOffset, s.hasMaster = info.Float("master_repl_offset")
		s.replicas = make([]redisinfo.ReplicaStat, len(info.Replicas))
		for i, r := range info.Replicas {
			r.IP, r.Port, r.State = strings.Clone(r.IP), strings.Clone(r.Port), strings.Clone(r.State)
			s.replicas[i] = r
		}
	case "slave":
		if host, port := info.Fields["master_host"], info.Fields["master_port"]; host != "" && port != "" {
			s.master = net.JoinHostPort(host, port)
		}
		s.linkUp = info.Fields["master_link_status"] == "up"
		s.downSince, s.hasDownSince = info.Float("master_link_down_since_seconds")
		s.replOffset, s.hasRepl = info.Float("slave_repl_offset")
		s.tcpPort = strings.Clone(info.Fields["tcp_port"])
	}
	return s
}

// attachLag computes the lag of every replica in results. A replica alone
// does not know its master's offset, so the master's INFO is needed: taken
// from the same scrape when the master is a target too, otherwise read over
// a cached connection to the master with the replica's credentials.
func (c *Engine) attachLag(ctx context.Context, results []*Result) {
	masters := map[string]*replState{}
	for _, r := range results {
		if r.repl != nil && r.repl.role == "master" && r.Target.Network == "tcp" {
			masters[r.Target.Address] = r.repl
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
			r.Lag = replicaLag(r.repl, r.Target, masters[addr])
		}
	}
}

func masterAddress(r *Result) (string, bool) {
	if r.repl == nil || r.repl.role != "slave" || r.repl.master == "" {
		return "", false
	}
	return r.repl.master, true
}

// lookupMasters reads the INFO of masters that are not targets, at most
// Concurrency at once, each within the per-target timeout; a master that
// does not answer only leaves its replicas' lag without bytes.
func (c *Engine) lookupMasters(ctx context.Context, missing map[string]target.Target, masters map[string]*replState) {
	var mu sync.Mutex
	var g errgroup.Group // no context: one master's failure cancels no other lookup
	g.SetLimit(c.opts.Concurrency)
	for addr, t := range missing {
		g.Go(func() error {
			tctx, cancel := context.WithTimeout(ctx, c.opts.Timeout)
			defer cancel()
			s, err := c.aux.get(t).client.Scrape(tctx)
			if err != nil {
				c.opts.Logger.Debug("master of a replica not reachable for lag", "master", t.String(), "err", err)
				return nil
			}
			mu.Lock()
			masters[addr] = replStateOf(s.Info)
			mu.Unlock()
			return nil
		})
	}
	_ = g.Wait() // every func returns nil
}

// replicaLag is a pure function of the replica's and (maybe nil) master's
// state. The replica is found in the master's replica list by its port
// and, when several share that port, by its address.
func replicaLag(replica *replState, t target.Target, master *replState) *Lag {
	lag := &Lag{}
	if !replica.linkUp && replica.hasDownSince && replica.downSince >= 0 {
		lag.Seconds = replica.downSince
	}
	if master == nil {
		if replica.linkUp {
			return nil
		}
		return lag
	}
	if replica.hasRepl && master.hasMaster {
		lag.Bytes, lag.HasBytes = max(0, master.masterOffset-replica.replOffset), true
	}
	if replica.linkUp {
		var match *redisinfo.ReplicaStat
		for i := range master.replicas {
			rs := &master.replicas[i]
			if rs.Port != replica.tcpPort {
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
