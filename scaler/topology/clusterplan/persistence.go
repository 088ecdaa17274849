package clusterplan

import (
	"fmt"
	"slices"
	"strings"
)

// Persistence is what a master's configuration says a restart keeps.
type Persistence struct {
	// Node is the pod; AppendOnly and AppendFsync its CONFIG values.
	Node                    string
	AppendOnly, AppendFsync string
}

// RestartGaps names, for each master whose restart within the cluster's
// node timeout would lose writes its replica acknowledged, what it would
// lose. Such a master keeps its node ID and slots (nodes.conf), so Redis
// does not fail its shard over, and its replica, finding a new replication
// ID, full-syncs down to what the restart loaded: with appendonly no the
// last RDB snapshot (nothing without one), with appendfsync everysec or no
// up to the writes since the last fsync. Only appendonly yes with
// appendfsync always (the reply to a write follows its fsync) keeps every
// write a replica acknowledged. Masters whose configuration could not be
// read are not judged.
func RestartGaps(masters []Persistence) []string {
	byLoss := map[string][]string{}
	for _, m := range masters {
		var loss string
		switch {
		case m.AppendOnly == "":
			continue
		case m.AppendOnly != "yes":
			loss = "appendonly no: everything since the last RDB snapshot (all of it without one)"
		case m.AppendFsync != "always":
			loss = fmt.Sprintf("appendfsync %s: the writes since the last fsync (about a second)", m.AppendFsync)
		default:
			continue
		}
		byLoss[loss] = append(byLoss[loss], m.Node)
	}
	var gaps []string
	for loss, nodes := range byLoss {
		slices.Sort(nodes)
		gaps = append(gaps, fmt.Sprintf("%s (%s)", loss, strings.Join(nodes, ", ")))
	}
	slices.Sort(gaps)
	return gaps
}
