// Package cluster runs a real, local Kubernetes control plane for tests and
// demos: etcd, kube-apiserver and kube-controller-manager as host processes,
// plus a pod runner that plays scheduler and kubelet for one node by running
// redis-server (and this project's own binary) as host processes on
// per-pod loopback addresses.
//
// Use Start(t) for a cluster owned by one test, or Shared(t) with
//
//	func TestMain(m *testing.M) { cluster.Main(m) }
//
// for one cluster shared by a package's tests (each in its own Namespace).
// StartContext is the non-test entry point (see cmd/cluster, `make cluster`).
//
// There is no cluster DNS and no kube-proxy: Service names do not resolve
// and ClusterIPs do not route. Address pods by status.podIP (127.x.y.z).
// See README.md for what the pod runner does and does not emulate.
package cluster
