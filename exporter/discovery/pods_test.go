package discovery

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/redis-autoscaler/redis-autoscaler/exporter/target"
)

func pod(name, phase, ip string, ports ...Port) Pod {
	return Pod{Namespace: "cache", Name: name, Phase: phase, IP: ip, Ports: ports}
}

func TestTargetFor(t *testing.T) {
	deleting := pod("d", "Running", "10.0.0.9")
	deleting.Deleting = true
	for name, tc := range map[string]struct {
		pod  Pod
		opts Options
		want string // address, "" when not a target
	}{
		"running, default port":     {pod: pod("a", "Running", "10.0.0.1"), want: "10.0.0.1:6379"},
		"named port wins":           {pod: pod("a", "Running", "10.0.0.1", Port{Number: 9121}, Port{Name: "redis", Number: 7000}), want: "10.0.0.1:7000"},
		"6379 among others":         {pod: pod("a", "Running", "10.0.0.1", Port{Number: 9121}, Port{Number: 6379}), want: "10.0.0.1:6379"},
		"port option overrides":     {pod: pod("a", "Running", "10.0.0.1", Port{Name: "redis", Number: 7000}), opts: Options{Port: 6380}, want: "10.0.0.1:6380"},
		"pending is not a target":   {pod: pod("a", "Pending", "")},
		"no IP yet is not a target": {pod: pod("a", "Running", "")},
		"being deleted is not":      {pod: deleting},
		"succeeded is not":          {pod: pod("a", "Succeeded", "10.0.0.1")},
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

// The list (in pages) and the watch follow pods as they come, change and
// go; an expired watch lists again; a watch the server ends is reopened.
func TestPodsFollowsChanges(t *testing.T) {
	api, cfg := newFakeAPI(t)
	api.put("redis-0", "Running", "10.0.0.1", 6379)
	api.put("redis-1", "Pending", "", 6379)
	api.put("redis-2", "Running", "10.0.0.3", 6379)
	for len(api.events) > 0 {
		<-api.events // before the watch: the list has them
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	p, err := NewForConfig(cfg, Options{Namespace: "cache", Selector: "app=redis"})
	require.NoError(t, err)
	require.NoError(t, p.Start(ctx))
	assert.Equal(t, []string{"redis-0", "redis-2"}, podNames(p.Targets()), "three pods over two pages")

	api.put("redis-1", "Running", "10.0.0.2", 6379)
	require.Eventually(t, func() bool { return len(p.Targets()) == 3 }, 5*time.Second, 10*time.Millisecond)
	api.remove("redis-0")
	require.Eventually(t, func() bool {
		names := podNames(p.Targets())
		return len(names) == 2 && names[0] == "redis-1"
	}, 5*time.Second, 10*time.Millisecond)

	// The server ends the watch; the next is expired: a new list, and
	// changes after it still arrive.
	api.mu.Lock()
	api.expire = true
	lists := api.lists
	api.mu.Unlock()
	api.events <- "end"
	require.Eventually(t, func() bool { api.mu.Lock(); defer api.mu.Unlock(); return api.lists > lists }, 5*time.Second, 10*time.Millisecond)
	api.put("redis-3", "Running", "10.0.0.4", 7000)
	require.Eventually(t, func() bool { return len(p.Targets()) == 3 }, 5*time.Second, 10*time.Millisecond)
	assert.Contains(t, addresses(p.Targets()), "10.0.0.4:7000")
}

// A request the API server refuses (here: a bad token) fails Start with
// the server's reason, without waiting out the minute.
func TestStartFailsOnRefusal(t *testing.T) {
	_, cfg := newFakeAPI(t)
	cfg.Token = "wrong"
	p, err := NewForConfig(cfg, Options{Namespace: "cache", Selector: "app=redis"})
	require.NoError(t, err)
	err = p.Start(context.Background())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "401 Unauthorized", "the server's refusal, not the one-minute wait")

	_, err = NewForConfig(Config{Server: "not a url"}, Options{})
	assert.Error(t, err)
}

func podNames(ts []target.Target) []string {
	out := []string{}
	for _, t := range ts {
		out = append(out, t.Pod)
	}
	return out
}

func addresses(ts []target.Target) []string {
	out := []string{}
	for _, t := range ts {
		out = append(out, t.Address)
	}
	return out
}
