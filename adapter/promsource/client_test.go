package promsource

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/redis-autoscaler/redis-autoscaler/adapter/source"
)

// fakePrometheus answers /api/v1/query like Prometheus when the request
// carries wantAuth, and records the queries it saw.
func fakePrometheus(t *testing.T, wantAuth func(*http.Request) bool, answer func(query string) (int, string)) (url string, queries chan string) {
	queries = make(chan string, 16)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !wantAuth(r) {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		q := r.FormValue("query")
		queries <- q
		code, body := answer(q)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		fmt.Fprint(w, body)
	}))
	t.Cleanup(srv.Close)
	return srv.URL, queries
}

func vectorJSON(at time.Time, podValues ...string) string {
	var items []string
	for i := 0; i+1 < len(podValues); i += 2 {
		items = append(items, fmt.Sprintf(`{"metric":{"pod":%q},"value":[%.3f,%q]}`, podValues[i], float64(at.UnixMilli())/1000, podValues[i+1]))
	}
	return `{"status":"success","data":{"resultType":"vector","result":[` + strings.Join(items, ",") + `]}}`
}

func pods(ns string, names ...string) []*corev1.Pod {
	out := make([]*corev1.Pod, len(names))
	for i, n := range names {
		out[i] = &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: n}}
	}
	return out
}

func writeFile(t *testing.T, name, content string) string {
	p := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.WriteFile(p, []byte(content), 0o600))
	return p
}

func TestAuthAndErrors(t *testing.T) {
	now := time.Now()
	ok := func(q string) (int, string) {
		if strings.Contains(q, "timestamp(") {
			return 200, vectorJSON(now, "redis-0", fmt.Sprint(float64(now.UnixMilli())/1000))
		}
		return 200, vectorJSON(now, "redis-0", "42", "other", "1")
	}
	tests := []struct {
		name     string
		auth     func(*http.Request) bool
		opts     func(url string) Options
		answer   func(string) (int, string)
		want     map[string]float64
		wantErr  []string
		notInErr string
	}{
		{
			name: "bearer token file",
			auth: func(r *http.Request) bool { return r.Header.Get("Authorization") == "Bearer s3cret-token" },
			opts: func(u string) Options {
				return Options{URL: u, BearerTokenFile: writeFile(t, "token", "s3cret-token\n")}
			},
			answer: ok, want: map[string]float64{"redis-0": 42},
		},
		{
			name: "basic auth password file",
			auth: func(r *http.Request) bool { u, p, ok := r.BasicAuth(); return ok && u == "adapter" && p == "pw" },
			opts: func(u string) Options {
				return Options{URL: u, BasicAuthUser: "adapter", BasicAuthPassFile: writeFile(t, "pw", "pw")}
			},
			answer: ok, want: map[string]float64{"redis-0": 42},
		},
		{
			name: "credentials in URL become basic auth",
			auth: func(r *http.Request) bool { u, p, ok := r.BasicAuth(); return ok && u == "adapter" && p == "hunter2" },
			opts: func(u string) Options {
				return Options{URL: strings.Replace(u, "http://", "http://adapter:hunter2@", 1)}
			},
			answer: ok, want: map[string]float64{"redis-0": 42},
		},
		{
			name: "query error names the metric, not the password",
			auth: func(*http.Request) bool { return true },
			opts: func(u string) Options {
				return Options{URL: strings.Replace(u, "http://", "http://adapter:hunter2@", 1)}
			},
			answer: func(string) (int, string) {
				return 400, `{"status":"error","errorType":"bad_data","error":"parse error"}`
			},
			wantErr:  []string{source.OpsPerSecond, "parse error"},
			notInErr: "hunter2",
		},
		{
			name:     "unauthorized",
			auth:     func(*http.Request) bool { return false },
			opts:     func(u string) Options { return Options{URL: u, BearerTokenFile: writeFile(t, "token", "wrong-token")} },
			answer:   ok,
			wantErr:  []string{source.OpsPerSecond},
			notInErr: "wrong-token",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			url, queries := fakePrometheus(t, tt.auth, tt.answer)
			src, err := New(tt.opts(url))
			require.NoError(t, err)
			got, err := src.PodValues(context.Background(), source.OpsPerSecond, pods("cache", "redis-0"))
			if len(tt.wantErr) > 0 {
				require.Error(t, err)
				for _, s := range tt.wantErr {
					assert.Contains(t, err.Error(), s)
				}
				assert.NotContains(t, err.Error(), tt.notInErr)
				return
			}
			require.NoError(t, err)
			values := map[string]float64{}
			for pod, v := range got {
				values[pod] = v.Value
				assert.Equal(t, time.Minute, v.Window)
			}
			assert.Equal(t, tt.want, values)
			assert.Len(t, queries, 2, "value and timestamp query")
		})
	}
}

func TestFlags(t *testing.T) {
	var o Options
	fs := pflag.NewFlagSet("adapter", pflag.ContinueOnError)
	o.AddFlags(fs)
	require.NoError(t, fs.Parse([]string{
		"--prometheus.url", "http://prometheus:9090",
		"--prometheus.query.redis_connected_clients", `sum by (pod) (my_clients{namespace="{{.Namespace}}"})`,
		"--prometheus.timestamp-query.redis_connected_clients", "",
		"--prometheus.window", "2m",
		"--prometheus.response-time-quantile", "0.95",
	}))
	src, err := New(o)
	require.NoError(t, err)
	assert.Equal(t, 2*time.Minute, src.opts.Window)
	assert.Equal(t, 0.95, src.opts.Quantile)
	got, err := render(src.queries[source.ConnectedClients], newQueryData("ns", []string{"p"}, time.Minute, 1))
	require.NoError(t, err)
	assert.Equal(t, `sum by (pod) (my_clients{namespace="ns"})`, got)
	assert.Nil(t, src.timestamps[source.ConnectedClients])
	assert.NotNil(t, src.timestamps[source.OpsPerSecond])

	_, err = New(Options{})
	assert.ErrorContains(t, err, "--prometheus.url")
	_, err = New(Options{URL: "http://p", Queries: map[string]string{source.MemoryFraction: "{{"}})
	assert.ErrorContains(t, err, source.MemoryFraction)
}
