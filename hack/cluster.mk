# Local Kubernetes control plane for tests and demos (test/cluster).
# Included by the top-level Makefile: `include hack/cluster.mk`.

# Directory of this file, so the targets work whatever includes it.
CLUSTER_MK_DIR := $(dir $(lastword $(MAKEFILE_LIST)))

# Extra flags for `make cluster`, e.g. CLUSTER_ARGS="-keep -debug".
CLUSTER_ARGS ?=

.PHONY: k8s-binaries cluster

k8s-binaries: ## Install etcd/redis-server if missing and build kube-apiserver + kube-controller-manager v1.34.4 once into ~/.cache
	@$(CLUSTER_MK_DIR)build-k8s.sh

cluster: k8s-binaries ## Run a local control plane + pod runner in the foreground (prints export KUBECONFIG=...; Ctrl-C stops all)
	go run ./test/cluster/cmd/cluster $(CLUSTER_ARGS)
