package exporter

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/redis-autoscaler/redis-autoscaler/test/redistest"
)

// Every redis_exporter flag is known: implemented, or refused with a
// reason when set to anything but its default.
func TestEveryRedisExporterFlagIsKnown(t *testing.T) {
	f, err := os.Open("testdata/redis_exporter_flags.txt")
	require.NoError(t, err)
	defer f.Close()
	sc := bufio.NewScanner(f)
	n := 0
	noEnv := func(string) string { return "" }
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, env, _ := strings.Cut(line, " ")
		n++
		_, err := ParseFlags([]string{"--" + name + "=x"}, noEnv, io.Discard)
		if err != nil {
			assert.NotContains(t, err.Error(), "not defined", "--%s", name)
		}
		if def, ok := unsupportedFlags[name]; ok {
			_, err := ParseFlags([]string{"--" + name + "=" + def}, noEnv, io.Discard)
			assert.NoError(t, err, "--%s at its default", name)
			require.Error(t, err2(ParseFlags([]string{"--" + name + "=somethingelse"}, noEnv, io.Discard)), name)
		}
		if env == "" {
			continue
		}
		// The environment variable sets the flag: the same configuration
		// (or the same error) as the flag with that value.
		value := "7"
		if isBoolFlag(t, name) {
			value = "true"
			if on, _ := ParseFlags([]string{"--" + name + "=true"}, noEnv, io.Discard); assert.ObjectsAreEqual(on, must(ParseFlags(nil, noEnv, io.Discard))) {
				value = "false" // on by default
			}
		}
		fromFlag, flagErr := ParseFlags([]string{"--" + name + "=" + value}, noEnv, io.Discard)
		fromEnv, envErr := ParseFlags(nil, func(k string) string {
			if k == env {
				return value
			}
			return ""
		}, io.Discard)
		if flagErr != nil {
			assert.Error(t, envErr, "%s=%s", env, value)
			continue
		}
		require.NoError(t, envErr, "%s=%s", env, value)
		fromFlag.Addrs.fromEnv, fromEnv.Addrs.fromEnv = false, false
		assert.Equal(t, fromFlag, fromEnv, "%s sets --%s", env, name)
		def, _ := ParseFlags(nil, noEnv, io.Discard)
		assert.NotEqual(t, def, fromEnv, "%s=%s changes something", env, value)
	}
	assert.Greater(t, n, 50)
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func isBoolFlag(t *testing.T, name string) bool {
	_, err := ParseFlags([]string{"--" + name}, func(string) string { return "" }, io.Discard)
	return err == nil || !strings.Contains(err.Error(), "needs an argument")
}

func err2[T any](_ T, err error) error { return err }

// --basic-auth-* and --tls-server-* protect /metrics as in redis_exporter.
func TestWebAuthAndTLSFlags(t *testing.T) {
	s := redistest.Start(t)
	certs := redistest.NewTLS(t)
	base, _ := startExporter(t, "--redis.addr", s.URL(), "--basic-auth-username", "prom", "--basic-auth-password", "pw-Secret",
		"--tls-server-cert-file", certs.ServerCert, "--tls-server-key-file", certs.ServerKey, "--tls-server-min-version", "TLS1.3")
	url := strings.Replace(base, "http://", "https://", 1) + "/metrics"
	pool := x509.NewCertPool()
	ca, err := os.ReadFile(certs.CA)
	require.NoError(t, err)
	pool.AppendCertsFromPEM(ca)
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}

	resp, err := client.Get(url)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	req.SetBasicAuth("prom", "pw-Secret")
	resp, err = client.Do(req)
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Contains(t, string(body), "redis_up")

	old := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MaxVersion: tls.VersionTLS12}}}
	_, err = old.Get(url)
	assert.Error(t, err, "--tls-server-min-version TLS1.3")

	_, err = ParseFlags([]string{"--basic-auth-username", "u", "--web.config.file", "x.yml"}, func(string) string { return "" }, io.Discard)
	assert.ErrorContains(t, err, "conflict")
}
