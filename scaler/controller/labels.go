package controller

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/redis-autoscaler/redis-autoscaler/scaler/metrics"
)

// Labels the scaler puts on pods, for a -master and a -replicas Service.
const (
	LabelRole   = "redisautoscaler.io/role"
	LabelSynced = "redisautoscaler.io/synced"
	RoleMaster  = "master"
	RoleReplica = "replica"
)

// Label sets the pod's role and synced labels ("" removes one) with a
// patch, only when they change. A failure is counted and recorded in out:
// a label is retried by the next reconcile, it stops nothing else.
func Label(ctx context.Context, c client.Client, m *metrics.Metrics, pod *corev1.Pod, role, synced string, out *Outcome) {
	if pod.Labels[LabelRole] == role && pod.Labels[LabelSynced] == synced {
		return
	}
	patch := client.MergeFrom(pod.DeepCopy())
	if pod.Labels == nil {
		pod.Labels = map[string]string{}
	}
	setOrDelete(pod.Labels, LabelRole, role)
	setOrDelete(pod.Labels, LabelSynced, synced)
	if err := c.Patch(ctx, pod, patch); err != nil && !apierrors.IsNotFound(err) {
		m.Errors.WithLabelValues("label").Inc()
		out.Degrade("LabelFailed", fmt.Sprintf("%s: %v", pod.Name, err))
	}
}

func setOrDelete(m map[string]string, k, v string) {
	if v == "" {
		delete(m, k)
		return
	}
	m[k] = v
}
