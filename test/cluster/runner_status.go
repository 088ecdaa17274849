package cluster

import (
	"context"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// updateStatus writes the status a kubelet would report, only when it
// changed. A conflict is not an error: the informer delivers the newer pod
// and the pod is synced again.
func (r *PodRunner) updateStatus(ctx context.Context, pod *corev1.Pod, st *podState) error {
	status := r.podStatus(pod, st)
	if apiequality.Semantic.DeepEqual(pod.Status, status) {
		return nil
	}
	updated := pod.DeepCopy()
	updated.Status = status
	_, err := r.client.CoreV1().Pods(pod.Namespace).UpdateStatus(ctx, updated, metav1.UpdateOptions{})
	if apierrors.IsConflict(err) || apierrors.IsNotFound(err) {
		return nil
	}
	return err
}

// podStatus derives the pod status from the container processes. Fields the
// runner does not own (qosClass, ...) are kept.
func (r *PodRunner) podStatus(pod *corev1.Pod, st *podState) corev1.PodStatus {
	st.mu.Lock()
	defer st.mu.Unlock()
	s := *pod.Status.DeepCopy()
	s.HostIP, s.HostIPs = HostIP, []corev1.HostIP{{IP: HostIP}}
	s.PodIP, s.PodIPs = st.ip, []corev1.PodIP{{IP: st.ip}}
	if s.StartTime == nil {
		t := metaTime(st.startTime)
		s.StartTime = &t
	}
	s.InitContainerStatuses = nil
	for _, c := range pod.Spec.InitContainers {
		// Init containers are not run (no runtime); report them done so
		// the pod can proceed, as if each had succeeded.
		done := metaTime(st.startTime)
		s.InitContainerStatuses = append(s.InitContainerStatuses, corev1.ContainerStatus{
			Name: c.Name, Image: c.Image, ImageID: imageID(c.Image), Ready: true,
			State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{
				Reason: "Completed", StartedAt: done, FinishedAt: done}},
		})
	}
	s.ContainerStatuses = nil
	var notReady []string
	allStarted, allTerminated, anyFailed := true, true, false
	for _, c := range st.containers {
		running := c.proc != nil && !c.proc.exited()
		started := running
		cs := corev1.ContainerStatus{
			Name: c.spec.Name, Image: c.spec.Image, ImageID: imageID(c.spec.Image),
			RestartCount: c.restartCount, Ready: running && c.ready, Started: &started,
		}
		switch {
		case running:
			cs.ContainerID = containerID(c.proc)
			cs.State.Running = &corev1.ContainerStateRunning{StartedAt: metaTime(c.startedAt)}
		case c.terminated != nil:
			cs.ContainerID = c.terminated.ContainerID
			cs.State.Terminated = c.terminated
			anyFailed = anyFailed || c.terminated.ExitCode != 0
		default:
			cs.State.Waiting = &corev1.ContainerStateWaiting{Reason: c.waiting, Message: c.waitingMsg}
		}
		if c.last != nil {
			cs.LastTerminationState.Terminated = c.last
		}
		if !cs.Ready {
			notReady = append(notReady, c.spec.Name)
		}
		allStarted = allStarted && (c.everStarted || c.terminated != nil)
		allTerminated = allTerminated && c.terminated != nil
		s.ContainerStatuses = append(s.ContainerStatuses, cs)
	}
	switch {
	case allTerminated && anyFailed:
		s.Phase = corev1.PodFailed
	case allTerminated:
		s.Phase = corev1.PodSucceeded
	case allStarted:
		s.Phase = corev1.PodRunning
	default:
		s.Phase = corev1.PodPending
	}
	ready := corev1.ConditionTrue
	reason, msg := "", ""
	if len(notReady) > 0 {
		ready = corev1.ConditionFalse
		reason = "ContainersNotReady"
		msg = fmt.Sprintf("containers with unready status: [%s]", strings.Join(notReady, " "))
	}
	old := pod.Status.Conditions
	s.Conditions = []corev1.PodCondition{
		condition(old, corev1.PodReadyToStartContainers, corev1.ConditionTrue, "", ""),
		condition(old, corev1.PodInitialized, corev1.ConditionTrue, "", ""),
		condition(old, corev1.PodReady, ready, reason, msg),
		condition(old, corev1.ContainersReady, ready, reason, msg),
		condition(old, corev1.PodScheduled, corev1.ConditionTrue, "", ""),
	}
	return s
}

// condition keeps lastTransitionTime while the status is unchanged, so
// an unchanged pod produces an identical status and no write.
func condition(old []corev1.PodCondition, t corev1.PodConditionType, s corev1.ConditionStatus, reason, msg string) corev1.PodCondition {
	c := corev1.PodCondition{Type: t, Status: s, Reason: reason, Message: msg, LastTransitionTime: metaTime(time.Now())}
	for _, o := range old {
		if o.Type == t && o.Status == s {
			c.LastTransitionTime = o.LastTransitionTime
			c.ObservedGeneration = o.ObservedGeneration
		}
	}
	return c
}

// metaTime truncates to what the API stores (RFC 3339 seconds); without it
// every comparison with the stored status would differ and loop.
func metaTime(t time.Time) metav1.Time { return metav1.NewTime(t).Rfc3339Copy() }

func imageID(image string) string { return "test-cluster://" + image }
