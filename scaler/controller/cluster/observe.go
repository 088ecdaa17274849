package cluster

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/redis/go-redis/v9"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/redis-autoscaler/redis-autoscaler/exporter/redisinfo"
	"github.com/redis-autoscaler/redis-autoscaler/scaler/api/v1alpha1"
	"github.com/redis-autoscaler/redis-autoscaler/scaler/clusterops"
	"github.com/redis-autoscaler/redis-autoscaler/scaler/controller"
)

// cnode is one pod of a RedisCluster's StatefulSet and what its Redis
// says of the cluster.
type cnode struct {
	pod     *corev1.Pod
	ord     int
	running bool
	client  *redis.Client
	err     error // nil: observed

	me    clusterops.Node   // the node's own line of CLUSTER NODES
	nodes []clusterops.Node // its whole view
	ok    bool              // cluster_state:ok
	keys  int64
	// Replica: link up and no sync running.
	inSync bool
	// outdated: runs an older template revision than the update one.
	outdated bool
	// appendonly and appendfsync are the node's CONFIG values ("" when
	// they could not be read).
	appendonly, appendfsync string
}

func (n *cnode) name() string { return n.pod.Name }

// reachable: running and observed.
func (n *cnode) reachable() bool { return n.running && n.err == nil }

// owner: a master that owns slots.
func (n *cnode) owner() bool { return n.reachable() && n.me.Master() && len(n.me.Slots) > 0 }

// observeCluster lists the StatefulSet's pods and reads each running one's
// CLUSTER NODES, CLUSTER INFO, INFO replication and DBSIZE in one round
// trip, concurrently.
func (r *Reconciler) observeCluster(ctx context.Context, reader client.Reader, rc *v1alpha1.RedisCluster, sts *appsv1.StatefulSet, creds clusterCreds) ([]*cnode, error) {
	pods, err := controller.StatefulSetPods(ctx, reader, sts)
	if err != nil {
		return nil, err
	}
	port := rc.Spec.RedisPort()
	var nodes []*cnode
	for _, op := range pods {
		p, ord := op.Pod, op.Ord
		n := &cnode{pod: p, ord: ord, running: controller.PodRunning(p) && p.DeletionTimestamp == nil, outdated: controller.Outdated(sts, p)}
		if n.running {
			n.client = r.conns.Get(p.Status.PodIP, port, creds.auth, creds.tls)
		} else {
			n.err = fmt.Errorf("not running")
		}
		nodes = append(nodes, n)
	}
	slices.SortFunc(nodes, func(a, b *cnode) int { return a.ord - b.ord })
	controller.ObserveEach(ctx, nodes, func(ctx context.Context, n *cnode) {
		if n.client != nil {
			n.err = observeNode(ctx, n)
		}
	})
	return nodes, nil
}

func observeNode(ctx context.Context, n *cnode) error {
	pipe := n.client.Pipeline()
	nodesCmd := pipe.ClusterNodes(ctx)
	infoCmd := pipe.ClusterInfo(ctx)
	replCmd := pipe.Info(ctx, "replication")
	sizeCmd := pipe.DBSize(ctx)
	// What a restart within the node timeout keeps (persistence.go).
	// Its own reply: a CONFIG renamed away must not fail the observation.
	confCmd := pipe.ConfigGet(ctx, "append*")
	_, _ = pipe.Exec(ctx) // each reply's error is read below
	if err := firstErr(nodesCmd.Err(), infoCmd.Err(), replCmd.Err(), sizeCmd.Err()); err != nil {
		return err
	}
	n.appendonly, n.appendfsync = confCmd.Val()["appendonly"], confCmd.Val()["appendfsync"]
	var err error
	if n.nodes, err = clusterops.ParseNodes(nodesCmd.Val()); err != nil {
		return err
	}
	me, ok := clusterops.Myself(n.nodes)
	if !ok {
		return fmt.Errorf("CLUSTER NODES has no myself line")
	}
	n.me = me
	n.ok = strings.Contains(infoCmd.Val(), "cluster_state:ok")
	n.keys = sizeCmd.Val()
	info, err := redisinfo.Parse(replCmd.Val())
	if err != nil {
		return err
	}
	n.inSync = info.Fields["master_link_status"] == "up" && info.Fields["master_sync_in_progress"] == "0"
	return nil
}

func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
