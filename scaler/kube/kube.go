// Package kube holds what every program of this module needs to talk to
// the API server: the kubeconfig (or in-cluster config) and the scheme of
// the types they read. The scaler and the backup command share it, so the
// backup command needs nothing of the scaler's reconcilers.
package kube

import (
	"fmt"

	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/redis-autoscaler/redis-autoscaler/scaler/api/v1alpha1"
)

// RestConfig loads the kubeconfig (or the in-cluster config) and the
// namespace kubectl would use with it: the pod's own in a cluster, else
// the current context's, else "default".
func RestConfig(kubeconfig string) (*rest.Config, string, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.ExplicitPath = kubeconfig
	cc := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{})
	cfg, err := cc.ClientConfig()
	if err != nil {
		return nil, "", err
	}
	ns, _, err := cc.Namespace()
	if err != nil {
		return nil, "", fmt.Errorf("namespace of the kubeconfig context: %w", err)
	}
	return cfg, ns, nil
}

// Scheme holds the types the scaler and the backup command read: the
// built-in kinds and this module's API.
func Scheme() *runtime.Scheme {
	s := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(s); err != nil {
		panic(err)
	}
	if err := v1alpha1.AddToScheme(s); err != nil {
		panic(err)
	}
	return s
}
