package cluster

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// HostIP is the node's address. Pods get their own 127.x.y.z addresses.
const HostIP = "127.0.0.1"

// createNode registers the single Node the pod runner plays kubelet for, with
// a Ready condition. No node-lifecycle controller runs, so nothing turns it
// NotReady later and no heartbeats are needed.
func (c *Cluster) createNode(ctx context.Context) error {
	nodes := c.Client.CoreV1().Nodes()
	node, err := nodes.Create(ctx, &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{
			Name:   c.NodeName,
			Labels: map[string]string{"kubernetes.io/hostname": c.NodeName, "kubernetes.io/os": "linux"},
		},
	}, metav1.CreateOptions{})
	if err != nil {
		return fmt.Errorf("create node: %w", err)
	}
	// TaintNodesByCondition admission adds node.kubernetes.io/not-ready on
	// create; the node-lifecycle controller would lift it, but does not run.
	node.Spec.Taints = nil
	if node, err = nodes.Update(ctx, node, metav1.UpdateOptions{}); err != nil {
		return fmt.Errorf("untaint node: %w", err)
	}
	now := metav1.Now()
	capacity := corev1.ResourceList{
		corev1.ResourceCPU:    resource.MustParse("8"),
		corev1.ResourceMemory: resource.MustParse("16Gi"),
		corev1.ResourcePods:   resource.MustParse("250"),
	}
	node.Status = corev1.NodeStatus{
		Capacity:    capacity,
		Allocatable: capacity,
		Phase:       corev1.NodeRunning,
		Conditions: []corev1.NodeCondition{{
			Type: corev1.NodeReady, Status: corev1.ConditionTrue,
			Reason: "KubeletReady", Message: "pod runner of test/cluster is ready",
			LastHeartbeatTime: now, LastTransitionTime: now,
		}},
		Addresses: []corev1.NodeAddress{
			{Type: corev1.NodeInternalIP, Address: HostIP},
			{Type: corev1.NodeHostName, Address: c.NodeName},
		},
		NodeInfo: corev1.NodeSystemInfo{
			KubeletVersion: KubeVersion, OperatingSystem: "linux", Architecture: "amd64",
			ContainerRuntimeVersion: "test-cluster://0",
		},
	}
	if _, err := nodes.UpdateStatus(ctx, node, metav1.UpdateOptions{}); err != nil {
		return fmt.Errorf("set node status: %w", err)
	}
	return nil
}
