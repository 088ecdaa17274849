package cluster

import (
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// RedisStatefulSet is the minimal Redis StatefulSet every package's tests
// start from: pods labelled app=<name>, one container "redis" whose args are
// Redis config (the runner passes them to redis-server), a container port
// named "redis", pods started in parallel and stopped within 5 s.
func RedisStatefulSet(name string, replicas int32, args ...string) *appsv1.StatefulSet {
	lbls := map[string]string{"app": name}
	grace := int64(5)
	return &appsv1.StatefulSet{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: appsv1.StatefulSetSpec{
			Replicas:            &replicas,
			ServiceName:         name,
			PodManagementPolicy: appsv1.ParallelPodManagement,
			Selector:            &metav1.LabelSelector{MatchLabels: lbls},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: lbls},
				Spec: corev1.PodSpec{
					TerminationGracePeriodSeconds: &grace,
					Containers: []corev1.Container{{
						Name:  "redis",
						Image: "redis:7.0",
						Args:  args,
						Ports: []corev1.ContainerPort{{Name: "redis", ContainerPort: 6379}},
					}},
				},
			},
		},
	}
}
