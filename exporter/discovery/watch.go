package discovery

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"
)

// apiClient makes the two requests discovery needs: list pods, watch pods.
type apiClient struct {
	cfg  Config
	http *http.Client
}

func newAPIClient(cfg Config) (*apiClient, error) {
	u, err := url.Parse(cfg.Server)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return nil, fmt.Errorf("kubernetes API server %q is not an http(s) URL", cfg.Server)
	}
	tr := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		TLSClientConfig:       cfg.TLS,
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: 30 * time.Second,
		IdleConnTimeout:       90 * time.Second,
		MaxIdleConnsPerHost:   2,
		ForceAttemptHTTP2:     true,
	}
	return &apiClient{cfg: cfg, http: &http.Client{Transport: tr}}, nil
}

// statusError is a non-2xx answer of the API server.
type statusError struct {
	Code    int
	Message string
}

func (e *statusError) Error() string {
	return fmt.Sprintf("kubernetes API: %d %s", e.Code, e.Message)
}

// permanent: the request itself is refused (bad selector, no permission,
// unknown namespace path), so retrying will not help until someone
// changes the configuration.
func (e *statusError) permanent() bool {
	switch e.Code {
	case http.StatusBadRequest, http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound:
		return true
	}
	return false
}

// errExpired is a watch whose resource version is too old (410 Gone):
// list again.
var errExpired = errors.New("kubernetes watch expired")

// podsPath is the pods collection of the options' namespace (all
// namespaces when empty).
func (p *Pods) podsPath() string {
	if p.opts.Namespace == "" {
		return "/api/v1/pods"
	}
	return "/api/v1/namespaces/" + url.PathEscape(p.opts.Namespace) + "/pods"
}

func (c *apiClient) get(ctx context.Context, path string, q url.Values) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.cfg.Server+path+"?"+q.Encode(), nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "redis-exporter (redis-autoscaler)")
	token := c.cfg.Token
	if token == "" && c.cfg.TokenFile != "" {
		raw, err := os.ReadFile(c.cfg.TokenFile)
		if err != nil {
			return nil, fmt.Errorf("kubernetes token: %w", err)
		}
		token = strings.TrimSpace(string(raw))
	}
	switch {
	case token != "":
		req.Header.Set("Authorization", "Bearer "+token)
	case c.cfg.Username != "":
		req.SetBasicAuth(c.cfg.Username, c.cfg.Password)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode/100 != 2 {
		defer resp.Body.Close()
		var st apiStatus
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		if json.Unmarshal(body, &st) != nil || st.Message == "" {
			st.Message = strings.TrimSpace(string(body))
		}
		return nil, &statusError{Code: resp.StatusCode, Message: st.Message}
	}
	return resp, nil
}

// apiStatus is a metav1.Status: an error's code and message.
type apiStatus struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
	Reason  string `json:"reason"`
}

// podJSON is the part of a Pod that discovery reads.
type podJSON struct {
	Metadata struct {
		Name              string  `json:"name"`
		Namespace         string  `json:"namespace"`
		ResourceVersion   string  `json:"resourceVersion"`
		DeletionTimestamp *string `json:"deletionTimestamp"`
	} `json:"metadata"`
	Spec struct {
		Containers []struct {
			Ports []struct {
				Name          string `json:"name"`
				ContainerPort int    `json:"containerPort"`
			} `json:"ports"`
		} `json:"containers"`
	} `json:"spec"`
	Status struct {
		Phase string `json:"phase"`
		PodIP string `json:"podIP"`
	} `json:"status"`
}

func (j *podJSON) pod() Pod {
	p := Pod{Namespace: j.Metadata.Namespace, Name: j.Metadata.Name, Phase: j.Status.Phase,
		IP: j.Status.PodIP, Deleting: j.Metadata.DeletionTimestamp != nil}
	for _, c := range j.Spec.Containers {
		for _, cp := range c.Ports {
			p.Ports = append(p.Ports, Port{Name: cp.Name, Number: cp.ContainerPort})
		}
	}
	return p
}

// list reads every selected pod, in pages of 500, and returns the
// collection's resource version to watch from.
func (p *Pods) list(ctx context.Context) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	pods := map[string]Pod{}
	q := url.Values{"limit": {"500"}}
	if p.opts.Selector != "" {
		q.Set("labelSelector", p.opts.Selector)
	}
	for {
		resp, err := p.api.get(ctx, p.podsPath(), q)
		if err != nil {
			if se := (*statusError)(nil); errors.As(err, &se) && se.Code == http.StatusBadRequest {
				return "", fmt.Errorf("kubernetes selector %q: %w", p.opts.Selector, err)
			}
			return "", err
		}
		var page struct {
			Metadata struct {
				ResourceVersion string `json:"resourceVersion"`
				Continue        string `json:"continue"`
			} `json:"metadata"`
			Items []podJSON `json:"items"`
		}
		err = json.NewDecoder(resp.Body).Decode(&page)
		resp.Body.Close()
		if err != nil {
			return "", fmt.Errorf("kubernetes pod list: %w", err)
		}
		for i := range page.Items {
			pod := page.Items[i].pod()
			pods[pod.Namespace+"/"+pod.Name] = pod
		}
		if page.Metadata.Continue == "" {
			p.set(pods)
			return page.Metadata.ResourceVersion, nil
		}
		q.Set("continue", page.Metadata.Continue)
	}
}

// watch applies pod events from resource version rv until the server
// ends the watch (after timeoutSeconds), and returns the last resource
// version seen; errExpired when rv is too old.
func (p *Pods) watch(ctx context.Context, rv string) (string, error) {
	const timeout = 5 * time.Minute
	ctx, cancel := context.WithTimeout(ctx, timeout+time.Minute)
	defer cancel()
	q := url.Values{"watch": {"true"}, "resourceVersion": {rv}, "allowWatchBookmarks": {"true"},
		"timeoutSeconds": {fmt.Sprint(int(timeout.Seconds()))}}
	if p.opts.Selector != "" {
		q.Set("labelSelector", p.opts.Selector)
	}
	resp, err := p.api.get(ctx, p.podsPath(), q)
	if err != nil {
		var se *statusError
		if errors.As(err, &se) && se.Code == http.StatusGone {
			return rv, errExpired
		}
		return rv, err
	}
	defer resp.Body.Close()
	dec := json.NewDecoder(resp.Body)
	for {
		var ev struct {
			Type   string          `json:"type"`
			Object json.RawMessage `json:"object"`
		}
		if err := dec.Decode(&ev); err != nil {
			if errors.Is(err, io.EOF) {
				return rv, nil // the server's timeout: watch again from rv
			}
			return rv, fmt.Errorf("kubernetes pod watch: %w", err)
		}
		switch ev.Type {
		case "ADDED", "MODIFIED", "DELETED", "BOOKMARK":
			var pj podJSON
			if err := json.Unmarshal(ev.Object, &pj); err != nil {
				return rv, fmt.Errorf("kubernetes pod watch: %w", err)
			}
			if ev.Type != "BOOKMARK" {
				p.apply(ev.Type, pj.pod())
			}
			if pj.Metadata.ResourceVersion != "" {
				rv = pj.Metadata.ResourceVersion
			}
		case "ERROR":
			var st apiStatus
			_ = json.Unmarshal(ev.Object, &st)
			if st.Code == http.StatusGone || st.Reason == "Expired" || st.Reason == "Gone" {
				return rv, errExpired
			}
			return rv, &statusError{Code: st.Code, Message: st.Message}
		default:
			return rv, fmt.Errorf("kubernetes pod watch: unknown event type %q", ev.Type)
		}
	}
}
