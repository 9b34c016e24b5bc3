package command

import (
	"bytes"
	"cmp"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestPQSortSelectsTheRange checks the partial quicksort against a full
// sort: with a total order the wanted range must match exactly; with ties
// it must hold the same keys, and everything before (after) it must sort
// no later (no earlier).
func TestPQSortSelectsTheRange(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for iter := range 2000 {
		n := rng.IntN(120)
		ties := iter%2 == 1
		v := make([]sortItem, n)
		for i := range v {
			if ties {
				v[i].score = float64(rng.IntN(4))
			} else {
				v[i].score = float64(rng.IntN(1000))
			}
			v[i].obj = fmt.Appendf(nil, "e%d", i)
		}
		// With ties, compare scores only: equal keys, different elements.
		compare := func(a, b *sortItem) int {
			if c := cmp.Compare(a.score, b.score); c != 0 || ties {
				return c
			}
			return bytes.Compare(a.obj, b.obj)
		}
		full := slices.Clone(v)
		slices.SortStableFunc(full, func(a, b sortItem) int { return compare(&a, &b) })
		if n == 0 {
			pqsort(v, compare, 0, -1)
			continue
		}
		lo := rng.IntN(n)
		hi := lo + rng.IntN(n-lo)
		pqsort(v, compare, lo, hi)
		for i := lo; i <= hi; i++ {
			if compare(&v[i], &full[i]) != 0 {
				t.Fatalf("iter %d: n=%d range [%d,%d]: item %d has key %v, a full sort has %v", iter, n, lo, hi, i, v[i].score, full[i].score)
			}
		}
		for i := range v {
			if (i < lo && compare(&v[i], &v[lo]) > 0) || (i > hi && compare(&v[i], &v[hi]) < 0) {
				t.Fatalf("iter %d: item %d is on the wrong side of the range", iter, i)
			}
		}
		if !ties && !slices.EqualFunc(v[lo:hi+1], full[lo:hi+1], func(a, b sortItem) bool { return bytes.Equal(a.obj, b.obj) }) {
			t.Fatalf("iter %d: range differs from a full sort", iter)
		}
	}
}
