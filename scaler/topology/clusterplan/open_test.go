package clusterplan

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestResolveOpen(t *testing.T) {
	live := []string{"a", "b", "c", "x"}
	cases := []struct {
		name string
		open OpenSlot
		want Resolution
	}{
		{name: "an interrupted scaler: both ends open, the move goes on",
			open: OpenSlot{Claims: []string{"a"}, Migrating: map[string]string{"a": "b"}, Importing: []string{"b"}, Holders: []string{"b"}},
			want: Resolution{Kind: MoveOpen, From: "a", To: "b"}},
		{name: "the source failed over: its promoted replica x owns the slot, the destination still imports it",
			open: OpenSlot{Claims: []string{"x"}, Migrating: map[string]string{}, Importing: []string{"b"}, Holders: []string{"b"}},
			want: Resolution{Kind: MoveOpen, From: "x", To: "b"}},
		{name: "the destination failed over: the source migrates to the old node, its promoted replica x holds the keys moved",
			open: OpenSlot{Claims: []string{"a"}, Migrating: map[string]string{"a": "gone"}, Holders: []string{"x"}},
			want: Resolution{Kind: MoveOpen, From: "a", To: "x"}},
		{name: "the destination failed over before any key moved: the slot stays where it is",
			open: OpenSlot{Claims: []string{"a"}, Migrating: map[string]string{"a": "gone"}},
			want: Resolution{Kind: CloseOpen, From: "a"}},
		{name: "the destination is down and nothing else holds the keys it took: wait",
			open: OpenSlot{Claims: []string{"a"}, Migrating: map[string]string{"a": "gone"}, Down: []string{"gone"}},
			want: Resolution{Kind: Unresolvable, Reason: "slot 7: owned by a, migrating to gone, which is down: waiting for it to return or be forgotten"}},
		{name: "the destination owns it, the source has not heard: the source is told",
			open: OpenSlot{Claims: []string{"a", "b"}, Migrating: map[string]string{"a": "b"}},
			want: Resolution{Kind: CloseOpen, From: "b", Others: []string{"a"}}},
		{name: "an import nobody migrates to, with no keys: told the owner",
			open: OpenSlot{Claims: []string{"a"}, Migrating: map[string]string{}, Importing: []string{"gone-too", "c"}},
			want: Resolution{Kind: MoveOpen, From: "a", To: "c"}},
		{name: "no live owner: nothing is guessed",
			open: OpenSlot{Migrating: map[string]string{}, Importing: []string{"b"}},
			want: Resolution{Kind: Unresolvable, Reason: "slot 7: no live master owns it"}},
		{name: "two destinations: nothing is guessed",
			open: OpenSlot{Claims: []string{"a"}, Migrating: map[string]string{"a": "b"}, Holders: []string{"c"}},
			want: Resolution{Kind: Unresolvable, Reason: "slot 7: owned by a, keys or imports on b, c: more than one destination"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.open.Slot, tc.open.Live = 7, live
			assert.Equal(t, tc.want, ResolveOpen(tc.open))
		})
	}
}
