package upstream

import (
	"fmt"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// resourceMapper is the REST mapper handed to the custom-metrics client.
// The client wants a Kind and maps it to the resource in the URL; we were
// given that resource already (the HPA's request path), so the Kind we pass
// is the resource name and this mapper hands it straight back. No discovery
// of the cluster's kinds is needed, and whatever resource the HPA named
// reaches the upstream unchanged.
type resourceMapper struct{}

var _ meta.RESTMapper = resourceMapper{}

// kindFor is the GroupKind that resourceMapper maps back to gr.
func kindFor(gr schema.GroupResource) schema.GroupKind {
	return schema.GroupKind{Group: gr.Group, Kind: gr.Resource}
}

func (resourceMapper) RESTMapping(gk schema.GroupKind, _ ...string) (*meta.RESTMapping, error) {
	return &meta.RESTMapping{
		Resource:         schema.GroupVersionResource{Group: gk.Group, Resource: gk.Kind},
		GroupVersionKind: gk.WithVersion(""),
		Scope:            meta.RESTScopeNamespace,
	}, nil
}

func (m resourceMapper) RESTMappings(gk schema.GroupKind, versions ...string) ([]*meta.RESTMapping, error) {
	mapping, err := m.RESTMapping(gk, versions...)
	return []*meta.RESTMapping{mapping}, err
}

func (resourceMapper) KindFor(resource schema.GroupVersionResource) (schema.GroupVersionKind, error) {
	return schema.GroupVersionKind{}, errNotMapped(resource)
}

func (resourceMapper) KindsFor(resource schema.GroupVersionResource) ([]schema.GroupVersionKind, error) {
	return nil, errNotMapped(resource)
}

func (resourceMapper) ResourceFor(input schema.GroupVersionResource) (schema.GroupVersionResource, error) {
	return input, nil
}

func (resourceMapper) ResourcesFor(input schema.GroupVersionResource) ([]schema.GroupVersionResource, error) {
	return []schema.GroupVersionResource{input}, nil
}

func (resourceMapper) ResourceSingularizer(resource string) (string, error) {
	return resource, nil
}

func errNotMapped(resource schema.GroupVersionResource) error {
	return fmt.Errorf("upstream mapper maps resources only, not %s to a kind", resource)
}
