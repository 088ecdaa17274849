package clusterplan

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestRollout(t *testing.T) {
	// rolling is a formed 2-shard cluster (rc-0, rc-2 masters) whose pods
	// at the listed ordinals run an older revision.
	rolling := func(partition int32, outdated ...int) Cluster {
		c := formed(2, 2)
		c.Rolling, c.Partition = true, partition
		for _, o := range outdated {
			c.Nodes[o].Outdated = true
		}
		return c
	}
	tests := []struct {
		name string
		c    Cluster
		want Step // the last step
	}{
		{"settled, nothing to update, not held: hold", rolling(0), Step{Kind: Partition, Pods: PartitionHold}},
		{"a replica is next: lower the partition to it", rolling(PartitionHold, 0, 1, 2, 3), Step{Kind: Partition, Node: "rc-3", Pods: 3}},
		{"a master is next: hand over to its updated replica first", rolling(3, 0, 1, 2), Step{Kind: Handover, Node: "rc-3", From: "rc-2", Slots: 8192}},
		{"rc-3 took over: rc-2 is a replica now, lower to it", func() Cluster {
			c := rolling(3, 0, 1, 2)
			c.Nodes[2].Master, c.Nodes[2].MasterID, c.Nodes[2].InSync, c.Nodes[3].Master, c.Nodes[3].MasterID = false, "id-rc-3", true, true, ""
			c.Nodes[3].Slots, c.Nodes[2].Slots = c.Nodes[2].Slots, nil
			return views(c)
		}(), Step{Kind: Partition, Node: "rc-2", Pods: 2}},
		{"the master is next and its replica is not in sync: wait", func() Cluster {
			c := rolling(3, 0, 1, 2)
			c.Nodes[3].InSync = false
			return c
		}(), Step{Kind: Attach, Masters: []string{"rc-0", "rc-2"}, Actions: []Action{{Kind: Syncing, Node: "rc-3", Master: "rc-2", Shard: 1}}}},
		{"the controller is replacing the next pod: nothing to do", rolling(3, 0, 1, 2, 3), Step{Kind: Attach, Masters: []string{"rc-0", "rc-2"}}},
		{"no replicas at all: a master is replaced in place", func() Cluster {
			c := formed(2, 1)
			c.Rolling, c.Partition = true, PartitionHold
			c.Nodes[1].Outdated = true
			return c
		}(), Step{Kind: Partition, Node: "rc-1", Pods: 1}},
		{"OnDelete: the scaler does not touch the partition", func() Cluster { c := rolling(0, 3); c.Rolling = false; return c }(), Step{Kind: Attach, Masters: []string{"rc-0", "rc-2"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := Decide(tt.c)
			last := p.Steps[len(p.Steps)-1]
			assert.Equal(t, describe(tt.want), describe(last), "%+v", last)
			assert.Equal(t, tt.want.Kind, last.Kind)
		})
	}
}

func TestHold(t *testing.T) {
	c := formed(2, 2)
	c.Rolling = true
	_, ok := c.Hold()
	assert.False(t, ok, "nothing outdated")
	c.Nodes[3].Outdated, c.Nodes[2].Outdated = true, true
	p, ok := c.Hold()
	assert.True(t, ok)
	assert.EqualValues(t, 4, p, "partition 0, rc-3 untouched yet: hold all")
	c.Nodes[3].Terminating = true
	p, _ = c.Hold()
	assert.EqualValues(t, 3, p, "rc-3 being replaced: let it finish")
	c.Partition = 3
	_, ok = c.Hold()
	assert.False(t, ok, "rc-3 is the one being replaced")
	c.Nodes[3].Terminating, c.Nodes[3].Outdated = false, false
	c.Partition = 2
	p, ok = c.Hold()
	assert.True(t, ok)
	assert.EqualValues(t, 3, p, "rc-2, opened to the controller, is a master (again): hold it for a handover")
	c.Partition = 4
	_, ok = c.Hold()
	assert.False(t, ok, "held already")
}
