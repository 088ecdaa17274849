package cluster

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/redis-autoscaler/redis-autoscaler/scaler/clusterops"
	"github.com/redis-autoscaler/redis-autoscaler/scaler/topology/clusterplan"
)

// What the plan is told of a pod: its own line, its view with the flags
// the rules read, and why it is not reachable.
func TestPlanNode(t *testing.T) {
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "rc-1"}}
	for _, tc := range []struct {
		name string
		node cnode
		want clusterplan.Node
	}{
		{name: "not running", node: cnode{pod: pod, ord: 1, err: errors.New("not running")},
			want: clusterplan.Node{Name: "rc-1", Ordinal: 1, Err: "not running"}},
		{name: "replica in sync, its view's flags", node: cnode{pod: pod, ord: 1, running: true, keys: 7, inSync: true,
			me: clusterops.Node{ID: "b", Flags: []string{"myself", "slave"}, MasterID: "a"},
			nodes: []clusterops.Node{
				{ID: "a", Addr: "10.0.0.1:6379", Flags: []string{"master", "fail?"}, Slots: []int{1, 2}},
				{ID: "b", Flags: []string{"myself", "slave"}, MasterID: "a"},
				{ID: "c", Flags: []string{"master", "fail", "noaddr"}},
				{ID: "d", Flags: []string{"handshake"}},
			}},
			want: clusterplan.Node{Name: "rc-1", Ordinal: 1, Reachable: true, ID: "b", MasterID: "a", Keys: 7, InSync: true,
				View: []clusterplan.Peer{
					{ID: "a", Addr: "10.0.0.1:6379", Master: true, Slots: 2, Suspected: true},
					{ID: "b"},
					{ID: "c", Master: true, Failed: true, NoAddr: true},
					{ID: "d", Handshake: true},
				}}},
		{name: "master with a slot open", node: cnode{pod: pod, ord: 1, running: true,
			me: clusterops.Node{ID: "a", Flags: []string{"myself", "master"}, Slots: []int{5}, Migrating: map[int]string{5: "b"}}},
			want: clusterplan.Node{Name: "rc-1", Ordinal: 1, Reachable: true, ID: "a", Master: true, Slots: []int{5}, Open: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, planNode(&tc.node))
		})
	}
}
