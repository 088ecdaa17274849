package promtest

import (
	"encoding/json"
	"maps"
	"net"
	"net/http"
	"strconv"
	"testing"

	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// targetGroup is one http_sd target group.
type targetGroup struct {
	Targets []string          `json:"targets"`
	Labels  map[string]string `json:"labels"`
}

// EndpointSliceDiscovery serves, for Prometheus' http_sd, the targets and
// meta labels that Prometheus' kubernetes_sd "endpointslice" role would
// find in a namespace (GET /?namespace=NS): one target per endpoint
// address and port, with the Service's name and labels, the port's name
// and number, and the pod behind the endpoint (name, IP, the container
// declaring the port). Debian's Prometheus is built without kubernetes_sd;
// this keeps the Prometheus Operator's relabelling of a ServiceMonitor
// usable unchanged. It stops when the test ends.
func EndpointSliceDiscovery(t testing.TB, cs kubernetes.Interface) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		groups, err := endpointSliceTargets(r, cs, r.URL.Query().Get("namespace"))
		if err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(groups)
	})}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
	return "http://" + l.Addr().String() + "/"
}

func endpointSliceTargets(r *http.Request, cs kubernetes.Interface, namespace string) ([]targetGroup, error) {
	ctx := r.Context()
	slices, err := cs.DiscoveryV1().EndpointSlices(namespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, err
	}
	groups := []targetGroup{}
	for _, s := range slices.Items {
		svcName := s.Labels[discoveryv1.LabelServiceName]
		if svcName == "" {
			continue
		}
		svc, err := cs.CoreV1().Services(namespace).Get(ctx, svcName, metav1.GetOptions{})
		if err != nil {
			continue // the Service went away
		}
		base := map[string]string{
			"__meta_kubernetes_namespace":                  namespace,
			"__meta_kubernetes_endpointslice_name":         s.Name,
			"__meta_kubernetes_endpointslice_address_type": string(s.AddressType),
			"__meta_kubernetes_service_name":               svc.Name,
		}
		for k, v := range svc.Labels {
			base["__meta_kubernetes_service_label_"+unsafeLabelChars.ReplaceAllString(k, "_")] = v
		}
		for _, ep := range s.Endpoints {
			labels := copyLabels(base)
			if ep.Conditions.Ready != nil {
				labels["__meta_kubernetes_endpointslice_endpoint_conditions_ready"] = strconv.FormatBool(*ep.Conditions.Ready)
			}
			var containerOf map[int32]string
			if ref := ep.TargetRef; ref != nil && ref.Kind == "Pod" {
				labels["__meta_kubernetes_endpointslice_address_target_kind"] = ref.Kind
				labels["__meta_kubernetes_endpointslice_address_target_name"] = ref.Name
				if pod, err := cs.CoreV1().Pods(namespace).Get(ctx, ref.Name, metav1.GetOptions{}); err == nil {
					labels["__meta_kubernetes_pod_name"] = pod.Name
					labels["__meta_kubernetes_pod_ip"] = pod.Status.PodIP
					labels["__meta_kubernetes_pod_node_name"] = pod.Spec.NodeName
					containerOf = map[int32]string{}
					for _, c := range pod.Spec.Containers {
						for _, p := range c.Ports {
							containerOf[p.ContainerPort] = c.Name
						}
					}
				}
			}
			for _, p := range s.Ports {
				if p.Port == nil {
					continue
				}
				pl := copyLabels(labels)
				if p.Name != nil {
					pl["__meta_kubernetes_endpointslice_port_name"] = *p.Name
				}
				pl["__meta_kubernetes_endpointslice_port"] = strconv.Itoa(int(*p.Port))
				if c, ok := containerOf[*p.Port]; ok {
					pl["__meta_kubernetes_pod_container_name"] = c
				}
				for _, addr := range ep.Addresses {
					groups = append(groups, targetGroup{Targets: []string{net.JoinHostPort(addr, strconv.Itoa(int(*p.Port)))}, Labels: pl})
				}
			}
		}
	}
	return groups, nil
}

func copyLabels(m map[string]string) map[string]string { return maps.Clone(m) }
