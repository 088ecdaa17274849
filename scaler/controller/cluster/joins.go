package cluster

import (
	"strings"
	"sync"
	"time"

	"github.com/redis-autoscaler/redis-autoscaler/scaler/api/v1alpha1"
)

// joins remembers when this scaler first sent each joining node CLUSTER
// MEET. It is the one piece of memory the cluster reconciler keeps, and
// only for a diagnosis: Redis says nothing of how long a handshake has
// been failing, and a scaler restarted mid-join only reports it
// meetGrace later.
type joins struct {
	mu    sync.Mutex
	first map[string]time.Time // namespace/cluster/node ID -> first MEET
}

// since is how long ago the node was first met (0 the first time).
func (j *joins) since(rc *v1alpha1.RedisCluster, id string) time.Duration {
	key := rc.Namespace + "/" + rc.Name + "/" + id
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.first == nil {
		j.first = map[string]time.Time{}
	}
	now := time.Now()
	t, ok := j.first[key]
	if !ok {
		j.first[key] = now
		return 0
	}
	return now.Sub(t)
}

// joined forgets the nodes of cluster namespace/name that are not
// joining any more (joining nil: the cluster is gone).
func (j *joins) joined(namespace, name string, joining map[string]bool) {
	j.mu.Lock()
	defer j.mu.Unlock()
	prefix := namespace + "/" + name + "/"
	for key := range j.first {
		if id, ok := strings.CutPrefix(key, prefix); ok && !joining[id] {
			delete(j.first, key)
		}
	}
}
