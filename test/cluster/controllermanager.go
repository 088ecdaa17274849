package cluster

import (
	"path/filepath"
	"strings"
)

// Controllers lists the kube-controller-manager controllers the cluster runs:
// what StatefulSets, Deployments, HPAs, namespaces and ServiceAccounts need,
// and nothing that would fight the pod runner. Left out on purpose:
// endpoints/endpointslice (the API server refuses the loopback pod IPs they
// would write), node-lifecycle (it would mark the node NotReady: nothing
// posts kubelet heartbeats), persistentvolume-binder (no provisioner).
var Controllers = []string{
	"horizontal-pod-autoscaler-controller",
	"statefulset-controller",
	"deployment-controller",
	"replicaset-controller",
	"garbage-collector-controller",
	"serviceaccount-controller",
	"serviceaccount-token-controller",
	"namespace-controller",
	// Builds the admin/edit/view ClusterRoles from their aggregated parts,
	// which RBAC tests bind to.
	"clusterrole-aggregation-controller",
	// Publishes kube-root-ca.crt into every namespace, as real pods expect.
	"root-ca-certificate-publisher-controller",
	// Removes the pvc-protection finalizer, or deleting a PVC never ends.
	"persistentvolumeclaim-protection-controller",
	"disruption-controller",
	"pod-garbage-collector-controller",
	"job-controller",
}

// RealNodeControllers are added on a real node: its pod IPs are routable,
// so Endpoints and EndpointSlices are written as on a real cluster; the
// node-lifecycle controller lifts the not-ready taint from the kubelet's
// Node (and taints it if the kubelet stops); PVCs are bound to the volumes
// the harness provisions.
var RealNodeControllers = []string{
	"endpoints-controller",
	"endpointslice-controller",
	"endpointslice-mirroring-controller",
	"node-lifecycle-controller",
	"taint-eviction-controller",
	"persistentvolume-binder-controller",
}

// HPASyncPeriod is how often the HPA controller evaluates every HPA (15s on
// a real cluster); short so tests see decisions quickly.
const HPASyncPeriod = "2s"

func (c *Cluster) startControllerManager(f apiserverCerts) error {
	// The controller manager's own identity, as on a real cluster: with
	// --use-service-account-credentials each controller then acts as its own
	// ServiceAccount under the bootstrap RBAC policy.
	cfg, err := c.clientCertConfig("system:kube-controller-manager")
	if err != nil {
		return err
	}
	kubeconfig := filepath.Join(c.Dir, "kube-controller-manager.kubeconfig")
	if err := writeKubeconfig(kubeconfig, "kube-controller-manager", "kube-system", cfg); err != nil {
		return err
	}
	controllers := Controllers
	if c.node != nil {
		controllers = append(append([]string(nil), Controllers...), RealNodeControllers...)
	}
	args := []string{
		"--kubeconfig=" + kubeconfig,
		"--controllers=" + strings.Join(controllers, ","),
		"--use-service-account-credentials=true",
		"--service-account-private-key-file=" + f.saPriv,
		"--root-ca-file=" + f.caFile,
		"--cluster-name=local",
		"--service-cluster-ip-range=" + c.serviceCIDRFor(),
		"--leader-elect=false",
		"--secure-port=0",
		"--horizontal-pod-autoscaler-sync-period=" + HPASyncPeriod,
		"--kube-api-qps=100",
		"--kube-api-burst=200",
		"--v=1",
	}
	args = append(args, c.opts.ExtraControllerManagerArgs...)
	p, err := startProcess(processSpec{
		Name:    "kube-controller-manager",
		Path:    c.bins.KubeControllerManager,
		Args:    args,
		LogFile: filepath.Join(c.Dir, "kube-controller-manager.log"),
	})
	if err != nil {
		return err
	}
	c.procs.add(p)
	c.controllerManager = p
	return nil
}
