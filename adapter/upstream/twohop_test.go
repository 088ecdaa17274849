package upstream

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/rest"
	cmclient "k8s.io/metrics/pkg/client/custom_metrics"
)

// TestServedCombined is the deployment shape: the HPA's client asks our
// server (custom-metrics-apiserver serving Combine), which answers Redis
// metrics itself and forwards the rest to a second server.
func TestServedCombined(t *testing.T) {
	srv := startUpstream(t)
	up := newUpstream(t, Options{URL: srv.url, CAFile: srv.caFile, TokenFile: tokenFile(t, upstreamToken)})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	up.Start(ctx)
	require.Eventually(t, func() bool { return len(up.ListAllMetrics()) > 0 }, 10*time.Second, 50*time.Millisecond)

	url, caFile, err := serveProvider(t.TempDir(), Combine(oursProvider{metrics: ourList}, []string{ourMetric}, up))
	require.NoError(t, err)
	cfg := &rest.Config{Host: url, TLSClientConfig: rest.TLSClientConfig{CAFile: caFile}, BearerToken: upstreamToken}
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	require.NoError(t, err)
	dc.UseLegacyDiscovery = true
	mapper := meta.NewDefaultRESTMapper([]schema.GroupVersion{{Version: "v1"}})
	mapper.Add(schema.GroupVersionKind{Version: "v1", Kind: "Pod"}, meta.RESTScopeNamespace)
	hpaClient := cmclient.NewForConfig(cfg, mapper, cmclient.NewAvailableAPIsGetter(dc))
	pod := schema.GroupKind{Kind: "Pod"}
	web := hpaClient.NamespacedMetrics("web")

	list, err := web.GetForObjects(pod, labels.SelectorFromSet(labels.Set{"app": "web"}), "http_requests", labels.Everything())
	require.NoError(t, err)
	assert.Len(t, list.Items, 2, "forwarded upstream")

	list, err = web.GetForObjects(pod, labels.Everything(), ourMetric, labels.Everything())
	require.NoError(t, err)
	require.Len(t, list.Items, 1)
	assert.Equal(t, int64(42000), list.Items[0].Value.MilliValue(), "served by ours")

	_, err = web.GetForObject(pod, "missing", "http_requests", labels.Everything())
	assert.True(t, apierrors.IsNotFound(err), "NotFound across two hops, got %v", err)

	resources, err := dc.ServerResourcesForGroupVersion("custom.metrics.k8s.io/v1beta2")
	require.NoError(t, err)
	var names []string
	for _, r := range resources.APIResources {
		names = append(names, r.Name)
	}
	assert.Subset(t, names, []string{"pods/" + ourMetric, "pods/http_requests", "deployments.apps/http_requests", "namespaces/queue_depth"})
}
