package promsource

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/redis-autoscaler/redis-autoscaler/adapter/source"
)

func TestRenderDefaultQueries(t *testing.T) {
	data := newQueryData("cache", []string{"redis-1", "redis-0"}, time.Minute, 0.99)
	sel := `{namespace="cache",pod=~"redis-0|redis-1"}`
	tests := map[string]string{
		source.OpsPerSecond:     `sum by (pod) (rate(redis_commands_processed_total` + sel + `[1m]))`,
		source.MemoryFraction:   `max by (pod) (redis_memory_used_bytes` + sel + ` / (redis_memory_max_bytes` + sel + ` > 0))`,
		source.ResponseTime:     `histogram_quantile(0.99, sum by (pod, le) (rate(redis_probe_rtt_seconds_bucket` + sel + `[1m])))`,
		source.ConnectedClients: `max by (pod) (redis_connected_clients` + sel + `)`,
		source.ReplicationLag:   `max by (pod) (redis_replication_lag_seconds` + sel + `)`,
	}
	for metric, want := range tests {
		t.Run(metric, func(t *testing.T) {
			tmpl, err := parseTemplate(metric, DefaultQueries[metric])
			require.NoError(t, err)
			got, err := render(tmpl, data)
			require.NoError(t, err)
			assert.Equal(t, want, got)

			tmpl, err = parseTemplate(metric, DefaultTimestampQueries[metric])
			require.NoError(t, err)
			got, err = render(tmpl, data)
			require.NoError(t, err)
			assert.Contains(t, got, "timestamp(")
			assert.Contains(t, got, sel)
		})
	}
}

func TestQueryData(t *testing.T) {
	tests := []struct {
		name      string
		namespace string
		pods      []string
		window    time.Duration
		quantile  float64
		want      QueryData
	}{
		{"one pod", "cache", []string{"redis-0"}, time.Minute, 0.99,
			QueryData{Namespace: "cache", PodRegex: "redis-0", Window: "1m", Quantile: "0.99"}},
		{"sorted", "ns", []string{"b", "a", "c"}, 90 * time.Second, 0.5,
			QueryData{Namespace: "ns", PodRegex: "a|b|c", Window: "1m30s", Quantile: "0.5"}},
		// A dot is a regexp metacharacter; its backslash must itself be
		// escaped inside a PromQL string.
		{"dotted name", "ns", []string{"redis.0"}, 5 * time.Minute, 0.9,
			QueryData{Namespace: "ns", PodRegex: `redis\\.0`, Window: "5m", Quantile: "0.9"}},
		{"seconds window", "ns", []string{"r"}, 15 * time.Second, 1,
			QueryData{Namespace: "ns", PodRegex: "r", Window: "15s", Quantile: "1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, newQueryData(tt.namespace, tt.pods, tt.window, tt.quantile))
		})
	}
}

func TestParseTemplateErrors(t *testing.T) {
	tests := []struct {
		name, text, wantErr string
	}{
		{"syntax", `sum({{.Window}`, "query template for m"},
		{"unknown field", `sum({{.Nope}})`, "render query for m"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tmpl, err := parseTemplate("m", tt.text)
			if err == nil {
				_, err = render(tmpl, QueryData{})
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.wantErr)
		})
	}
}
