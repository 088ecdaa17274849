package e2e

import (
	"context"
	"fmt"
	"time"

	autoscalingv1 "k8s.io/api/autoscaling/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/redis-autoscaler/redis-autoscaler/test/manifests"
)

// RCluster is the example Redis Cluster's name (deploy/examples/redis-cluster).
const RCluster = "shop"

var clusterGVR = schema.GroupVersionResource{Group: "redisautoscaler.io", Version: "v1alpha1", Resource: "redisclusters"}

// InstallCluster applies deploy/examples/redis-cluster without its HPA
// (the caller sets the shard count) and with its password Secret, and
// waits until the scaler reports its shards ready.
func (e *Env) InstallCluster(ctx context.Context) error {
	objs, err := manifests.Render(manifests.ExampleCluster)
	if err != nil {
		return err
	}
	setup, rest := manifests.Split(objs)
	if err := e.C.ServerSideApply(ctx, setup, false); err != nil {
		return err
	}
	if err := e.createSecret(ctx, Namespace, "shop-auth", map[string]string{
		"password":  e.Password,
		"auth.conf": fmt.Sprintf("requirepass %s\nmasterauth %s\n", e.Password, e.Password),
	}); err != nil {
		return err
	}
	var keep []*unstructured.Unstructured
	for _, o := range rest {
		if o.GetKind() == "StatefulSet" && e.opts.SingleNode {
			if err := singleNode(o); err != nil {
				return err
			}
		}
		if o.GetKind() != "HorizontalPodAutoscaler" {
			keep = append(keep, o)
		}
	}
	if err := e.C.ServerSideApply(ctx, keep, false); err != nil {
		return err
	}
	return e.WaitShards(ctx, 3, 3*time.Minute)
}

// ScaleShards sets the example cluster's shard count through /scale, as
// `kubectl scale rcluster/shop --replicas=n` does.
func (e *Env) ScaleShards(ctx context.Context, n int32) error {
	s := &autoscalingv1.Scale{ObjectMeta: metav1.ObjectMeta{Name: RCluster, Namespace: Namespace}, Spec: autoscalingv1.ScaleSpec{Replicas: n}}
	u, err := runtimeToUnstructured(s)
	if err != nil {
		return err
	}
	_, err = e.Dyn.Resource(clusterGVR).Namespace(Namespace).Update(ctx, u, metav1.UpdateOptions{}, "scale")
	return err
}

// WaitShards waits until the example cluster has n shards, all ready.
func (e *Env) WaitShards(ctx context.Context, n int64, timeout time.Duration) error {
	var last any
	err := wait.PollUntilContextTimeout(ctx, 500*time.Millisecond, timeout, true, func(ctx context.Context) (bool, error) {
		rc, err := e.Dyn.Resource(clusterGVR).Namespace(Namespace).Get(ctx, RCluster, metav1.GetOptions{})
		if err != nil {
			last = err
			return false, nil
		}
		shards, _, _ := unstructured.NestedInt64(rc.Object, "status", "shards")
		ready, _, _ := unstructured.NestedInt64(rc.Object, "status", "readyShards")
		pending, _, _ := unstructured.NestedInt64(rc.Object, "status", "migrations", "pending")
		last = rc.Object["status"]
		return shards == n && ready == n && pending == 0, nil
	})
	if err == nil {
		return nil
	}
	return fmt.Errorf("cluster %s: not %d shards ready in %v: %v", RCluster, n, timeout, last)
}

func runtimeToUnstructured(s *autoscalingv1.Scale) (*unstructured.Unstructured, error) {
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(s)
	if err != nil {
		return nil, err
	}
	u := &unstructured.Unstructured{Object: m}
	u.SetAPIVersion("autoscaling/v1")
	u.SetKind("Scale")
	return u, nil
}
