package cluster

import (
	"context"
	"fmt"
	"net"
	"path/filepath"
	"strconv"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/redis-autoscaler/redis-autoscaler/test/testcerts"
)

// serviceCIDR is the Service CIDR: the last /24 of the cluster's loopback
// /16 (127.B.255.0/24; pod IPs come from the rest). ClusterIPs are loopback
// addresses, so the runner's service proxy (runner_services.go) can listen
// on them as kube-proxy would route them.
func serviceCIDR(netBase int) string { return fmt.Sprintf("127.%d.255.0/24", netBase) }

// serviceCIDRFor is the Service CIDR of this cluster's kind of node.
func (c *Cluster) serviceCIDRFor() string {
	if c.node != nil {
		return RealServiceCIDR
	}
	return serviceCIDR(c.netBase)
}

// firstServiceIP is the "kubernetes" Service's ClusterIP in a /24.
func firstServiceIP(cidr string) string {
	ip, _, _ := net.ParseCIDR(cidr)
	ip = ip.To4()
	return net.IPv4(ip[0], ip[1], ip[2], ip[3]+1).String()
}

// FrontProxyClientName is the CN of the certificate the aggregator presents to
// aggregated API servers; they trust X-Remote-* headers only from it.
const FrontProxyClientName = "front-proxy-client"

// apiserverCerts holds the files kube-apiserver needs.
type apiserverCerts struct {
	caFile, servingCert, servingKey                   string
	frontProxyCAFile, proxyClientCert, proxyClientKey string
	saPriv, saPub                                     string
	kubeletClientCert, kubeletClientKey               string
}

// writeCerts generates every certificate and key of the control plane.
func (c *Cluster) writeCerts() (apiserverCerts, error) {
	var f apiserverCerts
	var err error
	if c.CA, err = testcerts.NewCA("local-cluster-ca"); err != nil {
		return f, err
	}
	if c.FrontProxyCA, err = testcerts.NewCA("local-front-proxy-ca"); err != nil {
		return f, err
	}
	f.caFile = filepath.Join(c.Dir, "ca.crt")
	f.frontProxyCAFile = filepath.Join(c.Dir, "front-proxy-ca.crt")
	if err := writeFile(f.caFile, c.CA.CertPEM); err != nil {
		return f, err
	}
	if err := writeFile(f.frontProxyCAFile, c.FrontProxyCA.CertPEM); err != nil {
		return f, err
	}
	serving, err := c.CA.Issue(testcerts.Options{
		CommonName: "kube-apiserver",
		DNSNames:   []string{"localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.cluster.local"},
		IPs: []net.IP{net.ParseIP("127.0.0.1"), net.ParseIP("10.0.0.1"),
			// The real node's: pods reach the API server by the node IP
			// and by the "kubernetes" Service's ClusterIP.
			net.ParseIP(RealNodeIP), net.ParseIP(firstServiceIP(RealServiceCIDR))},
		Server: true,
	})
	if err != nil {
		return f, err
	}
	if f.servingCert, f.servingKey, err = serving.WriteFiles(c.Dir, "apiserver"); err != nil {
		return f, err
	}
	proxy, err := c.FrontProxyCA.Issue(testcerts.Options{CommonName: FrontProxyClientName, Client: true})
	if err != nil {
		return f, err
	}
	if f.proxyClientCert, f.proxyClientKey, err = proxy.WriteFiles(c.Dir, "front-proxy-client"); err != nil {
		return f, err
	}
	kubeletClient, err := c.CA.Issue(testcerts.Options{CommonName: "kube-apiserver-kubelet-client", Organization: []string{"system:masters"}, Client: true})
	if err != nil {
		return f, err
	}
	if f.kubeletClientCert, f.kubeletClientKey, err = kubeletClient.WriteFiles(c.Dir, "apiserver-kubelet-client"); err != nil {
		return f, err
	}
	f.saPriv, f.saPub, err = newServiceAccountKey(c.Dir)
	c.FrontProxyCAFile = f.frontProxyCAFile
	c.CAFile = f.caFile
	return f, err
}

// clientCertConfig builds a rest.Config authenticating with a client
// certificate signed by the cluster CA; Organization becomes the groups.
func (c *Cluster) clientCertConfig(user string, groups ...string) (*rest.Config, error) {
	kp, err := c.CA.Issue(testcerts.Options{CommonName: user, Organization: groups, Client: true})
	if err != nil {
		return nil, err
	}
	return &rest.Config{
		Host: c.apiserverURL,
		TLSClientConfig: rest.TLSClientConfig{
			CAData:   c.CA.CertPEM,
			CertData: kp.CertPEM,
			KeyData:  kp.KeyPEM,
		},
		// The defaults (5/10) throttle tests that create many objects.
		QPS:   100,
		Burst: 200,
	}, nil
}

// StopAPIServer stops kube-apiserver (SIGTERM, then SIGKILL after 5 s):
// an API outage, for tests of what keeps working without it. Clients get
// connection refused until StartAPIServer.
func (c *Cluster) StopAPIServer() { c.apiserver.stop(5 * time.Second) }

// StartAPIServer starts kube-apiserver again as it first ran (same port,
// certificates, etcd) and waits for /readyz.
func (c *Cluster) StartAPIServer(ctx context.Context) error { return c.restartAPIServer(ctx) }

// startAPIServer runs kube-apiserver and waits for /readyz.
func (c *Cluster) startAPIServer(ctx context.Context, etcdURL string, port int, f apiserverCerts) error {
	c.restartAPIServer = func(ctx context.Context) error { return c.startAPIServer(ctx, etcdURL, port, f) }
	bind := "127.0.0.1"
	if c.node != nil {
		// Pods reach it on the node IP (through the "kubernetes" Service).
		bind = RealNodeIP
	}
	c.apiserverURL = "https://" + net.JoinHostPort(bind, strconv.Itoa(port))
	args := []string{
		"--etcd-servers=" + etcdURL,
		"--bind-address=" + bind,
		"--advertise-address=" + bind,
		"--secure-port=" + strconv.Itoa(port),
		"--cert-dir=" + filepath.Join(c.Dir, "apiserver-certs"),
		"--tls-cert-file=" + f.servingCert,
		"--tls-private-key-file=" + f.servingKey,
		"--client-ca-file=" + f.caFile,
		"--authorization-mode=Node,RBAC",
		"--service-cluster-ip-range=" + c.serviceCIDRFor(),
		"--service-account-issuer=https://kubernetes.default.svc.cluster.local",
		"--service-account-key-file=" + f.saPub,
		"--service-account-signing-key-file=" + f.saPriv,
		// Front-proxy (aggregation layer): the aggregator authenticates to
		// aggregated servers with this client cert and passes the user in
		// X-Remote-* headers, which they trust because of the CA below.
		"--requestheader-client-ca-file=" + f.frontProxyCAFile,
		"--requestheader-allowed-names=" + FrontProxyClientName,
		"--requestheader-username-headers=X-Remote-User",
		"--requestheader-group-headers=X-Remote-Group",
		"--requestheader-extra-headers-prefix=X-Remote-Extra-",
		"--proxy-client-cert-file=" + f.proxyClientCert,
		"--proxy-client-key-file=" + f.proxyClientKey,
		"--allow-privileged=true",
		"--profiling=false",
		"--v=1",
	}
	if c.node == nil {
		args = append(args,
			// The "kubernetes" Service's endpoints would be 127.0.0.1,
			// which Endpoints validation refuses; without a kube-proxy
			// nobody could use them anyway.
			"--endpoint-reconciler-type=none",
			// Nothing answers the kubelet port; do not let logs/exec
			// try long.
			"--kubelet-timeout=2s")
	} else {
		args = append(args,
			// logs/exec/port-forward: by the node's InternalIP (its host
			// name does not resolve here), as an identity the kubelet
			// trusts (client certificate from the cluster CA).
			"--kubelet-preferred-address-types=InternalIP",
			"--kubelet-client-certificate="+f.kubeletClientCert,
			"--kubelet-client-key="+f.kubeletClientKey)
	}
	args = append(args, c.opts.ExtraAPIServerArgs...)
	logFile := filepath.Join(c.Dir, "kube-apiserver.log")
	p, err := startProcess(processSpec{Name: "kube-apiserver", Path: c.bins.KubeAPIServer, Args: args, LogFile: logFile})
	if err != nil {
		return err
	}
	c.procs.add(p)
	c.apiserver = p

	admin, err := c.clientCertConfig("admin", "system:masters")
	if err != nil {
		return err
	}
	client, err := kubernetes.NewForConfig(admin)
	if err != nil {
		return err
	}
	err = wait.PollUntilContextTimeout(ctx, pollInterval, 90*time.Second, true, func(ctx context.Context) (bool, error) {
		if p.exited() {
			return false, fmt.Errorf("kube-apiserver exited: %v\n%s", p.err, tailFile(logFile, 30))
		}
		rctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		var status int
		client.Discovery().RESTClient().Get().AbsPath("/readyz").Do(rctx).StatusCode(&status)
		return status == 200, nil
	})
	if err != nil {
		return fmt.Errorf("wait for kube-apiserver /readyz: %w\n%s", err, tailFile(logFile, 30))
	}
	c.Config = admin
	c.Client = client
	return nil
}
