package servingcert

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/require"
)

type recordRT struct{ got *http.Request }

func (r *recordRT) RoundTrip(req *http.Request) (*http.Response, error) {
	r.got = req
	return &http.Response{StatusCode: 200}, nil
}

func TestNameScopedTransport(t *testing.T) {
	const path = "/api/v1/namespaces/ns/secrets"
	for _, tc := range []struct {
		name, method, url, want string
	}{
		{"list gets the selector", "GET", path + "?limit=500", "fieldSelector=metadata.name%3Dcerts&limit=500"},
		{"watch gets the selector", "GET", path + "?watch=true&resourceVersion=5", "fieldSelector=metadata.name%3Dcerts&resourceVersion=5&watch=true"},
		{"an existing selector is kept", "GET", path + "?fieldSelector=type%3DOpaque", "fieldSelector=type%3DOpaque%2Cmetadata.name%3Dcerts"},
		{"the same selector is not doubled", "GET", path + "?fieldSelector=metadata.name%3Dcerts", "fieldSelector=metadata.name%3Dcerts"},
		{"a named get is untouched", "GET", path + "/certs", ""},
		{"an update is untouched", "PUT", path + "/certs", ""},
		{"other collections are untouched", "GET", "/api/v1/namespaces/ns/configmaps", ""},
		{"other namespaces are untouched", "GET", "/api/v1/namespaces/other/secrets", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := &recordRT{}
			tr := &nameScopedTransport{next: rec, path: path, name: "certs"}
			u, err := url.Parse("https://api" + tc.url)
			require.NoError(t, err)
			_, err = tr.RoundTrip(&http.Request{Method: tc.method, URL: u})
			require.NoError(t, err)
			if tc.want == "" {
				require.Equal(t, u.RawQuery, rec.got.URL.RawQuery)
				return
			}
			require.Equal(t, tc.want, rec.got.URL.RawQuery)
		})
	}
}
