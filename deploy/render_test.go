// Package deploy_test checks the shipped manifests: rendered as a user
// renders them (kustomize, helm; test/manifests), statically here, and
// applied to a real control plane in install_test.go.
package deploy_test

import (
	"testing"

	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/redis-autoscaler/redis-autoscaler/test/manifests"
)

const chartDir = "helm/redis-autoscaler"

type variant = manifests.Variant

var bundleVariants = []variant{
	manifests.Base,
	{Name: "base+monitoring", Resources: []string{"base"}, Components: []string{"components/monitoring"}},
	{Name: "base+cert-manager", Resources: []string{"base"}, Components: []string{"components/cert-manager"}},
	{Name: "base+namespaced", Resources: []string{"base"}, Components: []string{"components/namespaced"}},
	{Name: "base+redis-tls", Resources: []string{"base"}, Components: []string{"components/redis-tls"}},
	manifests.Example,
	{Name: "example+tls", Resources: []string{"examples/redis-group"}, Components: []string{"examples/redis-group/tls"}},
	// Appended: tests name the variants above by index.
	{Name: "base+external-metrics", Resources: []string{"base"}, Components: []string{"components/external-metrics"}},
	{Name: "example+backup", Resources: []string{"examples/redis-group"}, Components: []string{"examples/redis-group/backup"}},
	manifests.ExampleCluster,
}

var chartVariants = []variant{
	{Name: "chart", HelmSets: []string{}},
	{Name: "chart+everything", HelmSets: []string{"monitoring.enabled=true", "exampleGroup.enabled=true", "redis.tls.enabled=true"}},
	{Name: "chart+cert-manager", HelmSets: []string{"adapter.certificate.mode=cert-manager"}},
	{Name: "chart+namespaced", HelmSets: []string{"scaler.watchNamespace=redis", "exporter.watchNamespace=redis"}},
	{Name: "chart+external-metrics", HelmSets: []string{"adapter.externalMetrics.enabled=true"}},
	{Name: "chart+backup", HelmSets: []string{"exampleGroup.enabled=true", "backup.enabled=true"}},
	{Name: "chart+example-cluster", HelmSets: []string{"exampleCluster.enabled=true"}},
}

func render(t testing.TB, v variant) []*unstructured.Unstructured {
	t.Helper()
	objs, err := manifests.Render(v)
	require.NoError(t, err)
	return objs
}

func tool(t testing.TB, name string) string {
	t.Helper()
	p, err := manifests.Tool(name)
	require.NoError(t, err)
	return p
}

func decodeAll(t testing.TB, b []byte) []*unstructured.Unstructured {
	t.Helper()
	objs, err := manifests.Decode(b)
	require.NoError(t, err)
	return objs
}

func key(o *unstructured.Unstructured) string { return manifests.Key(o) }
