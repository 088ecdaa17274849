package discovery

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/client-go/tools/cache"

	"github.com/redis-autoscaler/redis-autoscaler/exporter/target"
)

func pod(name string, phase corev1.PodPhase, ip string, ports ...corev1.ContainerPort) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "cache", Labels: map[string]string{"app": "redis"}},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "redis", Ports: ports}}},
		Status:     corev1.PodStatus{Phase: phase, PodIP: ip},
	}
}

func TestTargetFor(t *testing.T) {
	deleting := pod("d", corev1.PodRunning, "10.0.0.9")
	deleting.DeletionTimestamp = &metav1.Time{Time: time.Now()}
	for name, tc := range map[string]struct {
		pod  *corev1.Pod
		opts Options
		want string // address, "" when not a target
	}{
		"running, default port":     {pod: pod("a", corev1.PodRunning, "10.0.0.1"), want: "10.0.0.1:6379"},
		"named port wins":           {pod: pod("a", corev1.PodRunning, "10.0.0.1", corev1.ContainerPort{ContainerPort: 9121}, corev1.ContainerPort{Name: "redis", ContainerPort: 7000}), want: "10.0.0.1:7000"},
		"6379 among others":         {pod: pod("a", corev1.PodRunning, "10.0.0.1", corev1.ContainerPort{ContainerPort: 9121}, corev1.ContainerPort{ContainerPort: 6379}), want: "10.0.0.1:6379"},
		"port option overrides":     {pod: pod("a", corev1.PodRunning, "10.0.0.1", corev1.ContainerPort{Name: "redis", ContainerPort: 7000}), opts: Options{Port: 6380}, want: "10.0.0.1:6380"},
		"pending is not a target":   {pod: pod("a", corev1.PodPending, "")},
		"no IP yet is not a target": {pod: pod("a", corev1.PodRunning, "")},
		"being deleted is not":      {pod: deleting},
		"succeeded is not":          {pod: pod("a", corev1.PodSucceeded, "10.0.0.1")},
	} {
		t.Run(name, func(t *testing.T) {
			got, ok := TargetFor(tc.pod, tc.opts)
			if tc.want == "" {
				assert.False(t, ok)
				return
			}
			require.True(t, ok)
			assert.Equal(t, tc.want, got.Address)
			assert.Equal(t, "cache", got.Namespace)
			assert.Equal(t, tc.pod.Name, got.Pod)
		})
	}
}

func TestInvalidSelector(t *testing.T) {
	_, err := New(listWatch(fake.NewClientset(), Options{}), Options{Selector: "app in (("})
	assert.ErrorContains(t, err, "kubernetes selector")
}

// The informer follows pods as they come and go.
func TestPodsFollowsChanges(t *testing.T) {
	client := fake.NewClientset(
		pod("redis-0", corev1.PodRunning, "10.0.0.1"),
		pod("redis-1", corev1.PodPending, ""),
	)
	other := pod("other", corev1.PodRunning, "10.0.0.5")
	other.Labels = map[string]string{"app": "web"}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	_, err := client.CoreV1().Pods("cache").Create(ctx, other, metav1.CreateOptions{})
	require.NoError(t, err)

	opts := Options{Namespace: "cache", Selector: "app=redis"}
	p, err := New(listWatch(client, opts), opts)
	require.NoError(t, err)
	require.NoError(t, p.Start(ctx))
	assert.Equal(t, []string{"redis-0"}, podNames(p.Targets()))

	running := pod("redis-1", corev1.PodRunning, "10.0.0.2")
	_, err = client.CoreV1().Pods("cache").UpdateStatus(ctx, running, metav1.UpdateOptions{})
	require.NoError(t, err)
	require.Eventually(t, func() bool { return len(p.Targets()) == 2 }, 5*time.Second, 10*time.Millisecond)

	require.NoError(t, client.CoreV1().Pods("cache").Delete(ctx, "redis-0", metav1.DeleteOptions{}))
	require.Eventually(t, func() bool {
		names := podNames(p.Targets())
		return len(names) == 1 && names[0] == "redis-1"
	}, 5*time.Second, 10*time.Millisecond)
}

func podNames(ts []target.Target) []string {
	out := []string{}
	for _, t := range ts {
		out = append(out, t.Pod)
	}
	return out
}

// listWatch adapts a (fake) clientset to New, restricted as NewForConfig
// restricts its REST client.
func listWatch(client kubernetes.Interface, opts Options) cache.ListerWatcher {
	return &cache.ListWatch{
		ListWithContextFunc: func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
			o.LabelSelector = opts.Selector
			return client.CoreV1().Pods(opts.Namespace).List(ctx, o)
		},
		WatchFuncWithContext: func(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) {
			o.LabelSelector = opts.Selector
			return client.CoreV1().Pods(opts.Namespace).Watch(ctx, o)
		},
	}
}
