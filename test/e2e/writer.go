package e2e

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
	corev1 "k8s.io/api/core/v1"

	"github.com/redis-autoscaler/redis-autoscaler/test/redistest"
)

// Writer is a SET + WAIT 1 writer with unique keys on the current master
// (found by its role label, again after each failed write).
type Writer struct {
	*redistest.AckWriter
	mu     sync.Mutex
	master *redis.Client
	addr   string
}

// WriteInterval paces the writer: 100 writes a second, a steady trickle
// beside the load rather than load of its own.
const WriteInterval = 10 * time.Millisecond

// StartWriter starts writing keys "ack:<n>".
func (e *Env) StartWriter(ctx context.Context) *Writer {
	w := &Writer{}
	lookup := func() {
		pods, err := e.Pods(ctx)
		if err != nil {
			return
		}
		m, _, _ := Roles(pods)
		w.mu.Lock()
		defer w.mu.Unlock()
		if m == nil || podAddr(m) == w.addr {
			return
		}
		if w.master != nil {
			w.master.Close()
		}
		w.addr = podAddr(m)
		w.master = redis.NewClient(&redis.Options{Addr: w.addr, Password: e.Password, PoolSize: 1,
			DialTimeout: time.Second, MaxRetries: -1})
	}
	lookup()
	w.AckWriter = redistest.StartAckWriter(redistest.AckWriterOptions{
		Ctx: ctx, Prefix: "ack:", Wait: time.Second, OpTimeout: 2 * time.Second, Interval: WriteInterval,
		Target: func() *redis.Client {
			w.mu.Lock()
			defer w.mu.Unlock()
			return w.master
		},
		OnFail: func() {
			time.Sleep(50 * time.Millisecond)
			lookup()
		},
	})
	return w
}

// Close releases the writer's connection (after Finish).
func (w *Writer) Close() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.master != nil {
		w.master.Close()
	}
}

// VerifyKeys checks that every key is on the master and on every synced
// replica, and that there is exactly one master and every other pod
// replicates it.
func (e *Env) VerifyKeys(ctx context.Context, keys []string) error {
	pods, err := e.Pods(ctx)
	if err != nil {
		return err
	}
	m, synced, other := Roles(pods)
	if m == nil || other != 0 {
		return fmt.Errorf("not converged: master %v, %d synced, %d other", m != nil, len(synced), other)
	}
	masterInfo := ""
	for _, p := range append(synced, m) {
		info, err := e.checkPod(ctx, p, m, keys)
		if err != nil {
			return err
		}
		if p == m {
			masterInfo = info
		}
	}
	if !containsLine(masterInfo, "role:master") {
		return fmt.Errorf("%s is labelled master but reports otherwise", m.Name)
	}
	return nil
}

// checkPod returns the pod's INFO replication after checking that it
// replicates master (unless it is the master) and holds every key.
func (e *Env) checkPod(ctx context.Context, p, master *corev1.Pod, keys []string) (string, error) {
	c := e.Client(p)
	defer c.Close()
	info, err := c.Info(ctx, "replication").Result()
	if err != nil {
		return "", fmt.Errorf("%s: %w", p.Name, err)
	}
	// By IP on the pod runner; by the master pod's DNS name (the
	// example's addressing) on a real node.
	byName := "master_host:" + master.Name + "." + Group + "." + Namespace + ".svc.cluster.local"
	if p != master && !containsLine(info, "master_host:"+master.Status.PodIP) && !containsLine(info, byName) {
		return "", fmt.Errorf("%s does not replicate the master %s", p.Name, master.Name)
	}
	n, err := countExisting(ctx, c, keys)
	if err != nil {
		return "", fmt.Errorf("%s: %w", p.Name, err)
	}
	if n != len(keys) {
		return "", fmt.Errorf("%s lacks %d of %d acknowledged keys", p.Name, len(keys)-n, len(keys))
	}
	return info, nil
}

// countExisting counts the keys c holds, a thousand per EXISTS.
func countExisting(ctx context.Context, c *redis.Client, keys []string) (int, error) {
	found := 0
	for i := 0; i < len(keys); i += 1000 {
		n, err := c.Exists(ctx, keys[i:min(i+1000, len(keys))]...).Result()
		if err != nil {
			return found, err
		}
		found += int(n)
	}
	return found, nil
}

func containsLine(text, line string) bool {
	for _, l := range strings.Split(text, "\n") {
		if strings.TrimRight(l, "\r") == line {
			return true
		}
	}
	return false
}

// CountOnMaster counts how many of the keys the current master holds.
func (e *Env) CountOnMaster(ctx context.Context, keys []string) (int, error) {
	pods, err := e.Pods(ctx)
	if err != nil {
		return 0, err
	}
	m, _, _ := Roles(pods)
	if m == nil {
		return 0, fmt.Errorf("no master")
	}
	c := e.Client(m)
	defer c.Close()
	return countExisting(ctx, c, keys)
}
