package external

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	corelisters "k8s.io/client-go/listers/core/v1"

	"github.com/redis-autoscaler/redis-autoscaler/adapter/embedded"
	"github.com/redis-autoscaler/redis-autoscaler/exporter/target"
)

var groupsResource = schema.GroupVersionResource{Group: "redisautoscaler.io", Version: "v1alpha1", Resource: "redisreplicationgroups"}

// KubeResolve finds pods in the informer cache and groups through the API
// server (a group's master changes on switchover, its status says which).
type KubeResolve struct {
	Pods    corelisters.PodLister
	Dynamic dynamic.Interface
	// Port and TLS as for the embedded source's pods.
	Port int
	TLS  bool
}

// Pod is the Redis of a running pod.
func (r *KubeResolve) Pod(_ context.Context, namespace, name string) (target.Target, error) {
	pod, err := r.Pods.Pods(namespace).Get(name)
	if err != nil {
		return target.Target{}, err
	}
	t, ok := embedded.TargetOf(pod, r.Port, r.TLS)
	if !ok {
		return target.Target{}, apierrors.NewServiceUnavailable(fmt.Sprintf("pod %s/%s is not running with an IP", namespace, name))
	}
	return t, nil
}

// GroupMaster is the Redis of a RedisReplicationGroup's master pod.
func (r *KubeResolve) GroupMaster(ctx context.Context, namespace, name string) (target.Target, error) {
	u, err := r.Dynamic.Resource(groupsResource).Namespace(namespace).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return target.Target{}, err
	}
	master, _, _ := unstructured.NestedString(u.Object, "status", "master")
	if master == "" {
		return target.Target{}, apierrors.NewServiceUnavailable(fmt.Sprintf("RedisReplicationGroup %s/%s has no master yet", namespace, name))
	}
	return r.Pod(ctx, namespace, master)
}
