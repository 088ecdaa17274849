// Package v1alpha1 holds the RedisReplicationGroup API: the scaler's view of
// a user's Redis StatefulSet (master, replicas, replica count).
//
// +kubebuilder:object:generate=true
// +groupName=redisautoscaler.io
package v1alpha1

import (
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/scheme"
)

var (
	// GroupVersion is the API group and version of this package.
	GroupVersion = schema.GroupVersion{Group: "redisautoscaler.io", Version: "v1alpha1"}

	// SchemeBuilder registers the package's types with a scheme.
	SchemeBuilder = &scheme.Builder{GroupVersion: GroupVersion}

	// AddToScheme adds the package's types to a scheme.
	AddToScheme = SchemeBuilder.AddToScheme
)
