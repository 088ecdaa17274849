package v1alpha1

import "time"

// HoldUntil is when the group's topology hold (AnnotationHoldUntil) ends,
// and whether one is in force at now. A malformed time holds nothing.
func (g *RedisReplicationGroup) HoldUntil(now time.Time) (time.Time, bool) {
	v := g.Annotations[AnnotationHoldUntil]
	if v == "" {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return time.Time{}, false
	}
	return t, now.Before(t)
}

// HoldMessage is the TopologyHeld condition's message for a hold until t:
// a holder (the backup command's restore) waits for exactly this message
// to know the scaler saw its hold (and that no operation it started
// before is still running). It lives beside the annotation because both
// sides of that handshake read it.
func HoldMessage(t time.Time, reason string) string {
	msg := "held until " + t.UTC().Format(time.RFC3339)
	if reason != "" {
		msg += ": " + reason
	}
	return msg
}
