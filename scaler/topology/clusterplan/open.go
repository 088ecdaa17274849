package clusterplan

import (
	"fmt"
	"slices"
	"strings"
)

// OpenSlot is a slot some live master left MIGRATING or IMPORTING, as the
// live masters (not failed, answering) report it in their own lines.
type OpenSlot struct {
	Slot int
	// Claims are the live masters that own the slot by their own line
	// (two while a finished move's new owner has not reached the old).
	Claims []string
	// Migrating maps a live master with the slot MIGRATING to its target.
	Migrating map[string]string
	// Importing are the live masters with the slot IMPORTING.
	Importing []string
	// Holders are the live masters that hold keys of the slot.
	Holders []string
	// Live are the live masters' IDs.
	Live []string
	// Down are nodes the live masters list as masters that are not live
	// (failed, or their pod does not answer).
	Down []string
}

// OpenKind is what finishing an open slot takes.
type OpenKind int

const (
	// MoveOpen: move the slot From its owner To the one node its keys
	// were going to (SETSLOT IMPORTING/MIGRATING again, MIGRATE the rest,
	// SETSLOT NODE everywhere).
	MoveOpen OpenKind = iota
	// CloseOpen: nothing is on its way anywhere: the owner From keeps the
	// slot (SETSLOT STABLE on it), and the others with the slot open are
	// told From owns it (SETSLOT NODE).
	CloseOpen
	// Unresolvable: Reason says why no safe move exists now.
	Unresolvable
)

// Resolution is how an open slot is finished.
type Resolution struct {
	Kind     OpenKind
	From, To string
	// Others are the live masters other than From with the slot open
	// (CloseOpen tells them From owns it).
	Others []string
	Reason string
}

// ResolveOpen decides how to finish an open slot whatever happened to the
// move's two ends, as redis-cli --cluster fix does, but never by guessing
// an owner. The owner is the live master that claims the slot (of two
// claimants, the one that is not MIGRATING it: the move's SETSLOT NODE
// reached it first). The slot goes to where its keys were going: the
// owner's MIGRATING target if it is live, a live master IMPORTING it, or a
// live master holding its keys. That covers an interrupted scaler (both
// ends open), a source failed over mid-move (its promoted replica owns the
// slot and never had the MIGRATING state; the destination still imports
// and holds the keys already moved) and a destination failed over (the
// source still migrates to the old node; the promoted replica holds the
// keys already moved, having replicated them).
func ResolveOpen(o OpenSlot) Resolution {
	live := map[string]bool{}
	for _, id := range o.Live {
		live[id] = true
	}
	owner := ""
	for _, id := range o.Claims {
		if owner == "" || (o.Migrating[owner] != "" && o.Migrating[id] == "") {
			owner = id
		}
	}
	if owner == "" {
		return Resolution{Kind: Unresolvable, Reason: fmt.Sprintf("slot %d: no live master owns it", o.Slot)}
	}
	var targets []string
	add := func(id string) {
		if id != "" && id != owner && live[id] && !slices.Contains(targets, id) {
			targets = append(targets, id)
		}
	}
	add(o.Migrating[owner])
	for _, id := range o.Importing {
		add(id)
	}
	for _, id := range o.Holders {
		add(id)
	}
	switch len(targets) {
	case 0:
		// A destination that is down may hold keys it took: a master
		// that owned no slots is never failed over, and nothing else
		// has them. Closing would leave them unreadable; wait for it, or
		// for its identity to be forgotten once its pod is replaced.
		if to := o.Migrating[owner]; slices.Contains(o.Down, to) {
			return Resolution{Kind: Unresolvable, Reason: fmt.Sprintf("slot %d: owned by %s, migrating to %s, which is down: waiting for it to return or be forgotten", o.Slot, owner, to)}
		}
		var others []string
		for id := range o.Migrating {
			if id != owner {
				others = append(others, id)
			}
		}
		for _, id := range o.Importing {
			if id != owner && !slices.Contains(others, id) {
				others = append(others, id)
			}
		}
		slices.Sort(others)
		return Resolution{Kind: CloseOpen, From: owner, Others: others}
	case 1:
		return Resolution{Kind: MoveOpen, From: owner, To: targets[0]}
	default:
		return Resolution{Kind: Unresolvable, Reason: fmt.Sprintf("slot %d: owned by %s, keys or imports on %s: more than one destination", o.Slot, owner, strings.Join(targets, ", "))}
	}
}
