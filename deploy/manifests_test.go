package deploy_test

import (
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	unstr "k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/yaml"

	"github.com/redis-autoscaler/redis-autoscaler/dashboards/promrule"
	"github.com/redis-autoscaler/redis-autoscaler/test/manifests"
)

func allVariants() []variant { return append(append([]variant{}, bundleVariants...), chartVariants...) }

// No rule of any shipped Role or ClusterRole uses a wildcard verb,
// resource, group or URL.
func TestRBACHasNoWildcard(t *testing.T) {
	t.Parallel()
	for _, v := range allVariants() {
		for _, o := range render(t, v) {
			if o.GetKind() != "Role" && o.GetKind() != "ClusterRole" {
				continue
			}
			rules, _, _ := unstr.NestedSlice(o.Object, "rules")
			require.NotEmptyf(t, rules, "%s: %s has no rules", v.Name, key(o))
			for i, r := range rules {
				rm := r.(map[string]any)
				for _, field := range []string{"verbs", "resources", "apiGroups", "nonResourceURLs", "resourceNames"} {
					vals, _, _ := unstr.NestedStringSlice(rm, field)
					for _, s := range vals {
						assert.NotContainsf(t, s, "*", "%s: %s rule %d: wildcard in %s", v.Name, key(o), i, field)
					}
				}
			}
		}
	}
}

// rbacRules maps each Role/ClusterRole/binding to its normalized rules or
// roleRef+subjects, to compare two renderings.
func rbacSummary(objs []*unstr.Unstructured) map[string]string {
	out := map[string]string{}
	for _, o := range objs {
		switch o.GetKind() {
		case "Role", "ClusterRole":
			rules, _, _ := unstr.NestedSlice(o.Object, "rules")
			b, _ := yaml.Marshal(rules)
			out[key(o)] = string(b)
		case "RoleBinding", "ClusterRoleBinding":
			ref, _, _ := unstr.NestedMap(o.Object, "roleRef")
			subj, _, _ := unstr.NestedSlice(o.Object, "subjects")
			b, _ := yaml.Marshal(map[string]any{"roleRef": ref, "subjects": subj})
			out[key(o)] = string(b)
		}
	}
	return out
}

func keys(objs []*unstr.Unstructured, skipKinds ...string) []string {
	var out []string
	for _, o := range objs {
		skip := false
		for _, k := range skipKinds {
			skip = skip || o.GetKind() == k
		}
		if !skip {
			out = append(out, key(o))
		}
	}
	sort.Strings(out)
	return out
}

// The chart and the bundle install the same objects (kind, namespace,
// name) with the same RBAC, with defaults and in each matching mode. The
// chart leaves the release namespace to `helm install --create-namespace`.
func TestChartMatchesBundle(t *testing.T) {
	t.Parallel()
	pairs := []struct{ bundle, chart variant }{
		{bundleVariants[0], chartVariants[0]},
		{bundleVariants[2], chartVariants[2]},
		{bundleVariants[3], chartVariants[3]},
	}
	for _, p := range pairs {
		b, c := render(t, p.bundle), render(t, p.chart)
		require.Equal(t, keys(b, "Namespace"), keys(c), "%s vs %s: objects differ", p.bundle.Name, p.chart.Name)
		require.Equal(t, rbacSummary(b), rbacSummary(c), "%s vs %s: RBAC differs", p.bundle.Name, p.chart.Name)
		// Same containers: image and args.
		require.Equal(t, containers(t, b), containers(t, c), "%s vs %s: containers differ", p.bundle.Name, p.chart.Name)
	}
}

func containers(t *testing.T, objs []*unstr.Unstructured) map[string]string {
	out := map[string]string{}
	for _, o := range objs {
		spec := podSpec(t, o)
		if spec == nil {
			continue
		}
		for _, c := range spec.Containers {
			out[key(o)+" "+c.Name] = c.Image + " " + strings.Join(c.Args, " ")
		}
	}
	return out
}

func podSpec(t *testing.T, o *unstr.Unstructured) *corev1.PodSpec {
	path := []string{"spec", "template", "spec"}
	switch o.GetKind() {
	case "Deployment", "StatefulSet", "DaemonSet":
	case "CronJob":
		path = []string{"spec", "jobTemplate", "spec", "template", "spec"}
	default:
		return nil
	}
	tmpl, ok, err := unstr.NestedMap(o.Object, path...)
	require.NoError(t, err)
	require.True(t, ok)
	var spec corev1.PodSpec
	require.NoError(t, runtime.DefaultUnstructuredConverter.FromUnstructured(tmpl, &spec))
	return &spec
}

// The chart's example cluster is the bundle's: the same objects in the
// same namespace, the same containers (the chart adds the password
// Secret the bundle's README has the user create).
func TestChartExampleClusterMatchesBundle(t *testing.T) {
	t.Parallel()
	inRedis := func(objs []*unstr.Unstructured) []*unstr.Unstructured {
		var out []*unstr.Unstructured
		for _, o := range objs {
			if o.GetNamespace() == "redis" && o.GetKind() != "Secret" {
				out = append(out, o)
			}
		}
		return out
	}
	b, c := inRedis(render(t, bundleVariants[9])), inRedis(render(t, chartVariants[6]))
	require.NotEmpty(t, b)
	require.Equal(t, keys(b), keys(c))
	require.Equal(t, containers(t, b), containers(t, c))
	for i := range b {
		if b[i].GetKind() == "ConfigMap" || b[i].GetKind() == "RedisCluster" || b[i].GetKind() == "HorizontalPodAutoscaler" {
			for _, o := range c {
				if key(o) == key(b[i]) {
					require.Equal(t, b[i].Object["spec"], o.Object["spec"], key(o))
					require.Equal(t, b[i].Object["data"], o.Object["data"], key(o))
				}
			}
		}
	}
}

// The chart ships the generated CRDs unchanged.
func TestChartCRDIsGenerated(t *testing.T) {
	t.Parallel()
	for _, f := range []string{"redisautoscaler.io_redisreplicationgroups.yaml", "redisautoscaler.io_redisclusters.yaml"} {
		want, err := os.ReadFile("crd/" + f)
		require.NoError(t, err)
		got, err := os.ReadFile(chartDir + "/crds/" + f)
		require.NoError(t, err)
		require.Equal(t, string(want), string(got), "copy deploy/crd into the chart's crds/ (make manifests)")
	}
}

func TestHelmLint(t *testing.T) {
	t.Parallel()
	out, err := exec.Command(tool(t, manifests.HelmBin), "lint", "--strict", chartDir).CombinedOutput()
	require.NoError(t, err, "%s", out)
	// The schema refuses what the templates do not understand.
	out, err = exec.Command(tool(t, manifests.HelmBin), "template", "x", chartDir, "--set", "adapter.certificate.mode=insecure").CombinedOutput()
	require.Error(t, err)
	require.Contains(t, string(out), "adapter/certificate/mode")
}

// Every container of every variant is hardened and bounded: non-root,
// read-only root filesystem, no privilege escalation, all capabilities
// dropped, RuntimeDefault seccomp; probes (but for jobs); a memory request
// and limit.
func TestContainersHardened(t *testing.T) {
	t.Parallel()
	for _, v := range allVariants() {
		for _, o := range render(t, v) {
			spec := podSpec(t, o)
			if spec == nil {
				continue
			}
			for _, c := range spec.Containers {
				where := v.Name + ": " + key(o) + " " + c.Name
				sc := c.SecurityContext
				require.NotNil(t, sc, where)
				assert.Equal(t, ptr.To(false), sc.AllowPrivilegeEscalation, where)
				assert.Equal(t, ptr.To(true), sc.ReadOnlyRootFilesystem, where)
				assert.Equal(t, ptr.To(true), sc.RunAsNonRoot, where)
				if assert.NotNil(t, sc.Capabilities, where) {
					assert.Equal(t, []corev1.Capability{"ALL"}, sc.Capabilities.Drop, where)
				}
				if assert.NotNil(t, sc.SeccompProfile, where) {
					assert.Equal(t, corev1.SeccompProfileTypeRuntimeDefault, sc.SeccompProfile.Type, where)
				}
				if o.GetKind() != "CronJob" { // a job runs to completion: no probes
					assert.NotNil(t, c.ReadinessProbe, where)
					assert.NotNil(t, c.LivenessProbe, where)
				}
				assert.False(t, c.Resources.Requests.Memory().IsZero(), where)
				assert.False(t, c.Resources.Limits.Memory().IsZero(), where)
			}
		}
	}
}

// The PrometheusRule of the monitoring component and of the chart carry
// exactly the rule groups of dashboards/alerts.yaml, as `make alerts`
// writes them.
func TestPrometheusRuleMatchesAlerts(t *testing.T) {
	t.Parallel()
	src, err := os.ReadFile("../" + promrule.Source)
	require.NoError(t, err)
	comp, tmpl, err := promrule.Render(string(src))
	require.NoError(t, err)
	for path, want := range map[string]string{promrule.Component: comp, promrule.Chart: tmpl} {
		got, err := os.ReadFile("../" + path)
		require.NoError(t, err)
		require.Equal(t, want, string(got), "%s drifted from dashboards/alerts.yaml: run make alerts", path)
	}

	b, err := os.ReadFile("../dashboards/alerts.yaml")
	require.NoError(t, err)
	var alerts map[string]any
	require.NoError(t, yaml.Unmarshal(b, &alerts))
	for _, v := range []variant{bundleVariants[1], chartVariants[1]} {
		found := false
		for _, o := range render(t, v) {
			if o.GetKind() != "PrometheusRule" {
				continue
			}
			found = true
			groups, _, _ := unstr.NestedSlice(o.Object, "spec", "groups")
			require.Equal(t, alerts["groups"], groups, "%s: PrometheusRule drifted from dashboards/alerts.yaml", v.Name)
		}
		require.True(t, found, v.Name)
	}
}

// The example group's password is never written in a ConfigMap, an
// argument or a plain env value: Redis reads it from the mounted Secret.
func TestExamplePasswordOnlyInSecrets(t *testing.T) {
	t.Parallel()
	for _, v := range []variant{bundleVariants[5], bundleVariants[6], bundleVariants[9], chartVariants[1], chartVariants[6]} {
		for _, o := range render(t, v) {
			if o.GetKind() == "ConfigMap" {
				data, _, _ := unstr.NestedStringMap(o.Object, "data")
				for k, text := range data {
					for _, line := range strings.Split(text, "\n") {
						f := strings.Fields(line)
						if len(f) > 1 && (f[0] == "requirepass" || f[0] == "masterauth") {
							t.Errorf("%s: %s %s sets %s", v.Name, key(o), k, f[0])
						}
					}
				}
			}
			spec := podSpec(t, o)
			if spec == nil {
				continue
			}
			for _, c := range spec.Containers {
				joined := strings.Join(append(c.Command, c.Args...), " ")
				assert.NotContains(t, joined, "requirepass", v.Name)
				for _, e := range c.Env {
					if strings.Contains(strings.ToLower(e.Name), "pass") || strings.Contains(e.Name, "AUTH") {
						assert.NotNilf(t, e.ValueFrom, "%s: %s env %s is a literal", v.Name, key(o), e.Name)
					}
				}
			}
		}
	}
}

// The scaler's shipped RBAC grants exactly what its +kubebuilder:rbac
// markers ask for (deploy/rbac/scaler/role.yaml, generated), split into a
// ClusterRole and a leader-election Role: nothing more, nothing missing.
func TestScalerRBACMatchesMarkers(t *testing.T) {
	t.Parallel()
	perms := func(objs []*unstr.Unstructured) []string {
		set := map[string]bool{}
		for _, o := range objs {
			if (o.GetKind() != "Role" && o.GetKind() != "ClusterRole") || !strings.HasPrefix(o.GetName(), "redis-autoscaler-scaler") {
				continue
			}
			rules, _, _ := unstr.NestedSlice(o.Object, "rules")
			for _, r := range rules {
				rm := r.(map[string]any)
				groups, _, _ := unstr.NestedStringSlice(rm, "apiGroups")
				res, _, _ := unstr.NestedStringSlice(rm, "resources")
				verbs, _, _ := unstr.NestedStringSlice(rm, "verbs")
				for _, g := range groups {
					for _, r := range res {
						for _, v := range verbs {
							set[g+"/"+r+":"+v] = true
						}
					}
				}
			}
		}
		var out []string
		for k := range set {
			out = append(out, k)
		}
		sort.Strings(out)
		return out
	}
	b, err := os.ReadFile("rbac/scaler/role.yaml")
	require.NoError(t, err)
	generated := perms(decodeAll(t, b))
	require.NotEmpty(t, generated)
	require.Equal(t, generated, perms(render(t, bundleVariants[0])))
}

// The monitoring component and the chart ship every dashboard as a
// ConfigMap for Grafana's sidecar, with the generated JSON.
func TestDashboardsShippedAsConfigMaps(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("../dashboards/*.json")
	require.NoError(t, err)
	require.Len(t, files, 2, "redis-overview and redis-autoscaling")
	for _, v := range []variant{bundleVariants[1], chartVariants[1]} {
		shipped := map[string]string{}
		for _, o := range render(t, v) {
			if o.GetKind() != "ConfigMap" || o.GetLabels()["grafana_dashboard"] != "1" {
				continue
			}
			data, _, _ := unstr.NestedStringMap(o.Object, "data")
			maps.Copy(shipped, data)
		}
		for _, f := range files {
			want, err := os.ReadFile(f)
			require.NoError(t, err)
			name := filepath.Base(f)
			require.Contains(t, shipped, name, v.Name)
			require.Equal(t, strings.TrimSpace(string(want)), strings.TrimSpace(shipped[name]), "%s: %s", v.Name, name)
		}
	}
}
