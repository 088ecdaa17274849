package e2e

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/redis-autoscaler/redis-autoscaler/test/manifests"
	"github.com/redis-autoscaler/redis-autoscaler/test/promtest"
)

// Prometheus' identity in the cluster, as a monitoring stack would have it.
const (
	promNamespace = "monitoring"
	promAccount   = "prometheus"
)

// StartPrometheus runs Debian's Prometheus as the monitoring component
// expects a Prometheus Operator's to be set up: it scrapes what the
// shipped ServiceMonitors select (deploy/components/monitoring, every
// second here), authenticates to the adapter with a ServiceAccount token
// bound to the shipped redis-autoscaler-metrics-reader ClusterRole,
// verifies the adapter's certificate with the CA from its Secret, and
// evaluates dashboards/alerts.yaml. It returns Prometheus' URL.
func (e *Env) StartPrometheus(ctx context.Context, t testing.TB, bin string) string {
	t.Helper()
	dir := t.TempDir()
	cs := e.C.Client
	must := func(err error, what string) {
		t.Helper()
		if err != nil && !apierrors.IsAlreadyExists(err) {
			t.Fatalf("%s: %v", what, err)
		}
	}
	_, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: promNamespace}}, metav1.CreateOptions{})
	must(err, "namespace")
	must(e.C.WaitServiceAccount(ctx, promNamespace), "default ServiceAccount")
	_, err = cs.CoreV1().ServiceAccounts(promNamespace).Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: promAccount}}, metav1.CreateOptions{})
	must(err, "ServiceAccount")

	// The ClusterRole exactly as the component ships it.
	component, err := os.ReadFile(filepath.Join(manifests.Root(), "deploy", "components", "monitoring", "metrics-reader.yaml"))
	must(err, "read metrics-reader.yaml")
	objs, err := manifests.Decode(component)
	must(err, "decode metrics-reader.yaml")
	must(e.C.ServerSideApply(ctx, objs, false), "apply metrics-reader.yaml")
	_, err = cs.RbacV1().ClusterRoleBindings().Create(ctx, &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "prometheus-redis-autoscaler-metrics-reader"},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "redis-autoscaler-metrics-reader"},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Namespace: promNamespace, Name: promAccount}},
	}, metav1.CreateOptions{})
	must(err, "ClusterRoleBinding")

	tok, err := cs.CoreV1().ServiceAccounts(promNamespace).CreateToken(ctx, promAccount, &authenticationv1.TokenRequest{
		Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: ptr.To[int64](3600)},
	}, metav1.CreateOptions{})
	must(err, "token")
	tokenFile := filepath.Join(dir, "token")
	must(os.WriteFile(tokenFile, []byte(tok.Status.Token), 0o600), "write token")

	secret, err := cs.CoreV1().Secrets(System).Get(ctx, "redis-autoscaler-adapter-certs", metav1.GetOptions{})
	must(err, "adapter certificate Secret")
	caFile := filepath.Join(dir, "adapter-ca.crt")
	must(os.WriteFile(caFile, secret.Data["ca.crt"], 0o600), "write CA")

	monitors, err := os.ReadFile(filepath.Join(manifests.Root(), "deploy", "components", "monitoring", "servicemonitors.yaml"))
	must(err, "read servicemonitors.yaml")
	scrape, err := promtest.ScrapeConfigsFromServiceMonitors(monitors, promtest.ServiceMonitorEnv{
		DiscoveryURL: promtest.EndpointSliceDiscovery(t, cs), TokenFile: tokenFile,
		Secrets: map[string]string{"redis-autoscaler-adapter-certs/ca.crt": caFile},
	})
	must(err, "scrape configs")
	rules := filepath.Join(manifests.Root(), "dashboards", "alerts.yaml")
	url := promtest.StartWithScrapeConfigs(t, bin, scrape, rules)
	if e.opts.Progress != nil {
		e.opts.Progress("Prometheus at %s scrapes what the shipped ServiceMonitors select", url)
	}
	return url
}
