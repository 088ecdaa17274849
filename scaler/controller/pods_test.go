package controller

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func pod(name, owner string, phase corev1.PodPhase, running bool) *corev1.Pod {
	ctrl := true
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns",
			OwnerReferences: []metav1.OwnerReference{{Kind: "StatefulSet", Name: owner, Controller: &ctrl}}},
		Status: corev1.PodStatus{Phase: phase, PodIP: "10.0.0.7"},
	}
	cs := corev1.ContainerStatus{Name: "redis"}
	if running {
		cs.State.Running = &corev1.ContainerStateRunning{StartedAt: metav1.NewTime(time.Unix(100, 0))}
	} else {
		cs.State.Waiting = &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff"}
	}
	p.Status.ContainerStatuses = []corev1.ContainerStatus{cs}
	return p
}

func TestOrdinal(t *testing.T) {
	sts := &appsv1.StatefulSet{ObjectMeta: metav1.ObjectMeta{Name: "cache"}}
	for _, tt := range []struct {
		pod   *corev1.Pod
		want  int
		valid bool
	}{
		{pod("cache-0", "cache", corev1.PodRunning, true), 0, true},
		{pod("cache-12", "cache", corev1.PodRunning, true), 12, true},
		{pod("cache-x", "cache", corev1.PodRunning, true), 0, false},
		{pod("cache-db-1", "cache-db", corev1.PodRunning, true), 0, false}, // another StatefulSet's pod
		{pod("cache-1", "other", corev1.PodRunning, true), 0, false},
	} {
		n, ok := ordinal(sts, tt.pod)
		assert.Equal(t, tt.valid, ok, tt.pod.Name)
		assert.Equal(t, tt.want, n, tt.pod.Name)
	}
}

func TestPodRunning(t *testing.T) {
	assert.True(t, PodRunning(pod("c-0", "c", corev1.PodRunning, true)))
	assert.False(t, PodRunning(pod("c-0", "c", corev1.PodRunning, false)), "container in back-off")
	assert.False(t, PodRunning(pod("c-0", "c", corev1.PodPending, true)))
	deleting := pod("c-0", "c", corev1.PodRunning, true)
	deleting.DeletionTimestamp = &metav1.Time{Time: time.Now()}
	assert.True(t, PodRunning(deleting), "being deleted, still running: observed (and switched over if master)")
	deleting.DeletionTimestamp = &metav1.Time{Time: time.Now().Add(-StopSlack - time.Second)}
	assert.False(t, PodRunning(deleting), "past its grace period: killed, whatever the last status said")
	noIP := pod("c-0", "c", corev1.PodRunning, true)
	noIP.Status.PodIP = ""
	assert.False(t, PodRunning(noIP))
}
