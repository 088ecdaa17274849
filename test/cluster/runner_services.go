package cluster

import (
	"io"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	listersv1 "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
)

// serviceProxy plays kube-proxy in userspace: for every ClusterIP Service
// port it listens on clusterIP:port (a loopback address of the cluster's
// Service CIDR) and forwards each TCP connection to a Ready pod the
// Service selects, round-robin. The API server refuses loopback addresses
// in EndpointSlices, so endpoints are computed here from the pods, as the
// endpointslice controller would. This is what lets the aggregator reach
// an APIService's Service and Prometheus scrape by Service address.
type serviceProxy struct {
	pods     listersv1.PodLister
	log      interface{ Warn(string, ...any) }
	mu       sync.Mutex
	ports    map[string]*proxiedPort // clusterIP:port
	sequence atomic.Uint64
}

type proxiedPort struct {
	ln        net.Listener
	namespace string
	selector  labels.Selector
	port      corev1.ServicePort
	// version changes when the Service changes, so a port that moved to
	// another Service is re-opened.
	version string
}

func newServiceProxy(pods listersv1.PodLister, log interface{ Warn(string, ...any) }) *serviceProxy {
	return &serviceProxy{pods: pods, log: log, ports: map[string]*proxiedPort{}}
}

func (p *serviceProxy) handlers() cache.ResourceEventHandlerFuncs {
	return cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { p.update(obj.(*corev1.Service)) },
		UpdateFunc: func(_, obj any) { p.update(obj.(*corev1.Service)) },
		DeleteFunc: func(obj any) {
			if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
				obj = d.Obj
			}
			if svc, ok := obj.(*corev1.Service); ok {
				p.remove(svc, nil)
			}
		},
	}
}

func proxiable(svc *corev1.Service) bool {
	ip := net.ParseIP(svc.Spec.ClusterIP)
	return svc.Spec.Type != corev1.ServiceTypeExternalName && ip != nil && ip.IsLoopback() && len(svc.Spec.Selector) > 0
}

func (p *serviceProxy) update(svc *corev1.Service) {
	keep := map[string]bool{}
	if proxiable(svc) {
		sel := labels.SelectorFromSet(svc.Spec.Selector)
		for _, sp := range svc.Spec.Ports {
			if sp.Protocol != "" && sp.Protocol != corev1.ProtocolTCP {
				continue
			}
			addr := net.JoinHostPort(svc.Spec.ClusterIP, strconv.Itoa(int(sp.Port)))
			keep[addr] = true
			version := svc.ResourceVersion
			p.mu.Lock()
			old := p.ports[addr]
			if old != nil && old.namespace == svc.Namespace {
				// Same Service: swap selector and target in place.
				old.selector, old.port, old.version = sel, sp, version
				p.mu.Unlock()
				continue
			}
			if old != nil {
				old.ln.Close()
				delete(p.ports, addr)
			}
			ln, err := net.Listen("tcp", addr)
			if err != nil {
				p.mu.Unlock()
				p.log.Warn("service proxy: listen", "service", svc.Namespace+"/"+svc.Name, "addr", addr, "err", err)
				continue
			}
			pp := &proxiedPort{ln: ln, namespace: svc.Namespace, selector: sel, port: sp, version: version}
			p.ports[addr] = pp
			p.mu.Unlock()
			go p.serve(pp)
		}
	}
	p.remove(svc, keep)
}

// remove closes the Service's ports not in keep.
func (p *serviceProxy) remove(svc *corev1.Service, keep map[string]bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, ip := range svc.Spec.ClusterIPs {
		for addr, pp := range p.ports {
			host, _, _ := net.SplitHostPort(addr)
			if host == ip && pp.namespace == svc.Namespace && !keep[addr] {
				pp.ln.Close()
				delete(p.ports, addr)
			}
		}
	}
}

func (p *serviceProxy) serve(pp *proxiedPort) {
	for {
		conn, err := pp.ln.Accept()
		if err != nil {
			return
		}
		go p.forward(pp, conn)
	}
}

// forward connects to one Ready endpoint; with none, the connection is
// closed, as a Service without endpoints rejects connections.
func (p *serviceProxy) forward(pp *proxiedPort, conn net.Conn) {
	defer conn.Close()
	p.mu.Lock()
	ns, sel, sp := pp.namespace, pp.selector, pp.port
	p.mu.Unlock()
	backends := p.endpoints(ns, sel, sp)
	if len(backends) == 0 {
		return
	}
	start := int(p.sequence.Add(1))
	var up net.Conn
	for i := range backends {
		c, err := net.DialTimeout("tcp", backends[(start+i)%len(backends)], 2*time.Second)
		if err == nil {
			up = c
			break
		}
	}
	if up == nil {
		return
	}
	defer up.Close()
	done := make(chan struct{}, 2)
	pipe := func(dst, src net.Conn) {
		_, _ = io.Copy(dst, src)
		if tc, ok := dst.(*net.TCPConn); ok {
			_ = tc.CloseWrite()
		}
		done <- struct{}{}
	}
	go pipe(up, conn)
	go pipe(conn, up)
	<-done
	<-done
}

// endpoints are podIP:port of the Ready, not terminating pods the
// selector matches, the target port resolved per pod.
func (p *serviceProxy) endpoints(ns string, sel labels.Selector, sp corev1.ServicePort) []string {
	pods, err := p.pods.Pods(ns).List(sel)
	if err != nil {
		return nil
	}
	var out []string
	for _, pod := range pods {
		if pod.DeletionTimestamp != nil || pod.Status.PodIP == "" || !PodReady(pod) {
			continue
		}
		if port := targetPort(pod, sp); port > 0 {
			out = append(out, net.JoinHostPort(pod.Status.PodIP, strconv.Itoa(port)))
		}
	}
	return out
}

// PodReady reports the pod's Ready condition, as the runner writes it.
func PodReady(pod *corev1.Pod) bool {
	for _, c := range pod.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// targetPort is the pod's port a Service port forwards to: the target
// port by number or by container port name, else the Service port.
func targetPort(pod *corev1.Pod, sp corev1.ServicePort) int {
	switch {
	case sp.TargetPort.Type == intstr.String:
		return namedPort(pod, sp.TargetPort.StrVal)
	case sp.TargetPort.IntVal > 0:
		return int(sp.TargetPort.IntVal)
	}
	return int(sp.Port)
}

func namedPort(pod *corev1.Pod, name string) int {
	for _, c := range pod.Spec.Containers {
		for _, cp := range c.Ports {
			if cp.Name == name {
				return int(cp.ContainerPort)
			}
		}
	}
	return 0
}

func (p *serviceProxy) closeAll() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for addr, pp := range p.ports {
		pp.ln.Close()
		delete(p.ports, addr)
	}
}
