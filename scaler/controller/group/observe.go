package group

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/redis/go-redis/v9"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/redis-autoscaler/redis-autoscaler/scaler/api/v1alpha1"
	"github.com/redis-autoscaler/redis-autoscaler/scaler/controller"
	"github.com/redis-autoscaler/redis-autoscaler/scaler/credentials"
	"github.com/redis-autoscaler/redis-autoscaler/scaler/redisops"
	"github.com/redis-autoscaler/redis-autoscaler/scaler/topology"
)

// member is one pod of the group: the Kubernetes object, the observation
// the decisions work on, and a client to its Redis (nil when not running).
type member struct {
	pod    *corev1.Pod
	obs    topology.Pod
	client *redis.Client
	err    error
}

// observe lists the StatefulSet's pods and reads INFO from every running
// one, concurrently.
func (r *Reconciler) observe(ctx context.Context, reader client.Reader, g *v1alpha1.RedisReplicationGroup, sts *appsv1.StatefulSet, auth redisops.Auth, tc credentials.TLS) ([]*member, error) {
	pods, err := controller.StatefulSetPods(ctx, reader, sts)
	if err != nil {
		return nil, err
	}
	port := g.Spec.RedisPort()
	var members []*member
	for _, op := range pods {
		p, ord := op.Pod, op.Ord
		m := &member{pod: p, obs: topology.Pod{
			Name: p.Name, Ordinal: ord, Port: port, Running: controller.PodRunning(p),
			Terminating: p.DeletionTimestamp != nil, Outdated: controller.Outdated(sts, p),
			Address: address(g, sts, p),
		}}
		if m.obs.Running {
			m.client = r.conns.Get(p.Status.PodIP, port, auth, tc)
		}
		members = append(members, m)
	}
	slices.SortFunc(members, func(a, b *member) int { return a.obs.Ordinal - b.obs.Ordinal })

	controller.ObserveEach(ctx, members, func(ctx context.Context, m *member) {
		if m.client != nil {
			m.err = redisops.Observe(ctx, m.client, &m.obs)
		}
	})
	return members, nil
}

// containerStarted is when the pod's (latest) containers started.
func containerStarted(p *corev1.Pod) (time.Time, bool) {
	var t time.Time
	for _, cs := range p.Status.ContainerStatuses {
		if cs.State.Running == nil {
			return time.Time{}, false
		}
		if s := cs.State.Running.StartedAt.Time; s.After(t) {
			t = s
		}
	}
	return t, !t.IsZero()
}

// address is how other pods reach p: its pod IP, or its stable DNS name
// under the StatefulSet's headless Service.
func address(g *v1alpha1.RedisReplicationGroup, sts *appsv1.StatefulSet, p *corev1.Pod) string {
	if g.Spec.Addressing == v1alpha1.AddressingIP {
		return p.Status.PodIP
	}
	return fmt.Sprintf("%s.%s.%s.svc.%s", p.Name, sts.Spec.ServiceName, p.Namespace, g.Spec.Domain())
}

func observations(members []*member) []topology.Pod {
	out := make([]topology.Pod, len(members))
	for i, m := range members {
		out[i] = m.obs
	}
	return out
}

func find(members []*member, name string) *member {
	for _, m := range members {
		if m.obs.Name == name {
			return m
		}
	}
	return nil
}
