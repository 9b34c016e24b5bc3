package queue

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// model is the obvious implementation the packed list must agree with.
type model [][]byte

func checkList(t *testing.T, l *list, m model, step int, op string) {
	t.Helper()
	if l.n != int64(len(m)) {
		t.Fatalf("step %d (%s): len %d, model %d", step, op, l.n, len(m))
	}
	var got [][]byte
	l.iter(0, false, func(v []byte) bool { got = append(got, bytes.Clone(v)); return true })
	if len(got) != len(m) {
		t.Fatalf("step %d (%s): forward walk saw %d items, want %d", step, op, len(got), len(m))
	}
	for i := range m {
		if !bytes.Equal(got[i], m[i]) {
			t.Fatalf("step %d (%s): item %d = %q, want %q", step, op, i, got[i], m[i])
		}
	}
	var rev [][]byte
	l.iter(0, true, func(v []byte) bool { rev = append(rev, bytes.Clone(v)); return true })
	slices.Reverse(rev)
	for i := range m {
		if !bytes.Equal(rev[i], m[i]) {
			t.Fatalf("step %d (%s): backward walk item %d = %q, want %q", step, op, i, rev[i], m[i])
		}
	}
	// Chunk invariants: counts add up, buffers are within bounds, and the
	// accounted bytes match the buffers.
	var n int64
	bytesAcc := ringBytes(len(l.ring))
	for i := 0; i < l.nc; i++ {
		c := l.at(i)
		if c.n <= 0 || c.lo < 0 || c.hi > int32(len(c.b)) || c.lo > c.hi {
			t.Fatalf("step %d (%s): bad chunk %d: n=%d lo=%d hi=%d cap=%d", step, op, i, c.n, c.lo, c.hi, len(c.b))
		}
		n += int64(c.n)
		bytesAcc += int64(len(c.b))
	}
	if n != l.n {
		t.Fatalf("step %d (%s): chunk counts sum to %d, list says %d", step, op, n, l.n)
	}
	if bytesAcc != l.bytes {
		t.Fatalf("step %d (%s): accounted %d bytes, buffers hold %d", step, op, l.bytes, bytesAcc)
	}
	// Compression: inner chunks compressed (or found incompressible),
	// the depth at each end raw; each compressed chunk decompresses to
	// entries that add up to its count.
	for i := 0; i < l.nc; i++ {
		c := l.at(i)
		if l.mustCompress(i) != (c.z != 0) {
			t.Fatalf("step %d (%s): chunk %d of %d (depth %d): z=%d", step, op, i, l.nc, l.depth, c.z)
		}
		if c.compressed() {
			if int64(len(c.b)) != heapSize(int(c.hi)) {
				t.Fatalf("step %d (%s): compressed chunk %d: %d-byte buffer for %d bytes", step, op, i, len(c.b), c.hi)
			}
			r := l.rawAt(i)
			k := 0
			for p := int(r.lo); p < int(r.hi); k++ {
				_, p = entryAt(r.b, p)
			}
			if k != int(c.n) {
				t.Fatalf("step %d (%s): compressed chunk %d holds %d entries, says %d", step, op, i, k, c.n)
			}
		}
	}
	l.ep.scratch.settle()
}

// snapItems reads a snapshot's chunks as Snapshot.Each does.
func snapItems(chunks []chunk) [][]byte {
	var out [][]byte
	for _, c := range chunks {
		if c.compressed() {
			b := inflate(&c, make([]byte, c.z))
			c = chunk{b: b, hi: int32(len(b)), n: c.n}
		}
		for p := int(c.lo); p < int(c.hi); {
			var v []byte
			v, p = entryAt(c.b, p)
			out = append(out, bytes.Clone(v))
		}
	}
	return out
}

// randItem returns an item of a random size. With orders, half the items
// are JSON orders, which compress, the rest random bytes from a small
// alphabet, which compress a little.
func randItem(r *rand.Rand, orders bool) []byte {
	if orders && r.IntN(2) == 0 {
		return fmt.Appendf(nil, `{"order_id":%d,"sku":"SKU-%05d","qty":%d,"note":"%s"}`,
			r.IntN(1e8), r.IntN(20000), 1+r.IntN(5), []string{"", "fragile", "gift"}[r.IntN(3)])
	}
	var n int
	switch r.IntN(10) {
	case 0:
		n = 0
	case 1:
		n = 100 + r.IntN(300) // two-byte varint
	case 2:
		n = chunkMax + r.IntN(3000) // bigger than any chunk
	default:
		n = r.IntN(40)
	}
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('a' + r.IntN(4))
	}
	return b
}

// TestListAgainstModel drives random operations on the packed list and a
// slice model side by side, at every list-compress-depth from none to past
// the chunk count, with snapshots taken and checked on the way. The seed
// is printed so a failure replays.
func TestListAgainstModel(t *testing.T) {
	for _, depth := range []int{0, 1, 2, 3, 5, 1 << 30} {
		t.Run(fmt.Sprintf("depth%d", depth), func(t *testing.T) {
			seed := uint64(time.Now().UnixNano())
			t.Logf("seed %d", seed)
			listAgainstModel(t, depth, seed)
		})
	}
}

func listAgainstModel(t *testing.T, depth int, seed uint64) {
	r := rand.New(rand.NewPCG(seed, 1))
	l := &list{ep: &epochs{cur: 1}, depth: depth}
	var m model
	var snap []chunk // a live snapshot of the list and what it must read
	var snapWant model
	compressed := 0
	// The depth-0 run is the long one; the compressed runs are shorter so
	// that the whole test stays within go test's default timeout under
	// -race on a loaded machine.
	steps := 20000
	if depth > 0 {
		steps = 6000
	}
	for step := 0; step < steps; step++ {
		var op string
		if step%500 == 0 {
			if snap != nil {
				if got := snapItems(snap); !slices.EqualFunc(got, snapWant, bytes.Equal) {
					t.Fatalf("step %d: snapshot of %d items reads back %d items, or different ones", step, len(snapWant), len(got))
				}
				snap, snapWant, l.ep.frozen = nil, nil, 0
			} else {
				snap, snapWant = l.snapshot(), slices.Clone(m)
				l.ep.frozen = l.ep.cur
				l.ep.cur++
			}
		}
		l.ep.spare.settle()
		switch k := r.IntN(20); {
		case k < 5:
			op = "pushFront"
			v := randItem(r, depth > 0)
			l.pushFront(v)
			m = append(model{v}, m...)
		case k < 10:
			op = "pushBack"
			v := randItem(r, depth > 0)
			l.pushBack(v)
			m = append(m, v)
		case k < 13 && len(m) > 0:
			op = "popFront"
			if got := l.popFront(); !bytes.Equal(got, m[0]) {
				t.Fatalf("step %d: popFront %q, want %q", step, got, m[0])
			}
			m = m[1:]
		case k < 16 && len(m) > 0:
			op = "popBack"
			if got := l.popBack(); !bytes.Equal(got, m[len(m)-1]) {
				t.Fatalf("step %d: popBack %q, want %q", step, got, m[len(m)-1])
			}
			m = m[:len(m)-1]
		case k == 16 && len(m) > 0:
			op = "set"
			i := r.Int64N(int64(len(m)))
			v := randItem(r, depth > 0)
			l.set(i, v)
			m[i] = v
		case k == 17:
			op = "insertAt"
			i := r.Int64N(int64(len(m)) + 1)
			v := randItem(r, depth > 0)
			l.insertAt(i, v)
			m = slices.Insert(m, int(i), v)
		case k == 18 && len(m) > 0:
			op = "removeWhere"
			v := m[r.IntN(len(m))]
			limit := r.Int64N(3)
			fromTail := r.IntN(2) == 0
			want := removeModel(&m, v, limit, fromTail)
			if got := l.removeWhere(v, limit, fromTail); got != want {
				t.Fatalf("step %d: removeWhere removed %d, want %d", step, got, want)
			}
		case k == 19 && len(m) > 0:
			op = "trim"
			s := r.Int64N(int64(len(m)))
			e := s + r.Int64N(int64(len(m))-s)
			if r.IntN(4) == 0 { // mostly keep most of it
				s, e = 0, int64(len(m))-1-r.Int64N(2)
				if e < 0 {
					e = 0
				}
			}
			l.trim(s, e)
			m = m[s : e+1]
		default:
			op = "index"
			if len(m) > 0 {
				i := r.Int64N(int64(len(m)))
				if got := l.index(i); !bytes.Equal(got, m[i]) {
					t.Fatalf("step %d: index(%d) %q, want %q", step, i, got, m[i])
				}
			}
		}
		if step%97 == 0 || l.n < 50 {
			checkList(t, l, m, step, op)
		}
		for i := 0; i < l.nc; i++ {
			if l.at(i).compressed() {
				compressed++
			}
		}
	}
	checkList(t, l, m, -1, "final")
	if depth == 0 && compressed > 0 || (depth == 1 || depth == 2) && compressed == 0 {
		t.Fatalf("depth %d: %d compressed chunk sightings", depth, compressed)
	}
	t.Logf("%d compressed chunk sightings", compressed)
}

func removeModel(m *model, v []byte, limit int64, fromTail bool) int64 {
	var removed int64
	src := *m
	keep := make([]bool, len(src))
	idx := func(i int) int { return i }
	if fromTail {
		idx = func(i int) int { return len(src) - 1 - i }
	}
	for i := range src {
		j := idx(i)
		if (limit == 0 || removed < limit) && bytes.Equal(src[j], v) {
			removed++
			continue
		}
		keep[j] = true
	}
	var out model
	for i, e := range src {
		if keep[i] {
			out = append(out, e)
		}
	}
	*m = out
	return removed
}

func TestEntryEncoding(t *testing.T) {
	for _, n := range []int{0, 1, 127, 128, 223, 224, 225, 4319, 4320, 4321, 16384, 1 << 21} {
		v := bytes.Repeat([]byte{'x'}, n)
		b := make([]byte, entrySize(n)+3)
		putEntry(b[1:1+entrySize(n)], v)
		got, next := entryAt(b, 1)
		if !bytes.Equal(got, v) || next != 1+entrySize(n) {
			t.Fatalf("n=%d: forward decode len %d next %d", n, len(got), next)
		}
		got, start := entryBefore(b, 1+entrySize(n))
		if !bytes.Equal(got, v) || start != 1 {
			t.Fatalf("n=%d: backward decode len %d start %d", n, len(got), start)
		}
	}
}

// TestListPacksTightly pins the memory cost that the memory bars rely on:
// an item costs its bytes plus 2 bytes of length (4 from 224 bytes up) and
// well under 1% of chunk slack and ring.
func TestListPacksTightly(t *testing.T) {
	for _, tc := range []struct {
		size   int
		maxPer float64
	}{{200, 203.5}, {1000, 1008}, {20, 22.3}} {
		for _, front := range []bool{true, false} {
			l := &list{ep: &epochs{cur: 1}}
			item := bytes.Repeat([]byte{'v'}, tc.size)
			const n = 100000
			for i := 0; i < n; i++ {
				if front {
					l.pushFront(item)
				} else {
					l.pushBack(item)
				}
			}
			per := float64(l.bytes) / n
			if per > tc.maxPer {
				t.Errorf("%d-byte items (front %v): %.2f bytes each, want <= %.1f", tc.size, front, per, tc.maxPer)
			}
			t.Logf("%d-byte items: %.2f bytes each", tc.size, per)
		}
	}
}

func TestFullSize(t *testing.T) {
	for _, sz := range []int{3, 22, 202, 1004, 5000, 40000, 70000} {
		f := fullSize(sz)
		if sz <= 5000 && (f < 16384 || f > chunkMax || float64(f%sz)/float64(f) > 0.01) {
			t.Errorf("fullSize(%d) = %d wastes %d", sz, f, f%sz)
		}
		if sz >= chunkMax && f != sz {
			t.Errorf("fullSize(%d) = %d, want the item's own size", sz, f)
		}
	}
}

func ExampleGlobMatch() {
	fmt.Println(GlobMatch([]byte("order_*"), []byte("order_queue"), false))
	fmt.Println(GlobMatch([]byte("h[^e]llo"), []byte("hello"), false))
	// Output:
	// true
	// false
}

// A key that expired by the time the log is replayed must still be there
// for the commands that touched it before it expired: PERSIST made it
// permanent in the original run.
func TestReplayDoesNotExpireByClock(t *testing.T) {
	now := time.UnixMilli(1_000_000)
	ks := New(Config{Now: func() time.Time { return now }})
	ks.SetReplaying(true)
	tx := ks.Begin()
	tx.Set(0, []byte("k"), []byte("v"), SetOptions{ExpireAt: 999_000}) // already past
	if !tx.Persist(0, []byte("k")) {
		t.Fatal("PERSIST during replay found no key")
	}
	tx.End()
	ks.SetReplaying(false)
	tx = ks.Begin()
	defer tx.End()
	if v, ok, _ := tx.Get(0, []byte("k")); !ok || string(v) != "v" {
		t.Fatalf("after replay: %q %v", v, ok)
	}
}
