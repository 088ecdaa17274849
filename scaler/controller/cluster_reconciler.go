package controller

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/record"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/redis-autoscaler/redis-autoscaler/scaler/api/v1alpha1"
	"github.com/redis-autoscaler/redis-autoscaler/scaler/metrics"
	"github.com/redis-autoscaler/redis-autoscaler/scaler/redisops"
)

// +kubebuilder:rbac:groups=redisautoscaler.io,resources=redisclusters,verbs=get;list;watch
// +kubebuilder:rbac:groups=redisautoscaler.io,resources=redisclusters/status,verbs=get;update;patch

// ClusterReconciler reconciles RedisClusters: it sizes the StatefulSet to
// shards × (1 + replicasPerShard), forms the cluster, attaches replicas
// and moves hash slots so every shard owns an even share, one bounded step
// per reconcile. Every step is read back from Redis, never from memory, so
// a scaler restarted at any point carries on where the last one stopped.
type ClusterReconciler struct {
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

	conns *conns
}

type clusterCreds struct {
	auth redisops.Auth
	tls  tlsSettings
}

// clusterOutcome collects what one reconcile saw and did.
type clusterOutcome struct {
	outcome
	resharding metav1.Condition
	clusterOK  bool
}

// Reconcile implements reconcile.Reconciler.
func (r *ClusterReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	return timed(r.Metrics, r.resync(), func() (ctrl.Result, error) { return r.reconcile(ctx, req) })
}

func (r *ClusterReconciler) resync() time.Duration {
	if r.ResyncInterval > 0 {
		return r.ResyncInterval
	}
	return 10 * time.Second
}

func (r *ClusterReconciler) reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	// Read uncached: the status carries counters (slots and keys moved)
	// that each reconcile adds to, so it must start from the last one's.
	var rc v1alpha1.RedisCluster
	if err := r.APIReader.Get(ctx, req.NamespacedName, &rc); err != nil {
		if apierrors.IsNotFound(err) {
			r.Cluster.Forget(req.Namespace, req.Name)
		}
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	r.Cluster.Init(rc.Namespace, rc.Name)
	orig := rc.DeepCopy()
	out := &clusterOutcome{}

	var sts appsv1.StatefulSet
	if err := r.Client.Get(ctx, client.ObjectKey{Namespace: rc.Namespace, Name: rc.Spec.StatefulSetName}, &sts); err != nil {
		if !apierrors.IsNotFound(err) {
			return ctrl.Result{}, err
		}
		out.degrade("StatefulSetNotFound", fmt.Sprintf("statefulset %s not found", rc.Spec.StatefulSetName))
		return r.finish(ctx, &rc, orig, out, nil)
	}
	if sel, err := metav1.LabelSelectorAsSelector(sts.Spec.Selector); err == nil {
		rc.Status.Selector = sel.String()
	}
	rc.Status.Replicas = sts.Status.Replicas
	auth, tc, tlsKey, err := CredentialsFor(ctx, r.APIReader, rc.Namespace, rc.Spec.Auth, rc.Spec.TLS)
	if err != nil {
		r.Metrics.Errors.WithLabelValues("credentials").Inc()
		out.degrade("CredentialsUnavailable", err.Error())
		return r.finish(ctx, &rc, orig, out, err)
	}
	creds := clusterCreds{auth: auth, tls: tlsSettings{config: tc, key: tlsKey}}
	nodes, err := r.observeCluster(ctx, &rc, &sts, creds)
	if err != nil {
		return ctrl.Result{}, err
	}
	s := &clusterStep{r: r, rc: &rc, sts: &sts, nodes: nodes, creds: creds, out: out}
	s.run(ctx)
	s.label(ctx)
	return r.finish(ctx, &rc, orig, out, nil)
}

// setStatefulSetReplicas writes the StatefulSet's replica count through
// its scale subresource.
func (r *ClusterReconciler) setStatefulSetReplicas(ctx context.Context, rc *v1alpha1.RedisCluster, sts *appsv1.StatefulSet, from, n int32) error {
	if err := scaleStatefulSet(ctx, r.Client, sts, n); err != nil {
		r.Metrics.Errors.WithLabelValues("scale").Inc()
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
func (r *ClusterReconciler) client(creds clusterCreds) func(addr string) *redis.Client {
	return func(addr string) *redis.Client {
		host, port := splitHostPort(addr)
		return r.conns.get(host, port, creds.auth, creds.tls.config, creds.tls.key)
	}
}
