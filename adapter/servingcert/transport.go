package servingcert

import (
	"net/http"
	"strings"

	"k8s.io/apimachinery/pkg/fields"
)

// nameScopedTransport adds a metadata.name field selector to LIST and
// WATCH requests of one collection (path), so that they ask for one named
// object. cert-controller's cache lists and watches every Secret of the
// namespace; with the selector the API server authorizes the request
// against RBAC rules with resourceNames, and the adapter needs no right to
// read any other Secret.
type nameScopedTransport struct {
	next http.RoundTripper
	path string // e.g. /api/v1/namespaces/NS/secrets
	name string
}

func (t *nameScopedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Method != http.MethodGet || strings.TrimSuffix(req.URL.Path, "/") != t.path {
		return t.next.RoundTrip(req)
	}
	q := req.URL.Query()
	sel := fields.OneTermEqualSelector("metadata.name", t.name).String()
	if cur := q.Get("fieldSelector"); cur != "" && cur != sel {
		sel = cur + "," + sel
	}
	q.Set("fieldSelector", sel)
	r := req.Clone(req.Context())
	r.URL.RawQuery = q.Encode()
	return t.next.RoundTrip(r)
}
