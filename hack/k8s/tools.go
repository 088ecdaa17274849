//go:build tools

// Package tools pins the Kubernetes commands this module builds (the control
// plane, and the real node's kubelet, scheduler and kube-proxy, and kubectl for the
// tests that run a user's commands), so that
// `go mod tidy` keeps their whole dependency graph in go.mod/go.sum.
// Build them with hack/build-k8s.sh (or `make k8s-binaries`).
package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-proxy"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
	_ "k8s.io/kubernetes/cmd/kubectl"
	_ "k8s.io/kubernetes/cmd/kubelet"
)
