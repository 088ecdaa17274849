package cluster

import (
	"context"
	"encoding/base64"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/dynamic"
)

// APIServiceNamespace holds the Services that point APIServices at host
// processes.
const APIServiceNamespace = "kube-system"

var apiServiceGVR = schema.GroupVersionResource{Group: "apiregistration.k8s.io", Version: "v1", Resource: "apiservices"}

// APIServiceServiceName is the name of the Service RegisterAPIService
// creates. The aggregator verifies the aggregated server's certificate for
// the host "<name>.kube-system.svc" (APIServiceHost), so a server that is
// given a caBundle must serve a certificate with that DNS name.
func APIServiceServiceName(group, version string) string {
	return "api-" + strings.ReplaceAll(version+"-"+group, ".", "-")
}

// APIServiceHost is the TLS server name the aggregator expects.
func APIServiceHost(group, version string) string {
	return APIServiceServiceName(group, version) + "." + APIServiceNamespace + ".svc"
}

// RegisterAPIService makes the aggregator proxy /apis/<group>/<version> to
// an aggregated API server listening on localhost:port on the host. With
// --enable-aggregator-routing off (the default here) the aggregator dials
// the Service's externalName, so an ExternalName Service "localhost"
// reaches the host process without any cluster networking. caBundle
// verifies the server's certificate (for APIServiceHost); nil skips
// verification (insecureSkipTLSVerify), e.g. for self-signed adapters.
func (c *Cluster) RegisterAPIService(ctx context.Context, group, version string, port int, caBundle []byte) error {
	name := APIServiceServiceName(group, version)
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: APIServiceNamespace},
		Spec: corev1.ServiceSpec{
			Type:         corev1.ServiceTypeExternalName,
			ExternalName: "localhost",
			Ports:        []corev1.ServicePort{{Name: "https", Port: int32(port), TargetPort: intstr.FromInt32(int32(port))}},
		},
	}
	_, err := c.Client.CoreV1().Services(APIServiceNamespace).Create(ctx, svc, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		old, gerr := c.Client.CoreV1().Services(APIServiceNamespace).Get(ctx, name, metav1.GetOptions{})
		if gerr != nil {
			return gerr
		}
		svc.ResourceVersion = old.ResourceVersion
		_, err = c.Client.CoreV1().Services(APIServiceNamespace).Update(ctx, svc, metav1.UpdateOptions{})
	}
	if err != nil {
		return fmt.Errorf("service for APIService: %w", err)
	}

	spec := map[string]any{
		"group":                group,
		"version":              version,
		"groupPriorityMinimum": int64(100),
		"versionPriority":      int64(100),
		"service": map[string]any{
			"namespace": APIServiceNamespace,
			"name":      name,
			"port":      int64(port),
		},
	}
	if caBundle != nil {
		spec["caBundle"] = base64.StdEncoding.EncodeToString(caBundle)
	} else {
		spec["insecureSkipTLSVerify"] = true
	}
	obj := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "apiregistration.k8s.io/v1",
		"kind":       "APIService",
		"metadata":   map[string]any{"name": version + "." + group},
		"spec":       spec,
	}}
	dyn, err := dynamic.NewForConfig(c.Config)
	if err != nil {
		return err
	}
	res := dyn.Resource(apiServiceGVR)
	_, err = res.Create(ctx, obj, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		old, gerr := res.Get(ctx, obj.GetName(), metav1.GetOptions{})
		if gerr != nil {
			return gerr
		}
		obj.SetResourceVersion(old.GetResourceVersion())
		_, err = res.Update(ctx, obj, metav1.UpdateOptions{})
	}
	if err != nil {
		return fmt.Errorf("APIService %s.%s: %w", version, group, err)
	}
	return nil
}

// UnregisterAPIService deletes what RegisterAPIService created. Without it
// a stale APIService keeps discovery partially failing for every client.
func (c *Cluster) UnregisterAPIService(ctx context.Context, group, version string) error {
	dyn, err := dynamic.NewForConfig(c.Config)
	if err != nil {
		return err
	}
	err = dyn.Resource(apiServiceGVR).Delete(ctx, version+"."+group, metav1.DeleteOptions{})
	if err != nil && !apierrors.IsNotFound(err) {
		return err
	}
	err = c.Client.CoreV1().Services(APIServiceNamespace).Delete(ctx, APIServiceServiceName(group, version), metav1.DeleteOptions{})
	if err != nil && !apierrors.IsNotFound(err) {
		return err
	}
	return nil
}

// WaitAPIServiceAvailable waits for the APIService's Available condition,
// which the aggregator sets once it reached the server's discovery endpoint.
// On timeout the error carries the condition's last message.
func (c *Cluster) WaitAPIServiceAvailable(ctx context.Context, group, version string, timeout time.Duration) error {
	dyn, err := dynamic.NewForConfig(c.Config)
	if err != nil {
		return err
	}
	last := ""
	err = wait.PollUntilContextTimeout(ctx, pollInterval, timeout, true, func(ctx context.Context) (bool, error) {
		obj, err := dyn.Resource(apiServiceGVR).Get(ctx, version+"."+group, metav1.GetOptions{})
		if err != nil {
			last = err.Error()
			return false, nil
		}
		conds, _, _ := unstructured.NestedSlice(obj.Object, "status", "conditions")
		for _, ci := range conds {
			cm, _ := ci.(map[string]any)
			if cm["type"] == "Available" {
				last = fmt.Sprintf("%v: %v", cm["reason"], cm["message"])
				return cm["status"] == "True", nil
			}
		}
		return false, nil
	})
	if err != nil {
		return fmt.Errorf("APIService %s.%s not available: %w (last: %s)", version, group, err, last)
	}
	return nil
}
