package group

import (
	"testing"

	"github.com/stretchr/testify/assert"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/redis-autoscaler/redis-autoscaler/scaler/api/v1alpha1"
)

func pod(name string) *corev1.Pod {
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns"}, Status: corev1.PodStatus{Phase: corev1.PodRunning, PodIP: "10.0.0.7"}}
}

func TestAddress(t *testing.T) {
	sts := &appsv1.StatefulSet{ObjectMeta: metav1.ObjectMeta{Name: "cache"}, Spec: appsv1.StatefulSetSpec{ServiceName: "cache-headless"}}
	p := pod("cache-2")
	g := &v1alpha1.RedisReplicationGroup{}
	assert.Equal(t, "cache-2.cache-headless.ns.svc.cluster.local", address(g, sts, p))
	g.Spec.ClusterDomain = "example.org"
	assert.Equal(t, "cache-2.cache-headless.ns.svc.example.org", address(g, sts, p))
	g.Spec.Addressing = v1alpha1.AddressingIP
	assert.Equal(t, "10.0.0.7", address(g, sts, p))
}
