package adapter_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/redis-autoscaler/redis-autoscaler/scaler"
	"github.com/redis-autoscaler/redis-autoscaler/scaler/api/v1alpha1"
	"github.com/redis-autoscaler/redis-autoscaler/scaler/kube"
	"github.com/redis-autoscaler/redis-autoscaler/test/cluster"
)

var rclusterGK = schema.GroupKind{Group: "redisautoscaler.io", Kind: "RedisCluster"}

// The loop for shards: a 2-shard Redis Cluster whose masters fill past
// the HPA's memory-fraction target. The real HPA reads the cluster's
// memory fraction (the fullest master) from the adapter, asks the
// RedisCluster's /scale for 3 shards, and the scaler adds the shard and
// moves a third of the slots, with their keys, to it: memory pressure is
// relieved by adding shards.
func TestHPAScalesClusterShardsOnMemory(t *testing.T) {
	e := startAdapter(t)
	c := e.c
	ctx := ctxT(t, 4*time.Minute)
	for _, f := range []string{"../deploy/crd/redisautoscaler.io_redisreplicationgroups.yaml", "../deploy/crd/redisautoscaler.io_redisclusters.yaml"} {
		require.NoError(t, c.Apply(ctx, f))
	}
	ns := c.Namespace(t, "rcluster-hpa")
	cl, err := client.New(c.Config, client.Options{Scheme: kube.Scheme()})
	require.NoError(t, err)
	poll(t, 30*time.Second, "RedisCluster served", func() error {
		return cl.List(ctx, &v1alpha1.RedisClusterList{}, client.InNamespace(ns))
	})
	sctx, stopScaler := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- scaler.Run(sctx, c.Config, scaler.Options{MetricsBindAddress: "0", HealthProbeBindAddress: "0", Namespace: ns, Logger: logr.Discard()})
	}()
	t.Cleanup(func() { stopScaler(); <-done })

	// Shards without replicas keep the test small; 8 MB per master.
	sts := cluster.RedisStatefulSet("shop", 2, "--cluster-enabled", "yes", "--cluster-node-timeout", "2000",
		"--save", "", "--appendonly", "no", "--maxmemory", "8mb", "--cluster-announce-ip", "$(POD_IP)")
	sts.Spec.Template.Spec.Containers[0].Env = []corev1.EnvVar{{Name: "POD_IP",
		ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "status.podIP"}}}}
	sts.Namespace = ns
	require.NoError(t, cl.Create(ctx, sts))
	shards, zero := int32(2), int32(0)
	require.NoError(t, cl.Create(ctx, &v1alpha1.RedisCluster{
		ObjectMeta: metav1.ObjectMeta{Name: "shop", Namespace: ns},
		Spec:       v1alpha1.RedisClusterSpec{StatefulSetName: "shop", Shards: &shards, ReplicasPerShard: &zero},
	}))
	waitShards := func(n int32) *v1alpha1.RedisCluster {
		var rc v1alpha1.RedisCluster
		poll(t, 2*time.Minute, fmt.Sprintf("%d shards ready", n), func() error {
			if err := cl.Get(ctx, client.ObjectKey{Namespace: ns, Name: "shop"}, &rc); err != nil {
				return err
			}
			if rc.Status.ReadyShards != n || rc.Status.Shards != n || !meta.IsStatusConditionTrue(rc.Status.Conditions, v1alpha1.ConditionReady) {
				return fmt.Errorf("status %+v", rc.Status)
			}
			return nil
		})
		return &rc
	}
	waitShards(2)
	// The HPA first: the adapter's embedded source watches what HPAs target.
	two := int32(2)
	h := hpa("shop", objectMetric("RedisCluster", v1alpha1.GroupVersion.String(), "shop", "redis_memory_fraction", "500m"))
	h.Spec.ScaleTargetRef = autoscalingv2.CrossVersionObjectReference{APIVersion: v1alpha1.GroupVersion.String(), Kind: "RedisCluster", Name: "shop"}
	h.Spec.MinReplicas, h.Spec.MaxReplicas = &two, 3
	_, err = c.Client.AutoscalingV2().HorizontalPodAutoscalers(ns).Create(ctx, h, metav1.CreateOptions{})
	require.NoError(t, err)

	// About 4.5 MB of values per master: over 0.6 of maxmemory on each.
	pods := readyPods(t, c, ns, "shop", 2)
	var seeds []string
	for _, p := range pods {
		seeds = append(seeds, p.Status.PodIP+":6379")
	}
	cc := redis.NewClusterClient(&redis.ClusterOptions{Addrs: seeds})
	defer cc.Close()
	value := strings.Repeat("v", 1000)
	for i := 0; i < 8000; i += 500 {
		_, err := cc.Pipelined(ctx, func(p redis.Pipeliner) error {
			for j := i; j < i+500; j++ {
				p.Set(ctx, "k"+strconv.Itoa(j), value, 0)
			}
			return nil
		})
		require.NoError(t, err)
	}
	pm := e.metrics.NamespacedMetrics(ns)
	poll(t, 2*time.Minute, "the HPA asks for 3 shards", func() error {
		var rc v1alpha1.RedisCluster
		if err := cl.Get(ctx, client.ObjectKey{Namespace: ns, Name: "shop"}, &rc); err != nil {
			return err
		}
		if rc.Spec.Shards == nil || *rc.Spec.Shards != 3 {
			got, _ := c.Client.AutoscalingV2().HorizontalPodAutoscalers(ns).Get(ctx, "shop", metav1.GetOptions{})
			return fmt.Errorf("spec.shards %v; HPA %+v", rc.Spec.Shards, got.Status)
		}
		return nil
	})
	got, err := c.Client.AutoscalingV2().HorizontalPodAutoscalers(ns).Get(ctx, "shop", metav1.GetOptions{})
	require.NoError(t, err)
	before := 0.0
	for _, m := range got.Status.CurrentMetrics {
		if m.Object != nil {
			before = m.Object.Current.Value.AsApproximateFloat64()
			t.Logf("the HPA saw memory fraction %s (target 0.5) and wants %d shards", m.Object.Current.Value, got.Status.DesiredReplicas)
		}
	}
	rc := waitShards(3)
	require.Positive(t, rc.Status.Migrations.KeysMoved)
	// Every key survived the move, and the fullest master is now lighter.
	for i := 0; i < 8000; i += 500 {
		cmds, err := cc.Pipelined(ctx, func(p redis.Pipeliner) error {
			for j := i; j < i+500; j++ {
				p.Exists(ctx, "k"+strconv.Itoa(j))
			}
			return nil
		})
		require.NoError(t, err)
		for j, cmd := range cmds {
			require.EqualValues(t, 1, cmd.(*redis.IntCmd).Val(), "k%d", i+j)
		}
	}
	poll(t, time.Minute, "memory fraction relieved", func() error {
		v, err := pm.GetForObject(rclusterGK, "shop", "redis_memory_fraction", labels.Everything())
		if err != nil {
			return err
		}
		// The data part is split three ways instead of two; Redis' own
		// baseline and allocator overhead stay.
		if f := v.Value.AsApproximateFloat64(); f >= 0.9*before {
			return fmt.Errorf("memory fraction %.3f, %.3f before the third shard", f, before)
		}
		t.Logf("memory fraction %.3f with 3 shards, %.3f with 2", v.Value.AsApproximateFloat64(), before)
		return nil
	})
}
