package promsource

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"text/template"
	"time"

	"github.com/prometheus/common/model"

	"github.com/redis-autoscaler/redis-autoscaler/adapter/source"
)

// selector is the series selector every default query shares.
const selector = `{namespace="{{.Namespace}}",pod=~"{{.PodRegex}}"}`

// DefaultQueries are the PromQL templates for the exporter's metrics.
var DefaultQueries = map[string]string{
	source.OpsPerSecond: `sum by (pod) (rate(redis_commands_processed_total` + selector + `[{{.Window}}]))`,
	// maxmemory 0 means no limit: "> 0" drops the series so such a pod has
	// no fraction rather than +Inf.
	source.MemoryFraction:   `max by (pod) (redis_memory_used_bytes` + selector + ` / (redis_memory_max_bytes` + selector + ` > 0))`,
	source.ResponseTime:     `histogram_quantile({{.Quantile}}, sum by (pod, le) (rate(redis_probe_rtt_seconds_bucket` + selector + `[{{.Window}}])))`,
	source.ConnectedClients: `max by (pod) (redis_connected_clients` + selector + `)`,
	source.ReplicationLag:   `max by (pod) (redis_replication_lag_seconds` + selector + `)`,
}

// DefaultTimestampQueries return, per pod, when the series behind each
// default query was last scraped.
var DefaultTimestampQueries = map[string]string{
	source.OpsPerSecond:     `max by (pod) (timestamp(redis_commands_processed_total` + selector + `))`,
	source.MemoryFraction:   `max by (pod) (timestamp(redis_memory_used_bytes` + selector + `))`,
	source.ResponseTime:     `max by (pod) (timestamp(redis_probe_rtt_seconds_count` + selector + `))`,
	source.ConnectedClients: `max by (pod) (timestamp(redis_connected_clients` + selector + `))`,
	source.ReplicationLag:   `max by (pod) (timestamp(redis_replication_lag_seconds` + selector + `))`,
}

// windowed says which metrics summarise a window rather than an instant.
var windowed = map[string]bool{source.OpsPerSecond: true, source.ResponseTime: true}

// QueryData is what a query template sees.
type QueryData struct {
	Namespace string
	// PodRegex matches exactly the pods asked for: regexp-quoted names
	// joined by |, escaped to sit inside a double-quoted PromQL string.
	PodRegex string
	Window   string // Prometheus duration, e.g. 1m
	Quantile string // e.g. 0.99
}

// newQueryData builds the template data for pods of one namespace. Names
// are sorted so the same pods give the same query text (cache friendly).
func newQueryData(namespace string, pods []string, window time.Duration, quantile float64) QueryData {
	quoted := make([]string, len(pods))
	for i, p := range pods {
		quoted[i] = regexp.QuoteMeta(p)
	}
	sort.Strings(quoted)
	return QueryData{
		Namespace: promString(namespace),
		PodRegex:  promString(strings.Join(quoted, "|")),
		Window:    model.Duration(window).String(),
		Quantile:  strconv.FormatFloat(quantile, 'g', -1, 64),
	}
}

// promString escapes s for a double-quoted PromQL string, whose escapes
// follow Go's: a regexp's \. must be written \\. there.
func promString(s string) string {
	q := strconv.Quote(s)
	return q[1 : len(q)-1]
}

// parseTemplate parses a query template; name says which flag it came from.
func parseTemplate(name, text string) (*template.Template, error) {
	t, err := template.New(name).Option("missingkey=error").Parse(text)
	if err != nil {
		return nil, fmt.Errorf("query template for %s: %w", name, err)
	}
	return t, nil
}

// render executes a parsed query template.
func render(t *template.Template, data QueryData) (string, error) {
	var b strings.Builder
	if err := t.Execute(&b, data); err != nil {
		return "", fmt.Errorf("render query for %s: %w", t.Name(), err)
	}
	return b.String(), nil
}
