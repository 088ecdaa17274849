package controller

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/redis-autoscaler/redis-autoscaler/scaler/metrics"
)

// ObserveTimeout bounds one pod's observation (INFO, CLUSTER NODES); an
// unresponsive pod must not stall the reconcile of the whole group or
// cluster.
const ObserveTimeout = 2 * time.Second

// observeConcurrency bounds the pods observed at once: a large group's
// INFOs overlap without opening a connection per pod at the same instant.
const observeConcurrency = 32

// ObserveEach runs observe for every item, at most observeConcurrency at
// once, each with its own ObserveTimeout, and waits for all. Each call
// records its own result: one pod's failure stops no other.
func ObserveEach[T any](ctx context.Context, items []T, observe func(context.Context, T)) {
	eg, ectx := errgroup.WithContext(ctx)
	eg.SetLimit(observeConcurrency)
	for _, it := range items {
		eg.Go(func() error {
			octx, cancel := context.WithTimeout(ectx, ObserveTimeout)
			defer cancel()
			observe(octx, it)
			return nil
		})
	}
	_ = eg.Wait()
}

// OrdinalPod is a pod of a StatefulSet and its ordinal.
type OrdinalPod struct {
	Pod *corev1.Pod
	Ord int
}

// StatefulSetPods lists the pods the StatefulSet controls (by its
// selector and owner), with their ordinals.
func StatefulSetPods(ctx context.Context, c client.Reader, sts *appsv1.StatefulSet) ([]OrdinalPod, error) {
	sel, err := metav1.LabelSelectorAsSelector(sts.Spec.Selector)
	if err != nil {
		return nil, fmt.Errorf("statefulset %s selector: %w", sts.Name, err)
	}
	var list corev1.PodList
	if err := c.List(ctx, &list, client.InNamespace(sts.Namespace), client.MatchingLabelsSelector{Selector: sel}); err != nil {
		return nil, fmt.Errorf("list pods: %w", err)
	}
	var out []OrdinalPod
	for i := range list.Items {
		if ord, ok := ordinal(sts, &list.Items[i]); ok {
			out = append(out, OrdinalPod{Pod: &list.Items[i], Ord: ord})
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

// PodRunning: the pod is Running with an IP and every container is
// running (a Redis container in back-off is down even though the pod's
// phase stays Running). A pod being deleted still counts while its
// containers run: in its grace period it may still take writes, so it is
// observed, and a master among them is switched over, not abandoned.
// Until its grace period is over (plus StopSlack): by then the kubelet has
// killed it, and a pod whose status still says running is on a node that
// no longer reports (its last status would otherwise hold forever).
func PodRunning(p *corev1.Pod) bool {
	return podRunningAt(p, time.Now())
}

// StopSlack is how long past a pod's deletion deadline (its
// deletionTimestamp: the request plus the grace period, when the kubelet
// sends SIGKILL) its containers still count as running: the kubelet's
// status report of the kill takes about a second.
const StopSlack = 5 * time.Second

func podRunningAt(p *corev1.Pod, now time.Time) bool {
	if p.Status.Phase != corev1.PodRunning || p.Status.PodIP == "" {
		return false
	}
	if d := p.DeletionTimestamp; d != nil && now.After(d.Add(StopSlack)) {
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

// Outdated: the pod was created from an older revision of the
// StatefulSet's template than its update revision.
func Outdated(sts *appsv1.StatefulSet, p *corev1.Pod) bool {
	rev := sts.Status.UpdateRevision
	return rev != "" && p.Labels[appsv1.ControllerRevisionHashLabelKey] != rev
}

// PartitionPaced: the scaler paces the StatefulSet's rolling updates
// through its partition (updateStrategy RollingUpdate, the default, once
// the controller has computed an update revision). With OnDelete it
// deletes the pods itself.
func PartitionPaced(sts *appsv1.StatefulSet) bool {
	return sts.Spec.UpdateStrategy.Type != appsv1.OnDeleteStatefulSetStrategyType && sts.Status.UpdateRevision != ""
}

// Partition is a StatefulSet's RollingUpdate partition (0 when unset).
func Partition(sts *appsv1.StatefulSet) int32 {
	if ru := sts.Spec.UpdateStrategy.RollingUpdate; ru != nil && ru.Partition != nil {
		return *ru.Partition
	}
	return 0
}

// SetPartition patches a StatefulSet's RollingUpdate partition, the one
// field of a StatefulSet the scaler writes (RBAC: patch on statefulsets):
// it paces rolling updates through it. A failure is counted as a
// "rollout" error.
func SetPartition(ctx context.Context, c client.Client, m *metrics.Metrics, sts *appsv1.StatefulSet, n int32) error {
	patch := fmt.Appendf(nil, `{"spec":{"updateStrategy":{"rollingUpdate":{"partition":%d}}}}`, n)
	if err := c.Patch(ctx, sts, client.RawPatch(types.MergePatchType, patch)); err != nil {
		m.Errors.WithLabelValues("rollout").Inc()
		return fmt.Errorf("set statefulset %s partition to %d: %w", sts.Name, n, err)
	}
	m.Commands.WithLabelValues("set_partition").Inc()
	return nil
}

// SetReplicas writes a StatefulSet's replica count through its scale
// subresource (the scaler's RBAC has update on statefulsets/scale only,
// not on the whole StatefulSet). A failure is counted as a "scale" error.
func SetReplicas(ctx context.Context, c client.Client, m *metrics.Metrics, sts *appsv1.StatefulSet, n int32) error {
	scale := &autoscalingv1.Scale{
		ObjectMeta: metav1.ObjectMeta{Name: sts.Name, Namespace: sts.Namespace},
		Spec:       autoscalingv1.ScaleSpec{Replicas: n},
	}
	if err := c.SubResource("scale").Update(ctx, sts, client.WithSubResourceBody(scale)); err != nil {
		m.Errors.WithLabelValues("scale").Inc()
		return fmt.Errorf("scale statefulset %s to %d: %w", sts.Name, n, err)
	}
	return nil
}

// StatefulSet reads the StatefulSet named name in ns and copies its pod
// selector (for the HPA, through /scale) and pod count to *selector and
// *replicas, the status of the object that names it. A missing
// StatefulSet is no error: it returns nil and records it in out.
func StatefulSet(ctx context.Context, c client.Reader, ns, name string, selector *string, replicas *int32, out *Outcome) (*appsv1.StatefulSet, error) {
	var sts appsv1.StatefulSet
	if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, &sts); err != nil {
		if !apierrors.IsNotFound(err) {
			return nil, err
		}
		out.Degrade("StatefulSetNotFound", fmt.Sprintf("statefulset %s not found", name))
		return nil, nil
	}
	if sel, err := metav1.LabelSelectorAsSelector(sts.Spec.Selector); err == nil {
		*selector = sel.String()
	}
	*replicas = sts.Status.Replicas
	return &sts, nil
}

// Get reads the object a request names into obj. When it is gone, gone
// runs (forgetting the object's metrics) and Get returns false with no
// error: a deleted object needs no reconcile.
func Get(ctx context.Context, c client.Reader, key client.ObjectKey, obj client.Object, gone func()) (bool, error) {
	if err := c.Get(ctx, key, obj); err != nil {
		if apierrors.IsNotFound(err) {
			gone()
			return false, nil
		}
		return false, err
	}
	return true, nil
}
