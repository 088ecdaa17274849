// Package podcache keeps the adapter's pod informer small: every pod of
// the cluster is cached, most of them not Redis, so only what the adapter
// reads is kept (name, namespace, labels, deletion, phase, IP, and the
// name, image, Redis ports and memory limit of the containers that may be
// Redis).
package podcache

import (
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/cache"
)

// Strip is a cache.TransformFunc for the pod informer. Objects that are not
// pods (a tombstone) pass unchanged.
func Strip(obj any) (any, error) {
	pod, ok := obj.(*corev1.Pod)
	if !ok {
		return obj, nil
	}
	out := &corev1.Pod{
		TypeMeta: pod.TypeMeta,
		ObjectMeta: metav1.ObjectMeta{
			Name: pod.Name, Namespace: pod.Namespace, UID: pod.UID, ResourceVersion: pod.ResourceVersion,
			Labels: pod.Labels, DeletionTimestamp: pod.DeletionTimestamp,
		},
		Status: corev1.PodStatus{Phase: pod.Status.Phase, PodIP: pod.Status.PodIP},
	}
	for i, c := range pod.Spec.Containers {
		// The first container (the fallback of both rules below) and any
		// that may be Redis; of their ports, those that may be Redis'.
		// This keeps the answers of discovery.TargetFor and of the memory
		// limit lookup (adapter/embedded) while most pods keep one
		// container and no port.
		redisName := c.Name == "redis" || strings.Contains(c.Image, "redis")
		var ports []corev1.ContainerPort
		for _, p := range c.Ports {
			if p.Name == "redis" || p.Name == "tcp-redis" || p.ContainerPort == 6379 {
				ports = append(ports, p)
			}
		}
		if i > 0 && !redisName && len(ports) == 0 {
			continue
		}
		k := corev1.Container{Name: c.Name, Image: c.Image, Ports: ports}
		if m, ok := c.Resources.Limits[corev1.ResourceMemory]; ok {
			k.Resources.Limits = corev1.ResourceList{corev1.ResourceMemory: m}
		}
		out.Spec.Containers = append(out.Spec.Containers, k)
	}
	return out, nil
}

var _ cache.TransformFunc = Strip
