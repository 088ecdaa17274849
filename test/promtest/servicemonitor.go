package promtest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/url"
	"regexp"
	"sort"
	"strings"

	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

// serviceMonitor is the part of a Prometheus Operator ServiceMonitor that
// the shipped ones use.
type serviceMonitor struct {
	Kind     string `json:"kind"`
	Metadata struct {
		Name      string `json:"name"`
		Namespace string `json:"namespace"`
	} `json:"metadata"`
	Spec struct {
		Selector struct {
			MatchLabels map[string]string `json:"matchLabels"`
		} `json:"selector"`
		Endpoints []struct {
			Port            string `json:"port"`
			Scheme          string `json:"scheme"`
			HonorLabels     bool   `json:"honorLabels"`
			BearerTokenFile string `json:"bearerTokenFile"`
			TLSConfig       *struct {
				ServerName string `json:"serverName"`
				CA         struct {
					Secret *struct {
						Name string `json:"name"`
						Key  string `json:"key"`
					} `json:"secret"`
				} `json:"ca"`
			} `json:"tlsConfig"`
		} `json:"endpoints"`
	} `json:"spec"`
}

// ServiceMonitorEnv is what the Prometheus Operator would provide:
// discovery (the URL of EndpointSliceDiscovery), Prometheus'
// ServiceAccount token, and the Secrets a tlsConfig names, as files.
type ServiceMonitorEnv struct {
	DiscoveryURL string
	TokenFile    string
	// Secrets maps "secret-name/key" to a file holding that key's value.
	Secrets map[string]string
}

var unsafeLabelChars = regexp.MustCompile(`[^a-zA-Z0-9_]`)

// ScrapeConfigsFromServiceMonitors translates ServiceMonitors (YAML, other
// kinds skipped) into scrape_configs as the Prometheus Operator generates
// them: endpointslice discovery in the monitor's namespace (served over
// http_sd by EndpointSliceDiscovery, with the same meta labels), services kept by
// the selector, the named port, the job named after the Service, namespace,
// service, pod, container and endpoint target labels, honor_labels, scheme,
// bearer token and TLS. Every interval becomes 1 s for tests. One change
// for the local control plane: its EndpointSlices hold FQDN names that do
// not resolve, so the address is the pod's IP and the port.
func ScrapeConfigsFromServiceMonitors(manifests []byte, env ServiceMonitorEnv) (string, error) {
	var out strings.Builder
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(manifests), 4096)
	n := 0
	for {
		var sm serviceMonitor
		if err := dec.Decode(&sm); err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			return "", err
		}
		if sm.Kind != "ServiceMonitor" {
			continue
		}
		for i, ep := range sm.Spec.Endpoints {
			cfg := map[string]any{
				"job_name":        fmt.Sprintf("serviceMonitor/%s/%s/%d", sm.Metadata.Namespace, sm.Metadata.Name, i),
				"honor_labels":    ep.HonorLabels,
				"scrape_interval": "1s",
				"scrape_timeout":  "900ms",
				"http_sd_configs": []any{map[string]any{
					"url": env.DiscoveryURL + "?namespace=" + url.QueryEscape(sm.Metadata.Namespace), "refresh_interval": "1s",
				}},
			}
			if ep.Scheme != "" {
				cfg["scheme"] = ep.Scheme
			}
			if ep.BearerTokenFile != "" {
				// The monitor names the path in Prometheus' pod.
				cfg["authorization"] = map[string]any{"credentials_file": env.TokenFile}
			}
			if t := ep.TLSConfig; t != nil {
				tls := map[string]any{"server_name": t.ServerName}
				if s := t.CA.Secret; s != nil {
					file, ok := env.Secrets[s.Name+"/"+s.Key]
					if !ok {
						return "", fmt.Errorf("%s: no file for secret %s key %s", sm.Metadata.Name, s.Name, s.Key)
					}
					tls["ca_file"] = file
				}
				cfg["tls_config"] = tls
			}
			var relabel []any
			keys := make([]string, 0, len(sm.Spec.Selector.MatchLabels))
			for k := range sm.Spec.Selector.MatchLabels {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				relabel = append(relabel, map[string]any{"action": "keep",
					"source_labels": []string{"__meta_kubernetes_service_label_" + unsafeLabelChars.ReplaceAllString(k, "_")},
					"regex":         regexp.QuoteMeta(sm.Spec.Selector.MatchLabels[k])})
			}
			relabel = append(relabel,
				map[string]any{"action": "keep", "source_labels": []string{"__meta_kubernetes_endpointslice_port_name"}, "regex": regexp.QuoteMeta(ep.Port)},
				map[string]any{"source_labels": []string{"__meta_kubernetes_pod_ip", "__meta_kubernetes_endpointslice_port"}, "separator": ":", "target_label": "__address__"},
				map[string]any{"source_labels": []string{"__meta_kubernetes_namespace"}, "target_label": "namespace"},
				map[string]any{"source_labels": []string{"__meta_kubernetes_service_name"}, "target_label": "service"},
				map[string]any{"source_labels": []string{"__meta_kubernetes_pod_name"}, "target_label": "pod"},
				map[string]any{"source_labels": []string{"__meta_kubernetes_pod_container_name"}, "target_label": "container"},
				map[string]any{"source_labels": []string{"__meta_kubernetes_service_name"}, "target_label": "job"},
				map[string]any{"target_label": "endpoint", "replacement": ep.Port},
			)
			cfg["relabel_configs"] = relabel
			b, err := yaml.Marshal([]any{cfg})
			if err != nil {
				return "", err
			}
			// Indent the list item under scrape_configs.
			for _, line := range strings.Split(strings.TrimRight(string(b), "\n"), "\n") {
				out.WriteString("  " + line + "\n")
			}
			n++
		}
	}
	if n == 0 {
		return "", errors.New("no ServiceMonitor endpoints")
	}
	return out.String(), nil
}
