// Package cluster is the RedisCluster reconciler: it reads a cluster, its
// StatefulSet, the pods and every pod's CLUSTER NODES, lets package
// clusterplan decide the next steps, and carries them out (Redis Cluster
// commands, slot moves, pod labels, the StatefulSet's replica count,
// status, events). The kit it shares with the RedisReplicationGroup
// reconciler is package controller.
package cluster

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/record"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/redis-autoscaler/redis-autoscaler/scaler/api/v1alpha1"
	"github.com/redis-autoscaler/redis-autoscaler/scaler/controller"
	"github.com/redis-autoscaler/redis-autoscaler/scaler/credentials"
	"github.com/redis-autoscaler/redis-autoscaler/scaler/metrics"
	"github.com/redis-autoscaler/redis-autoscaler/scaler/redisops"
)

// +kubebuilder:rbac:groups=redisautoscaler.io,resources=redisclusters,verbs=get;list;watch
// +kubebuilder:rbac:groups=redisautoscaler.io,resources=redisclusters/status,verbs=get;update;patch

// Reconciler reconciles RedisClusters: it sizes the StatefulSet to
// shards × (1 + replicasPerShard), forms the cluster, attaches replicas
// and moves hash slots so every shard owns an even share, one bounded step
// per reconcile. Every step is read back from Redis, never from memory, so
// a scaler restarted at any point carries on where the last one stopped.
type Reconciler struct {
	Client    client.Client
	APIReader client.Reader
	Recorder  record.EventRecorder
	Metrics   *metrics.Metrics
	Cluster   *metrics.Cluster
	// ResyncInterval: how often a settled cluster is looked at again.
	// Default 10s.
	ResyncInterval time.Duration
	// StepBudget bounds the slot moves of one reconcile (the status is
	// written between steps). Default 2s.
	StepBudget time.Duration
	// AfterBatch, when set, runs after each batch of keys a slot move
	// migrated, the slot still half-moved (tests stop the scaler there).
	AfterBatch func()
	// Fence is the per-cluster Lease: a cluster whose Lease another
	// scaler holds is left to it (nil: no fencing, for unit tests).
	Fence *controller.Fence

	conns *controller.Conns
	joins joins
}

type clusterCreds struct {
	auth redisops.Auth
	tls  credentials.TLS
}

// clusterOutcome collects what one reconcile of a cluster saw and did.
type clusterOutcome struct {
	controller.Outcome
	// resharding is the Resharding condition without its Type (no
	// Reason: nothing is changing).
	resharding metav1.Condition
	// clusterOK: every wanted node answers and reports cluster_state:ok.
	clusterOK bool
}

// Reconcile implements reconcile.Reconciler.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	return controller.Timed(r.Metrics, controller.Resync(r.ResyncInterval), func() (ctrl.Result, error) { return r.reconcile(ctx, req) })
}

func (r *Reconciler) reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	out := &clusterOutcome{}
	// Read uncached: the status carries counters (slots and keys moved)
	// that each reconcile adds to, so it must start from the last one's.
	var rc v1alpha1.RedisCluster
	if ok, err := controller.Get(ctx, r.APIReader, req.NamespacedName, &rc, func() {
		r.Cluster.Forget(req.Namespace, req.Name)
		r.joins.joined(req.Namespace, req.Name, nil)
	}); !ok {
		return ctrl.Result{}, err
	}
	if r.Fence != nil {
		held, wait, err := r.Fence.Hold(ctx, leaseKey(&rc))
		if err != nil {
			return ctrl.Result{}, fmt.Errorf("cluster Lease: %w", err)
		}
		if !held {
			logf.FromContext(ctx).V(1).Info("another scaler holds the cluster's Lease", "left", wait)
			return ctrl.Result{RequeueAfter: wait + 100*time.Millisecond}, nil
		}
	}
	r.Cluster.Init(rc.Namespace, rc.Name)
	orig := rc.DeepCopy()

	// Uncached for a while after the API failed (Fence.Recovering).
	reader := client.Reader(r.Client)
	if r.Fence.Recovering(2 * time.Minute) {
		reader = r.APIReader
	}
	sts, err := controller.StatefulSet(ctx, reader, rc.Namespace, rc.Spec.StatefulSetName, &rc.Status.Selector, &rc.Status.Replicas, &out.Outcome)
	if err != nil {
		return ctrl.Result{}, err
	}
	if sts == nil {
		return r.finish(ctx, &rc, orig, out, nil)
	}
	auth, tc, err := credentials.For(ctx, r.APIReader, rc.Namespace, rc.Spec.Auth, rc.Spec.TLS)
	if err != nil {
		r.Metrics.Errors.WithLabelValues("credentials").Inc()
		out.Degrade("CredentialsUnavailable", err.Error())
		return r.finish(ctx, &rc, orig, out, err)
	}
	creds := clusterCreds{auth: auth, tls: tc}
	nodes, err := r.observeCluster(ctx, reader, &rc, sts, creds)
	if err != nil {
		return ctrl.Result{}, err
	}
	s := &clusterStep{r: r, rc: &rc, sts: sts, nodes: nodes, creds: creds, out: out}
	s.run(ctx)
	s.checkPersistence()
	s.label(ctx)
	return r.finish(ctx, &rc, orig, out, nil)
}

// setReplicas sizes the cluster's StatefulSet and records an event.
func (r *Reconciler) setReplicas(ctx context.Context, rc *v1alpha1.RedisCluster, sts *appsv1.StatefulSet, from, n int32) error {
	if err := controller.SetReplicas(ctx, r.Client, r.Metrics, sts, n); err != nil {
		return err
	}
	reason := "ScaledUp"
	if n < from {
		reason = "ScaledDown"
	}
	r.Recorder.Eventf(rc, corev1.EventTypeNormal, reason, "statefulset %s: %d -> %d pods", sts.Name, from, n)
	return nil
}

// client returns a cached client to a node's address (host:port).
func (r *Reconciler) client(creds clusterCreds) func(addr string) *redis.Client {
	return func(addr string) *redis.Client {
		host, port := splitHostPort(addr)
		return r.conns.Get(host, port, creds.auth, creds.tls)
	}
}
