// Package manifests renders the shipped manifests as a user does: the
// kustomize bundle (deploy/base, components, examples) with kustomize and
// the chart with helm, both installed by hack/tools.sh at pinned versions.
// The deploy tests, the end-to-end tests and `make run` install what it
// renders.
package manifests

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
)

// Tool binaries hack/tools.sh installs.
const (
	KustomizeBin = "kustomize-v5.7.1"
	HelmBin      = "helm-v3.22.0"
)

// Root is the repository's root directory (from this file's location, so
// it works from any package's tests and from `go run`).
func Root() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// Tool returns the path of a tool binary, running hack/tools.sh when it is
// missing. TOOLS_BIN_DIR overrides the directory.
func Tool(name string) (string, error) {
	dir := os.Getenv("TOOLS_BIN_DIR")
	if dir == "" {
		home, err := os.UserCacheDir()
		if err != nil {
			return "", err
		}
		dir = filepath.Join(home, "redis-autoscaler", "tools", "bin")
	}
	p := filepath.Join(dir, name)
	if _, err := os.Stat(p); err != nil {
		cmd := exec.Command(filepath.Join(Root(), "hack", "tools.sh"))
		if out, err := cmd.CombinedOutput(); err != nil {
			return "", fmt.Errorf("hack/tools.sh: %v\n%s", err, out)
		}
	}
	return p, nil
}

// Variant is one way to install: kustomize resources plus components
// (paths relative to deploy/), or the chart with --set values.
type Variant struct {
	Name       string
	Resources  []string
	Components []string
	// HelmSets makes it the chart (deploy/helm/redis-autoscaler); nil:
	// kustomize.
	HelmSets []string
}

// Render returns the variant's objects in file order.
func Render(v Variant) ([]*unstructured.Unstructured, error) {
	var out []byte
	var err error
	if v.HelmSets != nil {
		helm, terr := Tool(HelmBin)
		if terr != nil {
			return nil, terr
		}
		args := []string{"template", "redis-autoscaler", filepath.Join(Root(), "deploy", "helm", "redis-autoscaler"),
			"--namespace", "redis-autoscaler", "--include-crds"}
		for _, s := range v.HelmSets {
			args = append(args, "--set", s)
		}
		out, err = exec.Command(helm, args...).Output()
	} else {
		out, err = kustomize(v)
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return nil, fmt.Errorf("render %s: %v\n%s", v.Name, err, ee.Stderr)
	}
	if err != nil {
		return nil, fmt.Errorf("render %s: %w", v.Name, err)
	}
	return Decode(out)
}

// kustomize builds the variant from a kustomization written under deploy/
// (kustomize loads only files below its root).
func kustomize(v Variant) ([]byte, error) {
	bin, err := Tool(KustomizeBin)
	if err != nil {
		return nil, err
	}
	deploy := filepath.Join(Root(), "deploy")
	if len(v.Components) == 0 && len(v.Resources) == 1 {
		return exec.Command(bin, "build", filepath.Join(deploy, v.Resources[0])).Output()
	}
	dir, err := os.MkdirTemp(deploy, ".render-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	var b strings.Builder
	b.WriteString("apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n")
	for _, r := range v.Resources {
		fmt.Fprintf(&b, "  - ../%s\n", r)
	}
	b.WriteString("components:\n")
	for _, c := range v.Components {
		fmt.Fprintf(&b, "  - ../%s\n", c)
	}
	if err := os.WriteFile(filepath.Join(dir, "kustomization.yaml"), []byte(b.String()), 0o644); err != nil {
		return nil, err
	}
	return exec.Command(bin, "build", dir).Output()
}

// Decode splits a multi-document YAML stream into objects.
func Decode(b []byte) ([]*unstructured.Unstructured, error) {
	var objs []*unstructured.Unstructured
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(b), 4096)
	for {
		obj := &unstructured.Unstructured{}
		err := dec.Decode(&obj.Object)
		if errors.Is(err, io.EOF) {
			return objs, nil
		}
		if err != nil {
			return nil, err
		}
		if len(obj.Object) > 0 {
			objs = append(objs, obj)
		}
	}
}

// Key names an object: "Kind namespace/name".
func Key(o *unstructured.Unstructured) string {
	return o.GetKind() + " " + o.GetNamespace() + "/" + o.GetName()
}

// Ordered puts Namespaces, then CRDs, first, as kubectl apply must.
func Ordered(objs []*unstructured.Unstructured) []*unstructured.Unstructured {
	rank := func(o *unstructured.Unstructured) int {
		switch o.GetKind() {
		case "Namespace":
			return 0
		case "CustomResourceDefinition":
			return 1
		}
		return 2
	}
	out := append([]*unstructured.Unstructured{}, objs...)
	sort.SliceStable(out, func(i, j int) bool { return rank(out[i]) < rank(out[j]) })
	return out
}

// Split returns the Namespaces and CRDs (applied first, for real) and the
// rest.
func Split(objs []*unstructured.Unstructured) (setup, rest []*unstructured.Unstructured) {
	for _, o := range Ordered(objs) {
		if o.GetKind() == "Namespace" || o.GetKind() == "CustomResourceDefinition" {
			setup = append(setup, o)
		} else {
			rest = append(rest, o)
		}
	}
	return setup, rest
}

// Without drops the objects of API groups that are not installed (e.g.
// cert-manager.io/).
func Without(objs []*unstructured.Unstructured, apiVersionPrefix string) []*unstructured.Unstructured {
	var out []*unstructured.Unstructured
	for _, o := range objs {
		if !strings.HasPrefix(o.GetAPIVersion(), apiVersionPrefix) {
			out = append(out, o)
		}
	}
	return out
}

// Bundle and example variants users install.
var (
	Base    = Variant{Name: "base", Resources: []string{"base"}}
	Example = Variant{Name: "example", Resources: []string{"examples/redis-group"}}
	// ExampleCluster is the sharded example (a RedisCluster).
	ExampleCluster = Variant{Name: "example-cluster", Resources: []string{"examples/redis-cluster"}}
)
