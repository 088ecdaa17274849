package upstream

import (
	"testing"

	"github.com/stretchr/testify/assert"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/custom-metrics-apiserver/pkg/provider"
)

func TestMetricInfos(t *testing.T) {
	tests := []struct {
		name string
		in   []metav1.APIResource
		want []provider.CustomMetricInfo
	}{
		{"core resource", []metav1.APIResource{{Name: "pods/http_requests", Namespaced: true}},
			[]provider.CustomMetricInfo{{GroupResource: podsGR, Namespaced: true, Metric: "http_requests"}}},
		{"grouped resource", []metav1.APIResource{{Name: "deployments.apps/http_requests", Namespaced: true}},
			[]provider.CustomMetricInfo{{GroupResource: deployGR, Namespaced: true, Metric: "http_requests"}}},
		{"root scoped", []metav1.APIResource{{Name: "namespaces/queue_depth"}},
			[]provider.CustomMetricInfo{{GroupResource: namespacesGR, Metric: "queue_depth"}}},
		{"malformed skipped", []metav1.APIResource{{Name: "pods"}, {Name: "/x"}, {Name: "pods/"}},
			[]provider.CustomMetricInfo{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, metricInfos(tt.in))
		})
	}
}
