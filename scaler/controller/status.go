package controller

import (
	"context"
	"errors"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/redis-autoscaler/redis-autoscaler/scaler/metrics"
)

// Finish ends a reconcile: it patches obj's status when changed (against
// orig, the object as read) and looks again at the soonest time out asked
// for, else after resync. An object deleted meanwhile is no error.
func Finish(ctx context.Context, c client.Client, m *metrics.Metrics, obj, orig client.Object, changed bool, out *Outcome, resync time.Duration, reconcileErr error) (ctrl.Result, error) {
	var statusErr error
	if changed {
		if err := c.Status().Patch(ctx, obj, client.MergeFrom(orig)); err != nil && !apierrors.IsNotFound(err) {
			m.Errors.WithLabelValues("status").Inc()
			statusErr = fmt.Errorf("update status: %w", err)
		}
	}
	requeue := out.Requeue
	if requeue == 0 {
		requeue = resync
	}
	return ctrl.Result{RequeueAfter: requeue}, errors.Join(reconcileErr, statusErr)
}
