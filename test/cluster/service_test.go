package cluster_test

import (
	"net"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/redis-autoscaler/redis-autoscaler/test/cluster"
)

// A ClusterIP Service is reachable at its ClusterIP, as through kube-proxy:
// connections go to Ready pods the selector matches (named target port
// resolved per pod), every pod in turn, and a Service without Ready pods
// refuses them.
func TestServiceClusterIPReachesReadyPods(t *testing.T) {
	c, ns, ctx := sharedNamespace(t, "svc", time.Minute)

	sts := cluster.RedisStatefulSet("db", 2)
	createReady(t, c, ns, sts, 30*time.Second)

	svc, err := c.Client.CoreV1().Services(ns).Create(ctx, &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "db"},
		Spec: corev1.ServiceSpec{
			Selector: map[string]string{"app": "db"},
			Ports:    []corev1.ServicePort{{Name: "redis", Port: 16379, TargetPort: intstr.FromString("redis")}},
		},
	}, metav1.CreateOptions{})
	require.NoError(t, err)
	require.True(t, net.ParseIP(svc.Spec.ClusterIP).IsLoopback(), "ClusterIP %s", svc.Spec.ClusterIP)

	addr := net.JoinHostPort(svc.Spec.ClusterIP, "16379")
	seen := map[string]bool{}
	require.EventuallyWithT(t, func(ct *assert.CollectT) {
		rc := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1, DialTimeout: time.Second})
		defer rc.Close()
		info, err := rc.Do(ctx, "CLIENT", "INFO").Text()
		if !assert.NoError(ct, err) {
			return
		}
		// laddr= is the pod's own address: which pod answered.
		for _, f := range strings.Fields(info) {
			if len(f) > 6 && f[:6] == "laddr=" {
				seen[f[6:]] = true
			}
		}
		assert.Len(ct, seen, 2, "both pods answer through the ClusterIP")
	}, 20*time.Second, 100*time.Millisecond)

	// No Ready pod: the connection is refused or closed at once.
	require.NoError(t, c.Client.AppsV1().StatefulSets(ns).Delete(ctx, "db", metav1.DeleteOptions{}))
	require.EventuallyWithT(t, func(ct *assert.CollectT) {
		rc := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1, DialTimeout: time.Second, ReadTimeout: time.Second})
		defer rc.Close()
		assert.Error(ct, rc.Ping(ctx).Err())
	}, 30*time.Second, 200*time.Millisecond)
}
