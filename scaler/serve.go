package scaler

import (
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
)

// metricsServer serves /metrics at addr ("" is controller-runtime's
// default, "0" serves nothing): the scaler's own registry and
// controller-runtime's global one, where the library registers its
// workqueue, reconcile and client metrics whatever we do. The scaler's
// metrics stay off the global registry, so two scalers in one process
// (tests, a restart) never mix series; controller-runtime's own server
// cannot serve another registry, hence a server of ours in its place.
// Like controller-runtime's, it runs whether or not this copy leads.
func metricsServer(addr string, own *prometheus.Registry) *manager.Server {
	if addr == "0" {
		return nil
	}
	if addr == "" {
		addr = metricsserver.DefaultBindAddress
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(prometheus.Gatherers{own, ctrlmetrics.Registry},
		promhttp.HandlerOpts{ErrorHandling: promhttp.HTTPErrorOnError}))
	return &manager.Server{
		Name:   "metrics",
		Server: &http.Server{Addr: addr, Handler: mux, ReadHeaderTimeout: 10 * time.Second},
	}
}
