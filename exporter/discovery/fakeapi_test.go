package discovery

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// fakeAPI is an API server for unit tests of the list and watch protocol
// (paging, events, bookmarks, an expired watch, the server ending a
// watch); the real control plane is in cluster_test.go.
type fakeAPI struct {
	t  *testing.T
	mu sync.Mutex
	rv int
	// pods by name in namespace "cache"; lists are paged by pageSize.
	pods     map[string]map[string]any
	pageSize int
	events   chan string // JSON watch events, to whichever watch is open
	expire   bool        // the next watch answers 410
	lists    int
	token    string
}

func newFakeAPI(t *testing.T) (*fakeAPI, Config) {
	f := &fakeAPI{t: t, pods: map[string]map[string]any{}, pageSize: 2, events: make(chan string, 100), token: "sekret"}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return f, Config{Server: srv.URL, Token: f.token}
}

func podObject(name, phase, ip, rv string, labels map[string]string, port int) map[string]any {
	return map[string]any{
		"metadata": map[string]any{"name": name, "namespace": "cache", "labels": labels, "resourceVersion": rv},
		"spec":     map[string]any{"containers": []any{map[string]any{"name": "redis", "ports": []any{map[string]any{"name": "redis", "containerPort": port}}}}},
		"status":   map[string]any{"phase": phase, "podIP": ip},
	}
}

// put adds or changes a pod and tells the open watch.
func (f *fakeAPI) put(name, phase, ip string, port int) {
	f.mu.Lock()
	f.rv++
	kind := "MODIFIED"
	if f.pods[name] == nil {
		kind = "ADDED"
	}
	f.pods[name] = podObject(name, phase, ip, fmt.Sprint(f.rv), map[string]string{"app": "redis"}, port)
	ev, _ := json.Marshal(map[string]any{"type": kind, "object": f.pods[name]})
	f.mu.Unlock()
	f.events <- string(ev)
}

func (f *fakeAPI) remove(name string) {
	f.mu.Lock()
	f.rv++
	obj := f.pods[name]
	delete(f.pods, name)
	ev, _ := json.Marshal(map[string]any{"type": "DELETED", "object": obj})
	f.mu.Unlock()
	f.events <- string(ev)
}

func (f *fakeAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") != "Bearer "+f.token {
		http.Error(w, `{"kind":"Status","code":401,"message":"Unauthorized"}`, http.StatusUnauthorized)
		return
	}
	if r.URL.Path != "/api/v1/namespaces/cache/pods" || r.URL.Query().Get("labelSelector") != "app=redis" {
		http.Error(w, `{"kind":"Status","code":400,"message":"unexpected request `+r.URL.String()+`"}`, http.StatusBadRequest)
		return
	}
	if r.URL.Query().Get("watch") != "true" {
		f.list(w, r)
		return
	}
	f.mu.Lock()
	expire := f.expire
	f.expire = false
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	if expire {
		fmt.Fprint(w, `{"type":"ERROR","object":{"kind":"Status","code":410,"reason":"Expired","message":"too old resource version"}}`+"\n")
		return
	}
	flusher := w.(http.Flusher)
	flusher.Flush()
	for {
		select {
		case <-r.Context().Done():
			return
		case ev := <-f.events:
			if ev == "end" {
				return // the server's watch timeout
			}
			fmt.Fprintln(w, ev)
			flusher.Flush()
		}
	}
}

func (f *fakeAPI) list(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lists++
	names := make([]string, 0, len(f.pods))
	for n := range f.pods {
		names = append(names, n)
	}
	// Sorted, paged by name: "continue" is the last name of the page.
	for i := range names {
		for j := i + 1; j < len(names); j++ {
			if names[j] < names[i] {
				names[i], names[j] = names[j], names[i]
			}
		}
	}
	after := r.URL.Query().Get("continue")
	var items []any
	next := ""
	for _, n := range names {
		if after != "" && strings.Compare(n, after) <= 0 {
			continue
		}
		if len(items) == f.pageSize {
			next = items[len(items)-1].(map[string]any)["metadata"].(map[string]any)["name"].(string)
			break
		}
		items = append(items, f.pods[n])
	}
	_ = json.NewEncoder(w).Encode(map[string]any{
		"metadata": map[string]any{"resourceVersion": fmt.Sprint(f.rv), "continue": next},
		"items":    items,
	})
}
