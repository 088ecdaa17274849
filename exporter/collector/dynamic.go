package collector

import (
	"slices"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

// familyMaker builds a target's families: the namespace and the target
// labels (addr, then namespace and pod, then instance_role) are fixed
// per collector.
type familyMaker struct {
	ns   string
	base []string
}

// family is a family named ns_name with the target labels and extra.
func (m familyMaker) family(name, help string, extra ...string) *family {
	return newFamily(prometheus.BuildFQName(m.ns, "", name), help, append(append([]string{}, m.base...), extra...))
}

// dynamic builds families named after fields a server reports, with the
// target labels and extra.
func (m familyMaker) dynamic(extra ...string) *dynamicDescs {
	return &dynamicDescs{ns: m.ns, base: append(slices.Clone(m.base), extra...)}
}

// dynamicDescs are descriptors named after fields a server reports,
// built once per name.
type dynamicDescs struct {
	mu    sync.Mutex
	ns    string
	base  []string
	descs map[string]*family
}

func (dd *dynamicDescs) get(name, help string) *family {
	dd.mu.Lock()
	defer dd.mu.Unlock()
	if d, ok := dd.descs[name]; ok {
		return d
	}
	if dd.descs == nil {
		dd.descs = map[string]*family{}
	}
	d := newFamily(prometheus.BuildFQName(dd.ns, "", name), help, dd.base)
	dd.descs[name] = d
	return d
}
