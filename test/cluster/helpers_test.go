package cluster_test

import (
	"context"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/kubernetes"

	"github.com/redis-autoscaler/redis-autoscaler/test/cluster"
)

// redisStatefulSet is cluster.RedisStatefulSet; withPVC adds a
// volumeClaimTemplate mounted at /data.
func redisStatefulSet(name string, replicas int32, withPVC bool, args ...string) *appsv1.StatefulSet {
	sts := cluster.RedisStatefulSet(name, replicas, args...)
	if withPVC {
		sts.Spec.Template.Spec.Containers[0].VolumeMounts = []corev1.VolumeMount{{Name: "data", MountPath: "/data"}}
		sts.Spec.VolumeClaimTemplates = []corev1.PersistentVolumeClaim{{
			ObjectMeta: metav1.ObjectMeta{Name: "data"},
			Spec: corev1.PersistentVolumeClaimSpec{
				AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
				Resources: corev1.VolumeResourceRequirements{
					Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")},
				},
			},
		}}
	}
	return sts
}

// sharedNamespace is how every test here starts: in parallel, on the
// package's shared cluster, in a namespace of its own, with a deadline.
func sharedNamespace(t *testing.T, prefix string, timeout time.Duration) (*cluster.Cluster, string, context.Context) {
	t.Helper()
	t.Parallel()
	c := cluster.Shared(t)
	return c, c.Namespace(t, prefix), ctxT(t, timeout)
}

// createReady creates the StatefulSet and waits until all its replicas
// are Ready pods.
func createReady(t *testing.T, c *cluster.Cluster, ns string, sts *appsv1.StatefulSet, timeout time.Duration) []corev1.Pod {
	t.Helper()
	_, err := c.Client.AppsV1().StatefulSets(ns).Create(ctxT(t, timeout), sts, metav1.CreateOptions{})
	require.NoError(t, err)
	return readyPods(t, c.Client, ns, sts.Spec.Selector.MatchLabels, int(*sts.Spec.Replicas), timeout)
}

// readyPods waits until exactly n pods match the selector and all are Ready.
func readyPods(t *testing.T, client kubernetes.Interface, ns string, sel map[string]string, n int, timeout time.Duration) []corev1.Pod {
	t.Helper()
	var pods []corev1.Pod
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		list, err := client.CoreV1().Pods(ns).List(context.Background(), metav1.ListOptions{LabelSelector: labels.SelectorFromSet(sel).String()})
		require.NoError(c, err)
		require.Len(c, list.Items, n)
		for _, p := range list.Items {
			require.Truef(c, cluster.PodReady(&p), "pod %s not ready: phase %s", p.Name, p.Status.Phase)
		}
		pods = list.Items
	}, timeout, 200*time.Millisecond)
	return pods
}

// redisClient connects to a pod by IP: there is no cluster DNS.
func redisClient(t *testing.T, pod *corev1.Pod) *redis.Client {
	t.Helper()
	require.NotEmpty(t, pod.Status.PodIP)
	rc := redis.NewClient(&redis.Options{
		Addr:        net.JoinHostPort(pod.Status.PodIP, "6379"),
		DialTimeout: time.Second,
		MaxRetries:  -1,
	})
	t.Cleanup(func() { rc.Close() })
	return rc
}

func getPod(t *testing.T, c *cluster.Cluster, ns, name string) *corev1.Pod {
	t.Helper()
	p, err := c.Client.CoreV1().Pods(ns).Get(context.Background(), name, metav1.GetOptions{})
	require.NoError(t, err)
	return p
}

func ctxT(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func podName(sts string, i int) string { return fmt.Sprintf("%s-%d", sts, i) }
