package web

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/redis-autoscaler/redis-autoscaler/exporter/target"
)

// ClusterDiscovery serves /discover-cluster-nodes (--is-cluster): the
// nodes of the Redis Cluster the --redis.addr targets belong to, as
// Prometheus HTTP service discovery targets for /scrape, as
// redis_exporter serves them.
type ClusterDiscovery struct {
	// Seeds are asked in turn until one answers CLUSTER NODES.
	Seeds []target.Target
	// Hostnames uses the nodes' announced hostnames
	// (--cluster-discover-hostnames).
	Hostnames bool
}

// httpSDGroup is one group of Prometheus' http_sd format.
type httpSDGroup struct {
	Targets []string          `json:"targets"`
	Labels  map[string]string `json:"labels"`
}

func (cfg Config) discoverClusterNodes(w http.ResponseWriter, r *http.Request) {
	if cfg.Cluster == nil {
		http.Error(w, "the discovery endpoint needs --is-cluster", http.StatusBadRequest)
		return
	}
	if len(cfg.Cluster.Seeds) == 0 {
		http.Error(w, "the discovery endpoint needs a --redis.addr of the cluster", http.StatusBadRequest)
		return
	}
	ctx, cancel := cfg.requestContext(r)
	defer cancel()
	var errs []error
	for _, seed := range cfg.Cluster.Seeds {
		nodes, err := cfg.ClusterPool.ClusterNodes(ctx, seed, cfg.Cluster.Hostnames)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		scheme := "redis://"
		if seed.TLS {
			scheme = "rediss://"
		}
		group := httpSDGroup{Targets: make([]string, len(nodes)), Labels: map[string]string{}}
		for i, n := range nodes {
			group.Targets[i] = scheme + n
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode([]httpSDGroup{group})
		return
	}
	cfg.Logger.Warn("cluster discovery failed", "err", errors.Join(errs...))
	http.Error(w, "could not list the cluster's nodes: "+errors.Join(errs...).Error(), http.StatusBadGateway)
}
