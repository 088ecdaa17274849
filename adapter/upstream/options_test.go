package upstream

import (
	"testing"
	"time"

	"github.com/spf13/pflag"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestFlags(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want Options
	}{
		{"defaults", nil, Options{TokenFile: ServiceAccountTokenFile, Timeout: 10 * time.Second, RefreshInterval: time.Minute}},
		{"all", []string{
			"--upstream", "https://prometheus-adapter.monitoring.svc:443",
			"--upstream.ca-file", "/ca.crt", "--upstream.insecure-skip-tls-verify",
			"--upstream.token-file", "", "--upstream.timeout", "3s", "--upstream.refresh-interval", "5m",
		}, Options{
			URL: "https://prometheus-adapter.monitoring.svc:443", CAFile: "/ca.crt", InsecureSkipVerify: true,
			Timeout: 3 * time.Second, RefreshInterval: 5 * time.Minute,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var o Options
			fs := pflag.NewFlagSet("adapter", pflag.ContinueOnError)
			o.AddFlags(fs)
			require.NoError(t, fs.Parse(tt.args))
			assert.Equal(t, tt.want, o)
		})
	}
}
