package cluster

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/restmapper"
	"k8s.io/utils/ptr"
)

// Apply creates every object of a multi-document YAML file (as `kubectl
// create -f` would; objects that exist are left as they are), so tests
// install exactly the manifests deploy/ ships.
func (c *Cluster) Apply(ctx context.Context, path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	res, err := c.newResources()
	if err != nil {
		return err
	}
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(b), 4096)
	for {
		var obj unstructured.Unstructured
		if err := dec.Decode(&obj.Object); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return fmt.Errorf("%s: %w", path, err)
		}
		if len(obj.Object) == 0 {
			continue
		}
		gvk := obj.GroupVersionKind()
		ri, err := res.of(&obj)
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		if _, err := ri.Create(ctx, &obj, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("%s: create %s %s/%s: %w", path, gvk.Kind, obj.GetNamespace(), obj.GetName(), err)
		}
	}
}

// ServerSideApply applies objects with server-side apply as the admin (as
// `kubectl apply --server-side` would), or only validates them with
// dryRun (`--dry-run=server`): admission, schema and defaults run, nothing
// is stored. Objects are applied in order; CRDs must come before their
// objects.
func (c *Cluster) ServerSideApply(ctx context.Context, objs []*unstructured.Unstructured, dryRun bool) error {
	res, err := c.newResources()
	if err != nil {
		return err
	}
	opts := metav1.PatchOptions{FieldManager: "redis-autoscaler-tests", Force: ptr.To(true)}
	if dryRun {
		opts.DryRun = []string{metav1.DryRunAll}
	}
	for _, obj := range objs {
		gvk := obj.GroupVersionKind()
		ri, err := res.of(obj)
		if err != nil {
			return err
		}
		body, err := obj.MarshalJSON()
		if err != nil {
			return err
		}
		if _, err := ri.Patch(ctx, obj.GetName(), types.ApplyPatchType, body, opts); err != nil {
			return fmt.Errorf("apply %s %s/%s: %w", gvk.Kind, obj.GetNamespace(), obj.GetName(), err)
		}
	}
	return nil
}

// resources maps objects to their dynamic client, rediscovering once when
// a kind is unknown (a CRD applied just before).
type resources struct {
	mapper *restmapper.DeferredDiscoveryRESTMapper
	dyn    dynamic.Interface
}

func (c *Cluster) newResources() (*resources, error) {
	dc, err := discovery.NewDiscoveryClientForConfig(c.Config)
	if err != nil {
		return nil, err
	}
	dyn, err := dynamic.NewForConfig(c.Config)
	if err != nil {
		return nil, err
	}
	return &resources{mapper: restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(dc)), dyn: dyn}, nil
}

func (r *resources) of(obj *unstructured.Unstructured) (dynamic.ResourceInterface, error) {
	gvk := obj.GroupVersionKind()
	m, err := r.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if err != nil {
		r.mapper.Reset()
		if m, err = r.mapper.RESTMapping(gvk.GroupKind(), gvk.Version); err != nil {
			return nil, fmt.Errorf("%s %s: %w", gvk, obj.GetName(), err)
		}
	}
	if m.Scope.Name() == "namespace" {
		return r.dyn.Resource(m.Resource).Namespace(obj.GetNamespace()), nil
	}
	return r.dyn.Resource(m.Resource), nil
}
