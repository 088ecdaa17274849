# Local Kubernetes control plane for tests and demos (test/cluster).
# Included by the top-level Makefile: `include hack/cluster.mk`.

# Directory of this file, so the targets work whatever includes it.
CLUSTER_MK_DIR := $(dir $(lastword $(MAKEFILE_LIST)))

# Extra flags for `make cluster`, e.g. CLUSTER_ARGS="-keep -debug".
CLUSTER_ARGS ?=
# The node: runner (the pod runner, default) or real (kubelet + containerd
# running the images, CNI bridge, kube-proxy, CoreDNS).
NODE ?= runner

.PHONY: k8s-binaries cluster node-deps

k8s-binaries: ## Install etcd/redis-server if missing and build kube-apiserver, kube-controller-manager, kube-scheduler, kubelet, kube-proxy, kubectl v1.34.4 and CoreDNS once into ~/.cache
	@$(CLUSTER_MK_DIR)build-k8s.sh
	@$(CLUSTER_MK_DIR)build-coredns.sh

node-deps: ## Install what a real node needs (containerd, runc, CNI plugins, iptables, conntrack, busybox-static) when missing
	@$(CLUSTER_MK_DIR)deps.sh

cluster: k8s-binaries node-deps ## Run a local control plane in the foreground, NODE=runner (pod runner) or NODE=real (kubelet, containerd, images); prints export KUBECONFIG=...; Ctrl-C stops all
	go run ./test/cluster/cmd/cluster -node $(NODE) $(CLUSTER_ARGS)
