package upstream

import (
	"crypto/tls"
	"io"
	"net/http"
	"testing"
)

func TestDebugAPIs(t *testing.T) {
	srv := startUpstream(t)
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	for _, p := range []string{"/api", "/apis", "/apis/custom.metrics.k8s.io", "/apis/custom.metrics.k8s.io/v1beta2"} {
		req, _ := http.NewRequest("GET", srv.url+p, nil)
		req.Header.Set("Authorization", "Bearer "+upstreamToken); req.Header.Set("Accept", "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json")
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		t.Logf("%s %d %s", p, resp.StatusCode, b)
	}
}
