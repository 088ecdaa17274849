package cluster

import (
	"bufio"
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// probeTimeout is the kubelet's default timeoutSeconds.
const probeTimeout = time.Second

// probe is the readiness check. Redis containers are ready when they answer
// PING (after AUTH when --requirepass is set): a Redis still loading its
// AOF/RDB answers -LOADING and is not ready, as on a real cluster with a
// redis-cli ping probe. Other containers use their readinessProbe
// (httpGet, tcpSocket; exec and grpc count as passing) or are ready once
// running. initialDelaySeconds and failureThreshold are honoured; periods
// are not (probes run every second). A TLS-only Redis is ready once it
// accepts TCP connections.
func (r *PodRunner) probe(ctx context.Context, pod *corev1.Pod, st *podState, c *containerState) bool {
	st.mu.Lock()
	port, password, startedAt, tlsOnly := c.port, c.password, c.startedAt, c.tlsOnly
	st.mu.Unlock()
	if c.kind == kindRedis && tlsOnly {
		// A TLS-only Redis (usually requiring client certificates) is
		// checked as a tcpSocket probe would: it accepts connections.
		conn, err := net.DialTimeout("tcp", net.JoinHostPort(st.ip, strconv.Itoa(port)), probeTimeout)
		if err != nil {
			return false
		}
		conn.Close()
		return true
	}
	if c.kind == kindRedis {
		return redisPing(ctx, net.JoinHostPort(st.ip, strconv.Itoa(port)), password) == nil
	}
	p := c.spec.ReadinessProbe
	if p == nil {
		return true
	}
	if time.Since(startedAt) < time.Duration(p.InitialDelaySeconds)*time.Second {
		return false
	}
	switch {
	case p.HTTPGet != nil:
		return httpProbe(ctx, st.ip, &c.spec, p.HTTPGet) == nil
	case p.TCPSocket != nil:
		port, err := resolvePort(&c.spec, p.TCPSocket.Port)
		if err != nil {
			return false
		}
		conn, err := net.DialTimeout("tcp", net.JoinHostPort(hostOr(p.TCPSocket.Host, st.ip), strconv.Itoa(port)), probeTimeout)
		if err != nil {
			return false
		}
		conn.Close()
		return true
	}
	return true
}

// redisPing speaks just enough RESP for a health check, without a client
// library's pool and retries.
func redisPing(ctx context.Context, addr, password string) error {
	d := net.Dialer{Timeout: probeTimeout}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(probeTimeout))
	rd := bufio.NewReader(conn)
	if password != "" {
		if err := redisCommand(conn, rd, "AUTH", password); err != nil {
			return err
		}
	}
	return redisCommand(conn, rd, "PING")
}

func redisCommand(conn net.Conn, rd *bufio.Reader, args ...string) error {
	var b strings.Builder
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	if _, err := conn.Write([]byte(b.String())); err != nil {
		return err
	}
	line, err := rd.ReadString('\n')
	if err != nil {
		return err
	}
	if !strings.HasPrefix(line, "+") {
		return fmt.Errorf("redis: %s", strings.TrimSpace(line))
	}
	return nil
}

func httpProbe(ctx context.Context, podIP string, c *corev1.Container, g *corev1.HTTPGetAction) error {
	port, err := resolvePort(c, g.Port)
	if err != nil {
		return err
	}
	scheme := "http"
	if g.Scheme == corev1.URISchemeHTTPS {
		scheme = "https"
	}
	url := scheme + "://" + net.JoinHostPort(hostOr(g.Host, podIP), strconv.Itoa(port)) + g.Path
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	for _, h := range g.HTTPHeaders {
		req.Header.Add(h.Name, h.Value)
	}
	// Like the kubelet: HTTPS probes do not verify the certificate.
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode >= 400 {
		return fmt.Errorf("status %d", resp.StatusCode)
	}
	return nil
}

// resolvePort turns a numeric or named probe port into a number.
func resolvePort(c *corev1.Container, p intstr.IntOrString) (int, error) {
	if p.Type == intstr.Int {
		return p.IntValue(), nil
	}
	for _, cp := range c.Ports {
		if cp.Name == p.StrVal {
			return int(cp.ContainerPort), nil
		}
	}
	return 0, fmt.Errorf("no container port named %q", p.StrVal)
}

func hostOr(host, def string) string {
	if host != "" {
		return host
	}
	return def
}
