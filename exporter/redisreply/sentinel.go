package redisreply

import "strings"

// SentinelMaster is a master a Sentinel monitors, from SENTINEL MASTERS
// (Fields: name, ip, port, quorum, ...), SENTINEL CKQUORUM and the ok
// (not s_down or o_down) peers of SENTINEL SENTINELS and REPLICAS.
type SentinelMaster struct {
	Fields          map[string]string
	CKQuorumOK      bool
	CKQuorumMessage string
	// OKSentinels counts this Sentinel and its peers that are not down,
	// as redis_exporter does; OKReplicas the replicas that are not down.
	OKSentinels, OKReplicas int
	// Peers are the other Sentinels (SENTINEL SENTINELS entries).
	Peers []map[string]string
}

// ParseSentinelMasters reads SENTINEL MASTERS: one flat [key, value, ...]
// array per master. Entries without a name are left out.
func ParseSentinelMasters(reply any) []SentinelMaster {
	list, _ := reply.([]any)
	var out []SentinelMaster
	for _, m := range list {
		if f := flatMap(m); f["name"] != "" {
			out = append(out, SentinelMaster{Fields: f})
		}
	}
	return out
}

// ReadCKQuorum takes SENTINEL CKQUORUM's answer: a status when the quorum
// can be reached, an error (NOQUORUM, ...) when it cannot; either is the
// message.
func (m *SentinelMaster) ReadCKQuorum(status string, err error) {
	if err == nil {
		m.CKQuorumOK, m.CKQuorumMessage = true, status
		return
	}
	m.CKQuorumOK, m.CKQuorumMessage = false, err.Error()
}

// ReadPeers takes the SENTINEL SENTINELS and SENTINEL REPLICAS replies of
// m's master (nil when a command failed: no peers).
func (m *SentinelMaster) ReadPeers(sentinels, replicas any) {
	m.OKSentinels = 1 + okPeers(sentinels)
	m.OKReplicas = okPeers(replicas)
	peers, _ := sentinels.([]any)
	for _, p := range peers {
		m.Peers = append(m.Peers, flatMap(p))
	}
}

// okPeers counts the entries of a SENTINEL SENTINELS or REPLICAS reply
// whose flags are neither s_down nor o_down.
func okPeers(reply any) int {
	list, _ := reply.([]any)
	n := 0
	for _, p := range list {
		flags, ok := flatMap(p)["flags"]
		if ok && !strings.Contains(flags, "s_down") && !strings.Contains(flags, "o_down") {
			n++
		}
	}
	return n
}
