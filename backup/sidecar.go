package backup

import (
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/redis-autoscaler/redis-autoscaler/backup/rdb"
)

// Sidecar is FILE.json beside a backup: where and when it was taken and
// what it holds, so a restore (or a person) can check it without Redis.
type Sidecar struct {
	File       string    `json:"file"`
	Source     string    `json:"source"`
	Group      string    `json:"group,omitempty"`
	Role       string    `json:"role,omitempty"`
	StartedAt  time.Time `json:"startedAt"`
	FinishedAt time.Time `json:"finishedAt"`
	// Size in bytes and CRC64 (Redis' Jones polynomial, hex) of the file.
	Size  int64  `json:"size"`
	CRC64 string `json:"crc64"`
	// ReplID and ReplOffset: the source's replication position the
	// snapshot corresponds to (from the RDB's aux fields).
	ReplID       string        `json:"replId,omitempty"`
	ReplOffset   int64         `json:"replOffset,omitempty"`
	RedisVersion string        `json:"redisVersion,omitempty"`
	RDBVersion   int           `json:"rdbVersion"`
	Keys         int64         `json:"keys"`
	DBs          []rdb.DBStats `json:"dbs"`
	// Sample: a uniform sample of keys (names, types, expiries, digests of
	// string values) for the restore's check.
	Sample   []rdb.Key `json:"sample,omitempty"`
	Diskless bool      `json:"diskless"`
}

func newSidecar(file, source string, started time.Time, s *rdb.Summary) *Sidecar {
	sc := &Sidecar{
		File: file, Source: source, StartedAt: started.UTC(), FinishedAt: time.Now().UTC(),
		Size: s.Size, CRC64: fmt.Sprintf("%016x", s.Checksum),
		ReplID: s.Aux["repl-id"], RedisVersion: s.Aux["redis-ver"], RDBVersion: s.Version,
		Keys: s.Keys, DBs: s.DBs, Sample: s.Sample,
	}
	if sc.DBs == nil {
		sc.DBs = []rdb.DBStats{}
	}
	sc.ReplOffset, _ = strconv.ParseInt(s.Aux["repl-offset"], 10, 64)
	return sc
}

// SidecarPath is where the sidecar of a backup file lives.
func SidecarPath(file string) string { return file + ".json" }

// ReadSidecar reads a backup's sidecar.
func ReadSidecar(file string) (*Sidecar, error) {
	b, err := os.ReadFile(SidecarPath(file))
	if err != nil {
		return nil, err
	}
	var sc Sidecar
	if err := json.Unmarshal(b, &sc); err != nil {
		return nil, fmt.Errorf("sidecar %s: %w", SidecarPath(file), err)
	}
	return &sc, nil
}

// matches checks a file's summary against its sidecar.
func (sc *Sidecar) matches(s *rdb.Summary) error {
	crc := fmt.Sprintf("%016x", s.Checksum)
	switch {
	case sc.Size != s.Size:
		return fmt.Errorf("sidecar says %d bytes, the file has %d", sc.Size, s.Size)
	case sc.CRC64 != crc:
		return fmt.Errorf("sidecar says CRC64 %s, the file's is %s", sc.CRC64, crc)
	case sc.Keys != s.Keys:
		return fmt.Errorf("sidecar says %d keys, the file has %d", sc.Keys, s.Keys)
	}
	return nil
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}
