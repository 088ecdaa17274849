package slots

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestShares(t *testing.T) {
	for n := 1; n <= 10; n++ {
		s := Shares(n)
		sum := 0
		for _, v := range s {
			sum += v
			assert.LessOrEqual(t, v-Count/n, 1)
		}
		assert.Equal(t, Count, sum)
	}
	assert.Nil(t, Shares(0))
}

// ranges builds an even assignment over ids, as a fresh cluster has.
func even(ids ...string) map[string][]int {
	out := map[string][]int{}
	slot := 0
	for i, n := range Shares(len(ids)) {
		for range n {
			out[ids[i]] = append(out[ids[i]], slot)
			slot++
		}
	}
	return out
}

// apply runs the moves and returns the resulting assignment.
func apply(t *testing.T, owned map[string][]int, moves []Move) map[string]int {
	t.Helper()
	owner := map[int]string{}
	for id, s := range owned {
		for _, slot := range s {
			owner[slot] = id
		}
	}
	moved := map[int]bool{}
	for _, m := range moves {
		require.False(t, moved[m.Slot], "slot %d moved twice", m.Slot)
		moved[m.Slot] = true
		require.Equal(t, m.From, owner[m.Slot], "slot %d moved from a master that does not own it", m.Slot)
		owner[m.Slot] = m.To
	}
	count := map[string]int{}
	for _, id := range owner {
		count[id]++
	}
	return count
}

func TestPlan(t *testing.T) {
	cases := []struct {
		name      string
		owned     map[string][]int
		keep      []string
		wantMoves int
	}{
		{"balanced: nothing to do", even("a", "b", "c"), []string{"a", "b", "c"}, 0},
		{"scale out 3 -> 4", even("a", "b", "c"), []string{"a", "b", "c", "d"}, 4096},
		{"scale in 4 -> 2", even("a", "b", "c", "d"), []string{"a", "b"}, 8192},
		{"scale in, keep the last two", even("a", "b", "c", "d"), []string{"c", "d"}, 8192},
		{"one master to three", even("a"), []string{"a", "b", "c"}, 10922},
		{"replace one master", even("a", "b"), []string{"a", "c"}, 8192},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			moves, err := Plan(tc.owned, tc.keep)
			require.NoError(t, err)
			assert.Len(t, moves, tc.wantMoves)
			count := apply(t, tc.owned, moves)
			shares := Shares(len(tc.keep))
			for _, id := range tc.keep {
				assert.InDelta(t, shares[len(shares)-1], count[id], 1, "%s", id)
			}
			assert.Len(t, count, len(tc.keep), "only kept masters own slots: %v", count)
		})
	}
}

func TestPlanRefusesBadAssignments(t *testing.T) {
	missing := even("a", "b")
	missing["a"] = missing["a"][1:]
	_, err := Plan(missing, []string{"a", "b"})
	require.ErrorContains(t, err, "16383 of 16384 slots")
	twice := even("a", "b")
	twice["b"] = append(twice["b"], 0)
	_, err = Plan(twice, []string{"a", "b"})
	require.ErrorContains(t, err, "owned twice")
	_, err = Plan(even("a"), nil)
	require.Error(t, err)
}
