package redisreply

import (
	"errors"
	"time"
)

// Slowlog is what SLOWLOG LEN and SLOWLOG GET 1 tell.
type Slowlog struct {
	Length float64
	// LastID and LastDurationSeconds are of the newest entry (0 when the
	// log is empty).
	LastID              float64
	LastDurationSeconds float64
}

// ParseSlowlog reads SLOWLOG LEN's reply (an integer) and SLOWLOG GET 1's
// (entries [id, unix time, duration in microseconds, args, client, name];
// Redis < 4 stops after args).
func ParseSlowlog(length, newest any) (Slowlog, error) {
	n, ok := length.(int64)
	if !ok {
		return Slowlog{}, errors.New("SLOWLOG LEN: not an integer")
	}
	entries, ok := newest.([]any)
	if !ok {
		return Slowlog{}, errors.New("SLOWLOG GET: not an array")
	}
	st := Slowlog{Length: float64(n)}
	if len(entries) == 0 {
		return st, nil
	}
	entry, _ := entries[0].([]any)
	if len(entry) < 3 {
		return Slowlog{}, errors.New("SLOWLOG GET: entry of fewer than three fields")
	}
	id, ok1 := entry[0].(int64)
	usec, ok2 := entry[2].(int64)
	if !ok1 || !ok2 {
		return Slowlog{}, errors.New("SLOWLOG GET: entry's id or duration is not an integer")
	}
	st.LastID = float64(id)
	// As go-redis' SlowLogGet read it before (a time.Duration), to the bit.
	st.LastDurationSeconds = (time.Duration(usec) * time.Microsecond).Seconds()
	return st, nil
}
