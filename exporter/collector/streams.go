package collector

import (
	"strconv"

	"github.com/redis-autoscaler/redis-autoscaler/exporter/keycheck"
)

// streamDescs are the families of the checked streams (--check-streams,
// --check-single-streams), as redis_exporter names them.
type streamDescs struct {
	streamLength, streamRadixKeys, streamRadixNodes, streamLastGenID *family
	streamGroups, streamMaxDeletedID, streamFirstID, streamLastID    *family
	streamEntriesAdded, groupConsumers, groupPending, groupLastDeliv *family
	groupEntriesRead, groupLag, consumerPending, consumerIdle        *family
}

func newStreamDescs(d familyMaker) (ds streamDescs) {
	stream := func(name, help string, extra ...string) *family {
		return d.family(name, help+" (--check-streams, --check-single-streams).", append([]string{"db", "stream"}, extra...)...)
	}
	ds.streamLength = stream("stream_length", "Entries in the stream")
	ds.streamRadixKeys = stream("stream_radix_tree_keys", "Radix tree keys of the stream")
	ds.streamRadixNodes = stream("stream_radix_tree_nodes", "Radix tree nodes of the stream")
	ds.streamLastGenID = stream("stream_last_generated_id", "Milliseconds part of the last generated ID")
	ds.streamGroups = stream("stream_groups", "Consumer groups of the stream")
	ds.streamMaxDeletedID = stream("stream_max_deleted_entry_id", "Milliseconds part of the largest deleted ID")
	ds.streamFirstID = stream("stream_first_entry_id", "Milliseconds part of the first entry's ID")
	ds.streamLastID = stream("stream_last_entry_id", "Milliseconds part of the last entry's ID")
	ds.streamEntriesAdded = stream("stream_entries_added_total", "Entries ever added to the stream")
	ds.groupConsumers = stream("stream_group_consumers", "Consumers of the group", "group")
	ds.groupPending = stream("stream_group_messages_pending", "Messages delivered to the group and not acknowledged", "group")
	ds.groupLastDeliv = stream("stream_group_last_delivered_id", "Milliseconds part of the group's last delivered ID", "group")
	ds.groupEntriesRead = stream("stream_group_entries_read", "Entries the group has read", "group")
	ds.groupLag = stream("stream_group_lag", "Entries not yet delivered to the group (-1 unknown)", "group")
	ds.consumerPending = stream("stream_group_consumer_messages_pending", "Messages pending for the consumer", "group", "consumer")
	ds.consumerIdle = stream("stream_group_consumer_idle_seconds", "Seconds since the consumer last interacted", "group", "consumer")
	return ds
}

// emitStream exports one stream as redis_exporter's stream_* families.
func (rs *Results) emitStream(e emitter, st keycheck.Stream) {
	d := rs.descs
	db, name, info := "db"+strconv.Itoa(st.DB), st.Name, st.Info
	e.gauge(d.streamLength, float64(info.Length), db, name)
	e.gauge(d.streamRadixKeys, float64(info.RadixTreeKeys), db, name)
	e.gauge(d.streamRadixNodes, float64(info.RadixTreeNodes), db, name)
	e.gauge(d.streamLastGenID, keycheck.StreamID(info.LastGeneratedID), db, name)
	e.gauge(d.streamGroups, float64(info.Groups), db, name)
	e.gauge(d.streamMaxDeletedID, keycheck.StreamID(info.MaxDeletedEntryID), db, name)
	e.gauge(d.streamFirstID, keycheck.StreamID(info.FirstEntry.ID), db, name)
	e.gauge(d.streamLastID, keycheck.StreamID(info.LastEntry.ID), db, name)
	e.counter(d.streamEntriesAdded, float64(info.EntriesAdded), db, name)
	for _, g := range st.Groups {
		e.gauge(d.groupConsumers, float64(g.XInfoGroup.Consumers), db, name, g.Name)
		e.gauge(d.groupPending, float64(g.Pending), db, name, g.Name)
		e.gauge(d.groupLastDeliv, keycheck.StreamID(g.LastDeliveredID), db, name, g.Name)
		e.gauge(d.groupEntriesRead, float64(g.EntriesRead), db, name, g.Name)
		e.gauge(d.groupLag, float64(g.Lag), db, name, g.Name)
		for _, c := range g.Consumers {
			e.gauge(d.consumerPending, float64(c.Pending), db, name, g.Name, c.Name)
			e.gauge(d.consumerIdle, c.Idle.Seconds(), db, name, g.Name, c.Name)
		}
	}
}
