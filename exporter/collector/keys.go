package collector

import (
	"strconv"

	"github.com/redis-autoscaler/redis-autoscaler/exporter/engine"
)

// keyDescs are the families of the key checks (--check-keys,
// --check-single-keys, --count-keys) and key groups (--check-key-groups).
type keyDescs struct {
	keySize, keyValue, keyValueString, keyMemory, keysCount         *family
	checkKeysExhausted                                              *family
	keyGroupCount, keyGroupMemory, keyGroupsDistinct, keyGroupsTime *family
}

func newKeyDescs(d familyMaker) (ds keyDescs) {
	ds.keySize = d.family("key_size", "Length of a checked key: STRLEN, LLEN, SCARD, ZCARD, HLEN or XLEN (--check-keys, --check-single-keys).", "db", "key")
	ds.keyValue = d.family("key_value", "Value of a checked string key that is a number.", "db", "key")
	ds.keyValueString = d.family("key_value_as_string", "Value of a checked string key that is not a number, as a label; 1.", "db", "key", "val")
	ds.keyMemory = d.family("key_memory_usage_bytes", "MEMORY USAGE of a checked key.", "db", "key")
	ds.keysCount = d.family("keys_count", "Keys matching a --count-keys pattern (SCAN).", "db", "key")
	ds.checkKeysExhausted = d.family("exporter_check_keys_budget_exhausted", "1 when the last scrape's key checks stopped at --check-keys-budget keys.")
	ds.keyGroupCount = d.family("key_group_count", "Keys in the key group at the last complete walk of the database (--check-key-groups).", "db", "key_group")
	ds.keyGroupMemory = d.family("key_group_memory_usage_bytes", "MEMORY USAGE of the key group's keys at the last complete walk of the database (--check-key-groups).", "db", "key_group")
	ds.keyGroupsDistinct = d.family("number_of_distinct_key_groups", "Key groups found in the database, including those summed in \"overflow\" (--check-key-groups).", "db")
	ds.keyGroupsTime = d.family("last_key_groups_scrape_duration_milliseconds", "Milliseconds the last scrape spent walking key groups (--check-key-groups).")
	return ds
}

// emitKeys exports the checked keys, the counted patterns and the checked
// streams.
func (rs *Results) emitKeys(e emitter, r *engine.Result) {
	d := rs.descs
	if k := r.Sample.Keys; k != nil {
		for _, key := range k.Keys {
			db := "db" + strconv.Itoa(key.DB)
			e.gauge(d.keySize, key.Size, db, key.Name)
			if key.HasMemory {
				e.gauge(d.keyMemory, key.Memory, db, key.Name)
			}
			switch {
			case key.HasValue:
				e.gauge(d.keyValue, key.Value, db, key.Name)
			case key.String != "":
				e.gauge(d.keyValueString, 1, db, key.Name, key.String)
			}
		}
		for _, c := range k.Counts {
			e.gauge(d.keysCount, c.Count, "db"+strconv.Itoa(c.DB), c.Pattern)
		}
		for _, st := range k.Streams {
			rs.emitStream(e, st)
		}
		e.gauge(d.checkKeysExhausted, boolFloat(k.Exhausted))
	}
}

// emitKeyGroups exports the last complete walk by key group and this
// scrape's share of the walk.
func (rs *Results) emitKeyGroups(e emitter, r *engine.Result) {
	d := rs.descs
	for _, db := range r.Sample.KeyGroups {
		name := "db" + strconv.Itoa(db.DB)
		for _, g := range db.Groups {
			e.gauge(d.keyGroupCount, g.Keys, name, g.Name)
			e.gauge(d.keyGroupMemory, g.Memory, name, g.Name)
		}
		e.gauge(d.keyGroupsDistinct, float64(db.Distinct), name)
	}
	if r.Sample.KeyGroupsDuration > 0 {
		e.gauge(d.keyGroupsTime, float64(r.Sample.KeyGroupsDuration.Milliseconds()))
	}
}
