package cluster

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// tokenTTLSeconds: long enough for `make cluster` sessions; tokens are not
// refreshed.
const tokenTTLSeconds = 24 * 60 * 60

// requestToken gets a ServiceAccount token through the TokenRequest API, as
// the kubelet does for projected tokens. When pod is set the token is bound
// to it and stops working once the pod is deleted.
func requestToken(ctx context.Context, client kubernetes.Interface, namespace, name string, pod *corev1.Pod) (string, error) {
	ttl := int64(tokenTTLSeconds)
	req := &authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: &ttl}}
	if pod != nil {
		req.Spec.BoundObjectRef = &authenticationv1.BoundObjectReference{
			Kind: "Pod", APIVersion: "v1", Name: pod.Name, UID: pod.UID,
		}
	}
	tr, err := client.CoreV1().ServiceAccounts(namespace).CreateToken(ctx, name, req, metav1.CreateOptions{})
	if err != nil {
		return "", fmt.Errorf("token for serviceaccount %s/%s: %w", namespace, name, err)
	}
	return tr.Status.Token, nil
}

// ServiceAccountConfig returns a client config that authenticates as the
// ServiceAccount, so tests can prove what its RBAC allows and denies.
func (c *Cluster) ServiceAccountConfig(ctx context.Context, namespace, name string) (*rest.Config, error) {
	token, err := requestToken(ctx, c.Client, namespace, name, nil)
	if err != nil {
		return nil, err
	}
	return tokenConfig(c.Config, token), nil
}

// ServiceAccountKubeconfig writes a kubeconfig for the ServiceAccount and
// returns its path, for processes that take --kubeconfig or KUBECONFIG.
func (c *Cluster) ServiceAccountKubeconfig(ctx context.Context, namespace, name string) (string, error) {
	cfg, err := c.ServiceAccountConfig(ctx, namespace, name)
	if err != nil {
		return "", err
	}
	dir := filepath.Join(c.Dir, "serviceaccounts")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	path := filepath.Join(dir, namespace+"_"+name+".kubeconfig")
	return path, writeKubeconfig(path, "system:serviceaccount:"+namespace+":"+name, namespace, cfg)
}
