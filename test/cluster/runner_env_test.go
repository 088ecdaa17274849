package cluster

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

// resourceFieldRef as the kubelet computes it (GOMEMLIMIT from the memory
// limit is the bundle's use).
func TestResourceValue(t *testing.T) {
	pod := &corev1.Pod{Spec: corev1.PodSpec{Containers: []corev1.Container{
		{Name: "app", Resources: corev1.ResourceRequirements{
			Limits:   corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("512Mi"), corev1.ResourceCPU: resource.MustParse("1500m")},
			Requests: corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("96Mi")},
		}},
		{Name: "sidecar"},
	}}}
	app := &pod.Spec.Containers[0]
	for _, tc := range []struct {
		ref  corev1.ResourceFieldSelector
		want string
	}{
		{corev1.ResourceFieldSelector{Resource: "limits.memory"}, "536870912"},
		{corev1.ResourceFieldSelector{Resource: "limits.memory", Divisor: resource.MustParse("1Mi")}, "512"},
		{corev1.ResourceFieldSelector{Resource: "requests.memory", Divisor: resource.MustParse("1Mi")}, "96"},
		{corev1.ResourceFieldSelector{Resource: "limits.cpu"}, "2"},
		{corev1.ResourceFieldSelector{Resource: "limits.cpu", Divisor: resource.MustParse("1m")}, "1500"},
	} {
		got, err := resourceValue(pod, app, &tc.ref)
		require.NoError(t, err, tc.ref.Resource)
		assert.Equal(t, tc.want, got, "%s / %s", tc.ref.Resource, tc.ref.Divisor.String())
	}
	// No limit: the host's capacity, as a node's allocatable.
	got, err := resourceValue(pod, nil, &corev1.ResourceFieldSelector{ContainerName: "sidecar", Resource: "limits.memory"})
	require.NoError(t, err)
	assert.NotEqual(t, "0", got)
	_, err = resourceValue(pod, app, &corev1.ResourceFieldSelector{Resource: "limits.hugepages-2Mi"})
	assert.Error(t, err)
	_, err = resourceValue(pod, app, &corev1.ResourceFieldSelector{ContainerName: "gone", Resource: "limits.memory"})
	assert.Error(t, err)
}
