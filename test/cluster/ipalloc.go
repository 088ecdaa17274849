package cluster

import (
	"fmt"
	"math/rand/v2"
	"sync"
)

// ipAllocator hands out pod IPs from 127.B.0.0/16, B chosen at random per
// runner so that several clusters on one host (parallel test packages,
// `make cluster` next to `make test`) rarely meet; an address whose ports
// are taken is skipped anyway. On Linux the whole of 127/8 is loopback and
// needs no configuration. Addresses are not reused until the range wraps,
// so a client holding a dead pod's IP does not reach a new pod.
type ipAllocator struct {
	mu    sync.Mutex
	base  int // second octet
	next  int // host part, 1..65533
	inUse map[string]bool
}

// randomNetBase picks the second octet of a cluster's 127.B.0.0/16.
func randomNetBase() int { return 16 + rand.IntN(224) }

// podHosts is the number of host parts for pods: 127.B.255.0/24 is the
// Service CIDR.
const podHosts = 255*256 - 1

func newIPAllocator(base int) *ipAllocator {
	if base == 0 {
		base = randomNetBase()
	}
	return &ipAllocator{base: base, next: 1, inUse: map[string]bool{}}
}

func (a *ipAllocator) allocate(ports []int) (string, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for range podHosts {
		n := a.next
		a.next = a.next%podHosts + 1
		// .0 and .255 host bytes are legal on loopback but look like
		// network/broadcast addresses in logs; skip them.
		if n%256 == 0 || n%256 == 255 {
			continue
		}
		ip := fmt.Sprintf("127.%d.%d.%d", a.base, n/256, n%256)
		if a.inUse[ip] || !allFree(ip, ports) {
			continue
		}
		a.inUse[ip] = true
		return ip, nil
	}
	return "", fmt.Errorf("no free pod IP in 127.%d.0.0/16", a.base)
}

func (a *ipAllocator) release(ip string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	delete(a.inUse, ip)
}

func allFree(ip string, ports []int) bool {
	for _, p := range ports {
		if !canBind(ip, p) {
			return false
		}
	}
	return true
}
