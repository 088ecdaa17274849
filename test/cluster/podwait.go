package cluster

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
)

// WaitPodsReady waits until every pod matching selector in namespace is
// Running and Ready (and at least want exist). On timeout the error says
// why each pod that is not ready is not: the kubelet's waiting and
// termination reasons (ErrImageNeverPull, CrashLoopBackOff with the exit
// code, ...) and the pod's last warning events, so a failing test shows
// what `kubectl describe pod` would.
func (c *Cluster) WaitPodsReady(ctx context.Context, namespace, selector string, want int, timeout time.Duration) error {
	var pods []corev1.Pod
	err := wait.PollUntilContextTimeout(ctx, pollInterval, timeout, true, func(ctx context.Context) (bool, error) {
		list, err := c.Client.CoreV1().Pods(namespace).List(ctx, metav1.ListOptions{LabelSelector: selector})
		if err != nil {
			return false, nil
		}
		pods = list.Items
		if len(pods) < want {
			return false, nil
		}
		for i := range pods {
			if !runningReady(&pods[i]) {
				return false, nil
			}
		}
		return true, nil
	})
	if err == nil {
		return nil
	}
	var why []string
	for i := range pods {
		if !runningReady(&pods[i]) {
			why = append(why, c.PodProblem(ctx, &pods[i]))
		}
	}
	return fmt.Errorf("pods %q in %s not ready after %v (%d of %d wanted exist): %w\n%s",
		selector, namespace, timeout, len(pods), want, err, strings.Join(why, "\n"))
}

// runningReady: Running, not being deleted, and Ready (PodReady).
func runningReady(p *corev1.Pod) bool {
	return p.Status.Phase == corev1.PodRunning && p.DeletionTimestamp == nil && PodReady(p)
}

// PodProblem describes why a pod is not ready, from its status and its
// warning events.
func (c *Cluster) PodProblem(ctx context.Context, p *corev1.Pod) string {
	parts := []string{fmt.Sprintf("%s/%s: phase %s", p.Namespace, p.Name, p.Status.Phase)}
	for _, cond := range p.Status.Conditions {
		if cond.Status != corev1.ConditionTrue && cond.Message != "" {
			parts = append(parts, fmt.Sprintf("%s: %s", cond.Type, cond.Message))
		}
	}
	statuses := append(append([]corev1.ContainerStatus(nil), p.Status.InitContainerStatuses...), p.Status.ContainerStatuses...)
	for _, s := range statuses {
		switch {
		case s.State.Waiting != nil:
			parts = append(parts, fmt.Sprintf("container %s waiting: %s: %s", s.Name, s.State.Waiting.Reason, s.State.Waiting.Message))
		case s.State.Terminated != nil:
			parts = append(parts, fmt.Sprintf("container %s terminated: %s (exit %d): %s", s.Name, s.State.Terminated.Reason, s.State.Terminated.ExitCode, s.State.Terminated.Message))
		case !s.Ready:
			parts = append(parts, fmt.Sprintf("container %s running, not ready", s.Name))
		}
		if t := s.LastTerminationState.Terminated; t != nil {
			parts = append(parts, fmt.Sprintf("container %s last exit: %s (exit %d), %d restarts", s.Name, t.Reason, t.ExitCode, s.RestartCount))
		}
	}
	events, err := c.Client.CoreV1().Events(p.Namespace).List(ctx, metav1.ListOptions{
		FieldSelector: "involvedObject.uid=" + string(p.UID) + ",type=Warning",
	})
	if err == nil {
		sort.Slice(events.Items, func(i, j int) bool { return events.Items[i].LastTimestamp.Before(&events.Items[j].LastTimestamp) })
		if n := len(events.Items); n > 3 {
			events.Items = events.Items[n-3:]
		}
		for _, e := range events.Items {
			parts = append(parts, fmt.Sprintf("event %s: %s", e.Reason, e.Message))
		}
	}
	return strings.Join(parts, "; ")
}
