// Package slots decides how Redis Cluster's 16384 hash slots are spread
// over masters: the even share of each, and the fewest slot moves that
// reach it when masters are added or removed. Pure functions: the
// controller applies the moves (scaler/clusterops).
package slots

import (
	"fmt"
	"slices"
	"sort"
)

// Count is the number of hash slots of a Redis Cluster.
const Count = 16384

// Shares is the even share of each of n masters: Count/n, the first
// Count%n one more.
func Shares(n int) []int {
	if n <= 0 {
		return nil
	}
	out := make([]int, n)
	for i := range out {
		out[i] = Count / n
		if i < Count%n {
			out[i]++
		}
	}
	return out
}

// Move is one slot to migrate.
type Move struct {
	Slot     int
	From, To string
}

// Plan returns the moves that take the assignment owned (master ID to its
// slots) to an even share over keep (the masters that stay, in order;
// new ones may own nothing yet). Masters not in keep give away every
// slot. Slots nobody owns are an error: they need assigning, not moving.
// The result moves each slot at most once, from the masters furthest over
// their share first, and takes each master's highest slots, so a partial
// run leaves contiguous ranges.
func Plan(owned map[string][]int, keep []string) ([]Move, error) {
	if len(keep) == 0 {
		return nil, fmt.Errorf("no master to keep")
	}
	seen := make([]bool, Count)
	total := 0
	for id, s := range owned {
		for _, slot := range s {
			if slot < 0 || slot >= Count {
				return nil, fmt.Errorf("master %s: slot %d out of range", id, slot)
			}
			if seen[slot] {
				return nil, fmt.Errorf("slot %d owned twice", slot)
			}
			seen[slot] = true
			total++
		}
	}
	if total != Count {
		return nil, fmt.Errorf("%d of %d slots are assigned", total, Count)
	}
	want := map[string]int{}
	// The largest shares go to the masters that hold most already: fewer
	// moves than giving them by position.
	order := slices.Clone(keep)
	sort.SliceStable(order, func(i, j int) bool { return len(owned[order[i]]) > len(owned[order[j]]) })
	for i, n := range Shares(len(order)) {
		want[order[i]] = n
	}
	// What each master gives: the highest slots beyond its share.
	var give []Move
	for _, id := range sortedIDs(owned) {
		s := slices.Clone(owned[id])
		slices.Sort(s)
		extra := len(s) - want[id] // want is 0 for masters not kept
		for _, slot := range s[len(s)-max(extra, 0):] {
			give = append(give, Move{Slot: slot, From: id})
		}
	}
	// Who receives: masters under their share, in keep's order.
	i := 0
	for _, id := range keep {
		for need := want[id] - len(owned[id]); need > 0; need-- {
			give[i].To = id
			i++
		}
	}
	if i != len(give) {
		return nil, fmt.Errorf("internal: %d slots to give, %d places", len(give), i)
	}
	return give, nil
}

func sortedIDs(m map[string][]int) []string {
	ids := make([]string, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}
