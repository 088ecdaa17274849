package upstream

import (
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/custom-metrics-apiserver/pkg/provider"
)

// metricInfos reads a custom-metrics discovery document: every resource is
// named "<resource>[.<group>]/<metric>" (custom-metrics-apiserver's
// resource lister). Entries of any other shape are skipped.
func metricInfos(resources []metav1.APIResource) []provider.CustomMetricInfo {
	out := make([]provider.CustomMetricInfo, 0, len(resources))
	for _, r := range resources {
		resource, metric, ok := strings.Cut(r.Name, "/")
		if !ok || resource == "" || metric == "" {
			continue
		}
		out = append(out, provider.CustomMetricInfo{
			GroupResource: schema.ParseGroupResource(resource),
			Namespaced:    r.Namespaced,
			Metric:        metric,
		})
	}
	return out
}
