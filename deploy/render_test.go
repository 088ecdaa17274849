// Package deploy_test checks the shipped manifests: rendered as a user
// renders them (kustomize, helm), statically here, and applied to a real
// control plane in install_test.go.
package deploy_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
)

// Tool versions: hack/tools.sh installs them with go install.
const (
	kustomizeBin = "kustomize-v5.7.1"
	helmBin      = "helm-v3.22.0"
	chartDir     = "helm/redis-autoscaler"
)

func tool(t testing.TB, name string) string {
	t.Helper()
	dir := os.Getenv("TOOLS_BIN_DIR")
	if dir == "" {
		home, err := os.UserCacheDir()
		require.NoError(t, err)
		dir = filepath.Join(home, "redis-autoscaler", "tools", "bin")
	}
	p := filepath.Join(dir, name)
	if _, err := os.Stat(p); err != nil {
		out, err := exec.Command("../hack/tools.sh").CombinedOutput()
		require.NoErrorf(t, err, "hack/tools.sh: %s", out)
	}
	return p
}

// variant is one way to install: a kustomization (base plus components)
// or the chart with values.
type variant struct {
	name       string
	resources  []string // kustomize resources, relative to deploy/
	components []string
	helmSets   []string // helm --set; nil: not the chart
}

var bundleVariants = []variant{
	{name: "base", resources: []string{"base"}},
	{name: "base+monitoring", resources: []string{"base"}, components: []string{"components/monitoring"}},
	{name: "base+cert-manager", resources: []string{"base"}, components: []string{"components/cert-manager"}},
	{name: "base+namespaced", resources: []string{"base"}, components: []string{"components/namespaced"}},
	{name: "base+redis-tls", resources: []string{"base"}, components: []string{"components/redis-tls"}},
	{name: "example", resources: []string{"examples/redis-group"}},
	{name: "example+tls", resources: []string{"examples/redis-group"}, components: []string{"examples/redis-group/tls"}},
}

var chartVariants = []variant{
	{name: "chart", helmSets: []string{}},
	{name: "chart+everything", helmSets: []string{"monitoring.enabled=true", "exampleGroup.enabled=true", "redis.tls.enabled=true"}},
	{name: "chart+cert-manager", helmSets: []string{"adapter.certificate.mode=cert-manager"}},
	{name: "chart+namespaced", helmSets: []string{"scaler.watchNamespace=redis", "exporter.watchNamespace=redis"}},
}

func render(t testing.TB, v variant) []*unstructured.Unstructured {
	t.Helper()
	var out []byte
	var err error
	if v.helmSets != nil {
		args := []string{"template", "redis-autoscaler", chartDir, "--namespace", "redis-autoscaler", "--include-crds"}
		for _, s := range v.helmSets {
			args = append(args, "--set", s)
		}
		out, err = exec.Command(tool(t, helmBin), args...).Output()
	} else {
		out, err = kustomize(t, v)
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		t.Fatalf("render %s: %v\n%s", v.name, err, ee.Stderr)
	}
	require.NoError(t, err)
	return decodeAll(t, out)
}

// kustomize builds a kustomization of the variant, written in a
// directory under deploy/ (kustomize loads only below its root).
func kustomize(t testing.TB, v variant) ([]byte, error) {
	if len(v.components) == 0 && len(v.resources) == 1 {
		return exec.Command(tool(t, kustomizeBin), "build", v.resources[0]).Output()
	}
	dir, err := os.MkdirTemp(".", ".render-")
	require.NoError(t, err)
	defer os.RemoveAll(dir)
	var b strings.Builder
	b.WriteString("apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n")
	for _, r := range v.resources {
		fmt.Fprintf(&b, "  - ../%s\n", r)
	}
	b.WriteString("components:\n")
	for _, c := range v.components {
		fmt.Fprintf(&b, "  - ../%s\n", c)
	}
	require.NoError(t, os.WriteFile(filepath.Join(dir, "kustomization.yaml"), []byte(b.String()), 0o644))
	return exec.Command(tool(t, kustomizeBin), "build", dir).Output()
}

func decodeAll(t testing.TB, b []byte) []*unstructured.Unstructured {
	t.Helper()
	var objs []*unstructured.Unstructured
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(b), 4096)
	for {
		obj := &unstructured.Unstructured{}
		err := dec.Decode(&obj.Object)
		if errors.Is(err, io.EOF) {
			return objs
		}
		require.NoError(t, err)
		if len(obj.Object) > 0 {
			objs = append(objs, obj)
		}
	}
}

func key(o *unstructured.Unstructured) string {
	return o.GetKind() + " " + o.GetNamespace() + "/" + o.GetName()
}
