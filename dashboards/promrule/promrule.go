// Package promrule renders dashboards/alerts.yaml, the one source of the
// project's alerts, as the PrometheusRule of the monitoring component and
// of the Helm chart (`make alerts`).
package promrule

import (
	"fmt"
	"regexp"
	"strings"
)

// Paths relative to the repository root.
const (
	Source    = "dashboards/alerts.yaml"
	Component = "deploy/components/monitoring/prometheusrule.yaml"
	Chart     = "deploy/helm/redis-autoscaler/templates/monitoring-prometheusrule.yaml"
)

// templateAction is a Go-template action in an alert's text; in the chart
// it must reach Prometheus unevaluated by Helm.
var templateAction = regexp.MustCompile(`\{\{.*?\}\}`)

// Render returns the component's PrometheusRule and the chart's template.
func Render(rules string) (component, chartTemplate string, err error) {
	i := strings.Index(rules, "\ngroups:")
	if i < 0 {
		return "", "", fmt.Errorf("%s has no top-level groups", Source)
	}
	var spec strings.Builder
	for _, line := range strings.Split(strings.TrimRight(rules[i+1:], "\n"), "\n") {
		if line == "" {
			spec.WriteString("\n")
			continue
		}
		spec.WriteString("  " + line + "\n")
	}
	head := func(ns string) string {
		return "# Generated from dashboards/alerts.yaml by `make alerts`; do not edit.\n" +
			"apiVersion: monitoring.coreos.com/v1\nkind: PrometheusRule\nmetadata:\n  name: redis-autoscaler\n" +
			"  namespace: " + ns + "\n  labels: {app.kubernetes.io/name: redis-autoscaler}\nspec:\n"
	}
	component = head("redis-autoscaler") + spec.String()
	escaped := templateAction.ReplaceAllStringFunc(spec.String(), func(a string) string { return "{{`" + a + "`}}" })
	chartTemplate = "{{- if .Values.monitoring.enabled }}\n" + head("{{ .Release.Namespace }}") + escaped + "{{- end }}\n"
	return component, chartTemplate, nil
}
