package podcache

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
	corelisters "k8s.io/client-go/listers/core/v1"
)

// countingLister counts the selector matches that reach the informer's
// indexer, to tell a remembered answer from a computed one.
type countingLister struct {
	corelisters.PodLister
	matches *int
}

func (c countingLister) Pods(ns string) corelisters.PodNamespaceLister {
	return countingNS{c.PodLister.Pods(ns), c.matches}
}

type countingNS struct {
	corelisters.PodNamespaceLister
	matches *int
}

func (c countingNS) List(sel labels.Selector) ([]*corev1.Pod, error) {
	*c.matches++
	return c.PodNamespaceLister.List(sel)
}

func pod(ns, name, app string) *corev1.Pod {
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: map[string]string{"app": app}}}
}

func names(pods []*corev1.Pod) []string {
	var out []string
	for _, p := range pods {
		out = append(out, p.Name)
	}
	slices.Sort(out)
	return out
}

func TestSelections(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	client := fake.NewClientset(pod("a", "redis-0", "redis"), pod("a", "web-0", "web"), pod("b", "redis-0", "redis"))
	factory := informers.NewSharedInformerFactory(client, 0)
	inf := factory.Core().V1().Pods()
	matches := 0
	s, err := NewSelections(countingLister{inf.Lister(), &matches}, inf.Informer())
	require.NoError(t, err)
	clock := time.Unix(1000, 0)
	s.now = func() time.Time { return clock }
	factory.Start(ctx.Done())
	factory.WaitForCacheSync(ctx.Done())
	redis := labels.SelectorFromSet(labels.Set{"app": "redis"})
	list := func(ns string) []string {
		t.Helper()
		pods, err := s.Pods(ns).List(redis)
		require.NoError(t, err)
		return names(pods)
	}
	// waitList waits until the informer has delivered a change and the
	// answer reflects it.
	waitList := func(ns string, want []string) {
		t.Helper()
		require.Eventually(t, func() bool { return slices.Equal(list(ns), want) }, 5*time.Second, 10*time.Millisecond)
	}

	require.Equal(t, []string{"redis-0"}, list("a"))
	require.Equal(t, []string{"redis-0"}, list("a"))
	require.Equal(t, 1, matches, "the second ask is remembered")

	// A label change in a makes web-0 Redis: the answer follows.
	web := pod("a", "web-0", "redis")
	_, err = client.CoreV1().Pods("a").Update(ctx, web, metav1.UpdateOptions{})
	require.NoError(t, err)
	waitList("a", []string{"redis-0", "web-0"})

	// An event in b leaves a's answer remembered.
	require.Equal(t, []string{"redis-0"}, list("b"))
	_, err = client.CoreV1().Pods("b").Create(ctx, pod("b", "redis-1", "redis"), metav1.CreateOptions{})
	require.NoError(t, err)
	waitList("b", []string{"redis-0", "redis-1"})
	before := matches
	require.Equal(t, []string{"redis-0", "web-0"}, list("a"))
	require.Equal(t, before, matches, "a's answer outlived an event in b")

	// A deletion in a.
	require.NoError(t, client.CoreV1().Pods("a").Delete(ctx, "redis-0", metav1.DeleteOptions{}))
	waitList("a", []string{"web-0"})

	// Answers nobody asks for go.
	require.Equal(t, 2, remembered(s))
	clock = clock.Add(selIdle + 2*time.Minute)
	list("b") // sweeps, then remembers b's again
	require.Equal(t, 1, remembered(s))
}

// remembered is the number of answers s holds.
func remembered(s *Selections) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.entries)
}
