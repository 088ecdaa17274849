package cluster

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	listersv1 "k8s.io/client-go/listers/core/v1"
)

// endpointSliceManager is "pod-runner", the managed-by label value of the
// EndpointSlices the runner writes.
const endpointSliceManager = "pod-runner"

// syncEndpointSlices plays the endpointslice controller for Services with
// a loopback ClusterIP: one EndpointSlice per Service listing its Ready
// pods. The API server refuses loopback IPs in EndpointSlices, so the
// slices use addressType FQDN with a name per pod (<ip-dashed>.<ns>.pod);
// nothing routes by them (the service proxy routes ClusterIPs), but the
// aggregator's availability check and `kubectl get endpointslices` see
// which pods are behind a Service, as in a cluster.
func (r *PodRunner) syncEndpointSlices(ctx context.Context, services listersv1.ServiceLister) {
	svcs, err := services.List(labels.Everything())
	if err != nil {
		return
	}
	for _, svc := range svcs {
		if !proxiable(svc) {
			continue
		}
		want := r.desiredSlice(svc)
		k := want.Namespace + "/" + want.Name
		if last, ok := r.slices[k]; ok && reflect.DeepEqual(last.Endpoints, want.Endpoints) && reflect.DeepEqual(last.Ports, want.Ports) {
			continue
		}
		if err := r.applySlice(ctx, want); err != nil {
			if ctx.Err() == nil {
				r.log.Debug("endpointslice", "service", k, "err", err)
			}
			continue
		}
		r.slices[k] = want
	}
}

func (r *PodRunner) desiredSlice(svc *corev1.Service) *discoveryv1.EndpointSlice {
	ready := true
	slice := &discoveryv1.EndpointSlice{
		ObjectMeta: metav1.ObjectMeta{
			Name:      svc.Name + "-" + endpointSliceManager,
			Namespace: svc.Namespace,
			Labels: map[string]string{
				discoveryv1.LabelServiceName: svc.Name,
				discoveryv1.LabelManagedBy:   endpointSliceManager,
			},
		},
		AddressType: discoveryv1.AddressTypeFQDN,
	}
	pods, _ := r.pods.Pods(svc.Namespace).List(labels.SelectorFromSet(svc.Spec.Selector))
	for _, sp := range svc.Spec.Ports {
		name, proto := sp.Name, sp.Protocol
		if proto == "" {
			proto = corev1.ProtocolTCP
		}
		port := int32(0)
		for _, pod := range pods {
			if p := targetPort(pod, sp); p > 0 {
				port = int32(p)
				break
			}
		}
		if port == 0 {
			continue
		}
		slice.Ports = append(slice.Ports, discoveryv1.EndpointPort{Name: &name, Port: &port, Protocol: &proto})
	}
	for _, pod := range pods {
		if pod.DeletionTimestamp != nil || pod.Status.PodIP == "" || !PodReady(pod) {
			continue
		}
		slice.Endpoints = append(slice.Endpoints, discoveryv1.Endpoint{
			Addresses:  []string{fmt.Sprintf("%s.%s.pod", strings.ReplaceAll(pod.Status.PodIP, ".", "-"), pod.Namespace)},
			Conditions: discoveryv1.EndpointConditions{Ready: &ready},
			TargetRef:  &corev1.ObjectReference{Kind: "Pod", Namespace: pod.Namespace, Name: pod.Name, UID: pod.UID},
		})
	}
	return slice
}

func (r *PodRunner) applySlice(ctx context.Context, want *discoveryv1.EndpointSlice) error {
	api := r.client.DiscoveryV1().EndpointSlices(want.Namespace)
	cur, err := api.Get(ctx, want.Name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		_, err = api.Create(ctx, want, metav1.CreateOptions{})
		return err
	}
	if err != nil {
		return err
	}
	if reflect.DeepEqual(cur.Endpoints, want.Endpoints) && reflect.DeepEqual(cur.Ports, want.Ports) {
		return nil
	}
	cur.Endpoints, cur.Ports = want.Endpoints, want.Ports
	_, err = api.Update(ctx, cur, metav1.UpdateOptions{})
	return err
}

// runEndpointSlices re-syncs the slices every second, as readiness changes.
func (r *PodRunner) runEndpointSlices(ctx context.Context) {
	r.slices = map[string]*discoveryv1.EndpointSlice{}
	services := r.factory.Core().V1().Services().Lister()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			r.syncEndpointSlices(ctx, services)
		}
	}
}
