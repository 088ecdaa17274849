package controller

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
	"golang.org/x/sync/errgroup"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/redis-autoscaler/redis-autoscaler/scaler/api/v1alpha1"
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

// observeTimeout bounds one pod's INFO; an unresponsive pod must not stall
// the reconcile of the whole group.
const observeTimeout = 2 * time.Second

// observe lists the StatefulSet's pods and reads INFO from every running
// one, concurrently.
func (r *Reconciler) observe(ctx context.Context, g *v1alpha1.RedisReplicationGroup, sts *appsv1.StatefulSet, auth redisops.Auth, tc tlsSettings) ([]*member, error) {
	pods, err := statefulSetPods(ctx, r.Client, sts)
	if err != nil {
		return nil, err
	}
	port := g.Spec.RedisPort()
	var members []*member
	for _, op := range pods {
		p, ord := op.pod, op.ord
		m := &member{pod: p, obs: topology.Pod{
			Name: p.Name, Ordinal: ord, Port: port, Running: podRunning(p),
			Terminating: p.DeletionTimestamp != nil, Outdated: outdated(sts, p),
			Address: address(g, sts, p),
		}}
		if m.obs.Running {
			m.client = r.conns.get(p.Status.PodIP, port, auth, tc.config, tc.key)
		}
		members = append(members, m)
	}
	slices.SortFunc(members, func(a, b *member) int { return a.obs.Ordinal - b.obs.Ordinal })

	eg, ectx := errgroup.WithContext(ctx)
	eg.SetLimit(32)
	for _, m := range members {
		if m.client == nil {
			continue
		}
		eg.Go(func() error {
			octx, cancel := context.WithTimeout(ectx, observeTimeout)
			defer cancel()
			m.err = redisops.Observe(octx, m.client, &m.obs)
			return nil
		})
	}
	_ = eg.Wait()
	return members, nil
}

// ordinalPod is a pod of a StatefulSet and its ordinal.
type ordinalPod struct {
	pod *corev1.Pod
	ord int
}

// statefulSetPods lists the pods the StatefulSet controls (by its
// selector and owner), with their ordinals.
func statefulSetPods(ctx context.Context, c client.Client, sts *appsv1.StatefulSet) ([]ordinalPod, error) {
	sel, err := metav1.LabelSelectorAsSelector(sts.Spec.Selector)
	if err != nil {
		return nil, fmt.Errorf("statefulset %s selector: %w", sts.Name, err)
	}
	var list corev1.PodList
	if err := c.List(ctx, &list, client.InNamespace(sts.Namespace), client.MatchingLabelsSelector{Selector: sel}); err != nil {
		return nil, fmt.Errorf("list pods: %w", err)
	}
	var out []ordinalPod
	for i := range list.Items {
		if ord, ok := ordinal(sts, &list.Items[i]); ok {
			out = append(out, ordinalPod{pod: &list.Items[i], ord: ord})
		}
	}
	return out, nil
}

// ordinal parses <statefulset>-<n> for pods the StatefulSet controls.
func ordinal(sts *appsv1.StatefulSet, p *corev1.Pod) (int, bool) {
	ref := metav1.GetControllerOf(p)
	if ref == nil || ref.Kind != "StatefulSet" || ref.Name != sts.Name {
		return 0, false
	}
	rest, ok := strings.CutPrefix(p.Name, sts.Name+"-")
	if !ok {
		return 0, false
	}
	n, err := strconv.Atoi(rest)
	return n, err == nil && n >= 0
}

// podRunning: the pod is Running with an IP and every container is
// running (a Redis container in back-off is down even though the pod's
// phase stays Running). A pod being deleted still counts while its
// containers run: in its grace period it may still take writes, so it is
// observed, and a master among them is switched over, not abandoned.
func podRunning(p *corev1.Pod) bool {
	if p.Status.Phase != corev1.PodRunning || p.Status.PodIP == "" {
		return false
	}
	if len(p.Status.ContainerStatuses) == 0 {
		return false
	}
	for _, cs := range p.Status.ContainerStatuses {
		if cs.State.Running == nil {
			return false
		}
	}
	return true
}

// outdated: the pod was created from an older revision of the
// StatefulSet's template than its update revision.
func outdated(sts *appsv1.StatefulSet, p *corev1.Pod) bool {
	rev := sts.Status.UpdateRevision
	return rev != "" && p.Labels[appsv1.ControllerRevisionHashLabelKey] != rev
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
