package cluster

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/utils/ptr"
)

// corefile serves cluster.local from the API server with CoreDNS's
// kubernetes plugin, as a cluster's kube-dns does, on the node IP only.
// There is no upstream: names outside the cluster get SERVFAIL at once
// instead of timing out, since nothing here may leave the machine.
func corefile(kubeconfig string) string {
	return fmt.Sprintf(`.:53 {
    bind %s
    errors
    kubernetes cluster.local in-addr.arpa ip6.arpa {
        kubeconfig %s
        pods insecure
        fallthrough in-addr.arpa ip6.arpa
        ttl 5
    }
    cache 5
    loadbalance
}
`, RealNodeIP, kubeconfig)
}

// startDNS runs CoreDNS on the host and publishes it as the kube-dns
// Service (RealDNSServiceIP) with a hand-written EndpointSlice pointing at
// the node IP: pods' queries go through kube-proxy like on any cluster.
func (c *Cluster) startDNS(ctx context.Context) error {
	kubeconfig := filepath.Join(c.Dir, "coredns.kubeconfig")
	// CoreDNS only reads (services, endpointslices, pods, namespaces); the
	// admin identity keeps the harness free of a DNS RBAC of its own.
	if err := writeKubeconfig(kubeconfig, "coredns", "kube-system", c.Config); err != nil {
		return err
	}
	path := filepath.Join(c.Dir, "Corefile")
	if err := os.WriteFile(path, []byte(corefile(kubeconfig)), 0o644); err != nil {
		return err
	}
	logFile := filepath.Join(c.Dir, "coredns.log")
	p, err := startProcess(processSpec{
		Name: "coredns", Path: c.node.bins.CoreDNS,
		Args: []string{"-conf", path}, LogFile: logFile, Dir: c.Dir,
	})
	if err != nil {
		return err
	}
	c.procs.add(p)
	if err := c.publishDNS(ctx); err != nil {
		return err
	}
	// Ready when it answers a cluster name from the API server.
	resolver := &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, net.JoinHostPort(RealNodeIP, "53"))
	}}
	var last error
	err = wait.PollUntilContextTimeout(ctx, pollInterval, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		if p.exited() {
			return false, fmt.Errorf("coredns exited: %v\n%s", p.err, tailFile(logFile, 30))
		}
		qctx, cancel := context.WithTimeout(ctx, time.Second)
		defer cancel()
		var addrs []string
		addrs, last = resolver.LookupHost(qctx, "kube-dns.kube-system.svc.cluster.local")
		return last == nil && len(addrs) == 1 && addrs[0] == RealDNSServiceIP, nil
	})
	if err != nil {
		return fmt.Errorf("wait for CoreDNS: %w (last: %v)\n%s", err, last, tailFile(logFile, 30))
	}
	return nil
}

func (c *Cluster) publishDNS(ctx context.Context) error {
	ports := []corev1.ServicePort{
		{Name: "dns", Port: 53, Protocol: corev1.ProtocolUDP, TargetPort: intstr.FromInt32(53)},
		{Name: "dns-tcp", Port: 53, Protocol: corev1.ProtocolTCP, TargetPort: intstr.FromInt32(53)},
	}
	_, err := c.Client.CoreV1().Services("kube-system").Create(ctx, &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "kube-dns", Labels: map[string]string{"k8s-app": "kube-dns"}},
		Spec:       corev1.ServiceSpec{ClusterIP: RealDNSServiceIP, Ports: ports},
	}, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("kube-dns Service: %w", err)
	}
	var slicePorts []discoveryv1.EndpointPort
	for _, p := range ports {
		slicePorts = append(slicePorts, discoveryv1.EndpointPort{Name: ptr.To(p.Name), Protocol: ptr.To(p.Protocol), Port: ptr.To(int32(53))})
	}
	_, err = c.Client.DiscoveryV1().EndpointSlices("kube-system").Create(ctx, &discoveryv1.EndpointSlice{
		ObjectMeta: metav1.ObjectMeta{Name: "kube-dns-host", Labels: map[string]string{
			discoveryv1.LabelServiceName: "kube-dns",
			discoveryv1.LabelManagedBy:   "test-cluster",
		}},
		AddressType: discoveryv1.AddressTypeIPv4,
		Endpoints: []discoveryv1.Endpoint{{
			Addresses:  []string{RealNodeIP},
			Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(true)},
		}},
		Ports: slicePorts,
	}, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("kube-dns EndpointSlice: %w", err)
	}
	return nil
}
