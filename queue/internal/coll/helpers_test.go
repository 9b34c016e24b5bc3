package coll

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

var seedFlag = flag.Uint64("seed", 0, "seed for the model-based tests (0: from the clock)")

// testRand returns a generator seeded from -seed or the clock, and logs
// the seed so a failure can be replayed with go test -seed N.
func testRand(t testing.TB) *rand.Rand {
	s := *seedFlag
	if s == 0 {
		s = uint64(time.Now().UnixNano())
	}
	t.Logf("seed %d (replay: go test ./queue/internal/coll -run '%s' -seed %d)", s, t.Name(), s)
	return rand.New(rand.NewPCG(s, s^0x9e3779b97f4a7c15))
}

// randBytes returns a member or value: mostly short, sometimes an
// integer, sometimes long or binary, so that conversions happen.
func randBytes(r *rand.Rand, space int) []byte {
	switch r.IntN(20) {
	case 0:
		b := make([]byte, 60+r.IntN(20)) // around the 64-byte limit
		for i := range b {
			b[i] = byte('a' + r.IntN(3))
		}
		return b
	case 1:
		b := make([]byte, r.IntN(4))
		for i := range b {
			b[i] = byte(r.IntN(256))
		}
		return b
	case 2:
		return fmt.Appendf(nil, "%d", r.Int64()-r.Int64())
	case 3:
		return fmt.Appendf(nil, "%d", r.IntN(space)-space/2)
	}
	return fmt.Appendf(nil, "m%d", r.IntN(space))
}

// checkTable verifies the table's invariants: the count, every entry
// reachable from its home, the live bytes and the memory count.
func checkTable(t testing.TB, tb *table) {
	t.Helper()
	n := 0
	var live int64
	for i := 0; i < tb.slots(); i++ {
		s := tb.slot(i)
		if s == 0 {
			continue
		}
		n++
		k, v := tb.entry(s)
		live += refSize(k, v)
		if j, ok := tb.find(k, hashOf(k)); !ok || j != i {
			t.Fatalf("entry %q in slot %d is found at %d (%v)", k, i, j, ok)
		}
		if h := tb.homeOfHash(hashOf(k)); h != tb.home(s) {
			t.Fatalf("entry %q: home %d from the tag, %d from the hash", k, tb.home(s), h)
		}
	}
	if n != tb.n || live != tb.live {
		t.Fatalf("table counts %d entries, %d live bytes; found %d, %d", tb.n, tb.live, n, live)
	}
	if tb.n > 0 && tb.n*4 > tb.slots()*3 {
		t.Fatalf("table over 3/4 full: %d in %d", tb.n, tb.slots())
	}
	before := tb.bytes
	tb.recount()
	if tb.bytes != before {
		t.Fatalf("table bytes %d, recounted %d", before, tb.bytes)
	}
}
