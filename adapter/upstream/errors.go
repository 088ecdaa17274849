package upstream

import (
	"errors"
	"fmt"
	"net/http"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/custom-metrics-apiserver/pkg/provider"
)

// apiError turns an upstream failure into the Kubernetes API error our
// server answers with. The upstream's own verdicts (NotFound, BadRequest …)
// pass through unchanged, so the HPA sees what it would have seen calling
// the upstream directly. Two cases are ours, not the caller's, and become
// 503 ServiceUnavailable: the upstream refusing our credentials (401/403
// there says nothing about the HPA's rights, which we checked already) and
// failing to answer at all.
func (u *Upstream) apiError(err error, info provider.CustomMetricInfo) error {
	var status apierrors.APIStatus
	if errors.As(err, &status) {
		switch status.Status().Code {
		case http.StatusUnauthorized, http.StatusForbidden:
			return apierrors.NewServiceUnavailable(fmt.Sprintf(
				"upstream %s refused this adapter's credentials for metric %s: %s", u.opts.URL, info, status.Status().Message))
		}
		return err
	}
	return apierrors.NewServiceUnavailable(fmt.Sprintf("upstream %s, metric %s: %v", u.opts.URL, info, err))
}
