// Package topology holds the scaler's decisions as pure functions: which
// pod is the master, which pods to attach to it, whether a scale-down is
// safe and through which switchover. Inputs are observations (Pod), outputs
// are plans; nothing here talks to Redis or Kubernetes.
package topology

import "cmp"

// Role of a Redis server as INFO replication reports it.
const (
	RoleMaster  = "master"
	RoleReplica = "slave"
)

// Pod is what the scaler observed of one pod of the group.
type Pod struct {
	// Name of the pod and its StatefulSet ordinal.
	Name    string
	Ordinal int
	// Address other pods reach this one at (pod IP or DNS name), and Port.
	Address string
	Port    int
	// Running: the pod's Redis container is running (it may be in its
	// termination grace period: see Terminating).
	Running bool
	// Terminating: the pod is being deleted (rolling update, drain,
	// kubectl delete) but may still be alive and taking writes.
	Terminating bool
	// Outdated: the pod runs an older revision of the StatefulSet's
	// template than the update revision (a rolling update is due).
	Outdated bool
	// Reachable: INFO answered in this reconcile. The fields below are
	// meaningful only when it did.
	Reachable bool
	Role      string
	RunID     string
	// ReplID is master_replid: the replication history the pod's data
	// belongs to (on a replica, its master's). Offsets compare only within
	// one history.
	ReplID string
	// ReplID2 and SecondOffset are master_replid2 and second_repl_offset:
	// a pod promoted from a replica keeps the history it followed there,
	// valid up to (not including) SecondOffset. Empty and 0 otherwise.
	ReplID2      string
	SecondOffset int64
	// Offset is master_repl_offset: on a master the bytes of replication
	// stream it produced, on a replica how far it has processed its
	// master's stream.
	Offset int64
	// Keys across all databases.
	Keys int64
	// ConnectedReplicas is connected_slaves (masters).
	ConnectedReplicas int
	// Replica side: where it replicates from and how.
	MasterHost     string
	MasterPort     int
	LinkUp         bool
	SyncInProgress bool
}

// IsMaster reports whether the pod answers as a master.
func (p Pod) IsMaster() bool { return p.Reachable && p.Role == RoleMaster }

// Follows reports whether the pod is a replica of host:port.
func (p Pod) Follows(host string, port int) bool {
	return p.Reachable && p.Role == RoleReplica && p.MasterHost == host && p.MasterPort == port
}

// InSyncWith reports whether the pod replicates host:port with the link up
// and no initial sync in progress.
func (p Pod) InSyncWith(host string, port int) bool {
	return p.Follows(host, port) && p.LinkUp && !p.SyncInProgress
}

// HasData reports whether the pod holds any data or replication history.
func (p Pod) HasData() bool { return p.Keys > 0 || p.Offset > 0 }

// Find returns the pod of that name.
func Find(pods []Pod, name string) (Pod, bool) {
	for _, p := range pods {
		if p.Name == name {
			return p, true
		}
	}
	return Pod{}, false
}

// moreData orders pods by the data they hold: highest offset, then most
// keys, then lowest ordinal (a stable, predictable tie-break).
func moreData(a, b Pod) int {
	if c := cmp.Compare(b.Offset, a.Offset); c != 0 {
		return c
	}
	if c := cmp.Compare(b.Keys, a.Keys); c != 0 {
		return c
	}
	return cmp.Compare(a.Ordinal, b.Ordinal)
}
