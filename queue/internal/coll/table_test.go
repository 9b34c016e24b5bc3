package coll

import (
	"fmt"
	"testing"
)

// TestScanAcrossResizes checks SCAN's guarantee: a field present from the
// first call to the last is returned at least once, while other fields
// come and go between calls and the table grows and shrinks under the
// cursor.
func TestScanAcrossResizes(t *testing.T) {
	r := testRand(t)
	lim := DefaultLimits()
	grows, shrinks := 0, 0
	for round := 0; round < 6; round++ {
		h := NewHash(&lim, NewEpochs())
		stable := 200 + r.IntN(3000)
		for i := 0; i < stable; i++ {
			h.Set(fmt.Appendf(nil, "stable%d", i), []byte("v"))
		}
		seen := map[string]bool{}
		c := uint64(0)
		transient := 0
		grew, shrank := false, false
		for calls := 0; ; calls++ {
			c = h.Scan(c, 1+r.IntN(50), func(k, _ []byte) { seen[string(k)] = true })
			if c == 0 {
				break
			}
			lg := h.t.lg
			// Swing the size: sometimes add many, sometimes remove them all.
			switch r.IntN(4) {
			case 0:
				for k := r.IntN(6000); k > 0; k-- {
					h.Set(fmt.Appendf(nil, "t%d", transient), nil)
					transient++
				}
			case 1:
				for k := transient - 1; k >= 0; k-- {
					h.Delete(fmt.Appendf(nil, "t%d", k))
				}
				transient = 0
			}
			grew = grew || h.t.lg > lg
			shrank = shrank || h.t.lg < lg
		}
		if grew {
			grows++
		}
		if shrank {
			shrinks++
		}
		for i := 0; i < stable; i++ {
			if !seen[fmt.Sprintf("stable%d", i)] {
				t.Fatalf("round %d: stable%d never returned (grew %v, shrank %v)", round, i, grew, shrank)
			}
		}
		checkTable(t, h.t)
	}
	if grows == 0 || shrinks == 0 {
		t.Fatalf("the table grew during %d scans and shrank during %d: the test needs both", grows, shrinks)
	}
}

// TestTableBig drives one table through many index blocks, shrinking,
// arena compaction and copy-on-write of shared blocks.
func TestTableBig(t *testing.T) {
	ep := NewEpochs()
	tb := newTable(ep, 0)
	model := map[string]string{}
	const n = 50000
	for i := 0; i < n; i++ {
		k := fmt.Sprintf("key:%d", i)
		tb.put([]byte(k), []byte(k+"v"))
		model[k] = k + "v"
	}
	if tb.slots() <= blockSlots {
		t.Fatalf("%d slots: want several blocks", tb.slots())
	}
	ep.Freeze()
	view := tb.view()
	// Overwrite every value twice (the arena compacts), delete 95% (the
	// index shrinks).
	for round := 0; round < 2; round++ {
		for i := 0; i < n; i++ {
			k := fmt.Sprintf("key:%d", i)
			tb.put([]byte(k), []byte(fmt.Sprint(round)))
			if tb.needsCompact() {
				tb.compact(nil)
			}
		}
	}
	for i := 0; i < n; i++ {
		if i%20 != 0 {
			tb.del(fmt.Appendf(nil, "key:%d", i))
			if tb.needsCompact() {
				tb.compact(nil)
			}
		}
	}
	checkTable(t, tb)
	if tb.n != n/20 || tb.slots() > 8*n/20 {
		t.Fatalf("%d entries in %d slots after deletes", tb.n, tb.slots())
	}
	if tb.dead > tb.live+pageMax {
		t.Fatalf("arena not compacted: %d dead, %d live", tb.dead, tb.live)
	}
	got := map[string]string{}
	view.each(func(k, v []byte) bool { got[string(k)] = string(v); return true })
	if len(got) != n {
		t.Fatalf("snapshot view has %d entries, want %d", len(got), n)
	}
	for k, v := range model {
		if got[k] != v {
			t.Fatalf("snapshot view %q = %q, want %q", k, got[k], v)
		}
	}
	ep.Thaw()
}
