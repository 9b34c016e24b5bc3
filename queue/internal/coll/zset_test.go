package coll

import (
	"bytes"
	"cmp"
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

type zpair struct {
	m string
	s float64
}

// zmodel is the plain model: a map, sorted on demand.
type zmodel map[string]float64

func (m zmodel) sorted() []zpair {
	out := make([]zpair, 0, len(m))
	for k, v := range m {
		out = append(out, zpair{k, v})
	}
	slices.SortFunc(out, func(a, b zpair) int {
		if a.s != b.s {
			return cmp.Compare(a.s, b.s)
		}
		return cmp.Compare(a.m, b.m)
	})
	return out
}

func collect(fn func(func([]byte, float64) bool)) []zpair {
	var out []zpair
	fn(func(m []byte, s float64) bool { out = append(out, zpair{string(m), s}); return true })
	return out
}

func samePairs(a, b []zpair) bool {
	// -0 == 0: which one a member keeps depends on the encoding (see
	// TestZSetEdgeCases).
	return slices.EqualFunc(a, b, func(x, y zpair) bool { return x.m == y.m && x.s == y.s })
}

func checkZSet(t testing.TB, z *ZSet, m zmodel) {
	t.Helper()
	want := m.sorted()
	if z.Len() != len(want) {
		t.Fatalf("Len %d, model %d", z.Len(), len(want))
	}
	if got := collect(z.Each); !samePairs(got, want) {
		t.Fatalf("Each:\n got %v\nwant %v", got, want)
	}
	for i, p := range want {
		if r, ok := z.Rank([]byte(p.m), false); !ok || r != i {
			t.Fatalf("Rank(%q) = %d %v, want %d", p.m, r, ok, i)
		}
		if s, ok := z.Score([]byte(p.m)); !ok || s != p.s {
			t.Fatalf("Score(%q) = %v, want %v", p.m, s, p.s)
		}
	}
	if z.t != nil {
		checkTable(t, z.t)
		if z.o.n != z.t.n {
			t.Fatalf("order has %d, table %d", z.o.n, z.t.n)
		}
		for bi, b := range z.o.blocks {
			if len(b) == 0 || len(b) > zblock || cap(b) != zblock {
				t.Fatalf("block %d: len %d cap %d", bi, len(b), cap(b))
			}
			if len(z.o.lasts) != len(z.o.blocks) || z.o.lasts[bi] != b[len(b)-1] {
				t.Fatalf("block %d: last entry not mirrored in lasts", bi)
			}
		}
		before := z.o.bytes
		z.o.recount()
		if before != z.o.bytes {
			t.Fatalf("order bytes %d, recounted %d", before, z.o.bytes)
		}
	} else {
		if z.lp.n > z.lim.ZsetMaxListpackEntries {
			t.Fatalf("listpack of %d over the limit", z.lp.n)
		}
		z.Each(func(m []byte, s float64) bool {
			if s == 0 && math.Signbit(s) {
				t.Fatalf("listpack holds -0 for %q", m)
			}
			return true
		})
	}
}

var testScores = []float64{math.Inf(-1), -1.5, -1, math.Copysign(0, -1), 0, 0.5, 1, 2, 3, 1e300, math.Inf(1)}

func randScore(r *rand.Rand) float64 {
	if r.IntN(3) == 0 {
		return testScores[r.IntN(len(testScores))]
	}
	return float64(r.IntN(200)) / 4
}

func randScoreRange(r *rand.Rand) ScoreRange {
	return ScoreRange{Min: randScore(r), Max: randScore(r), MinEx: r.IntN(3) == 0, MaxEx: r.IntN(3) == 0}
}

func randLexBound(r *rand.Rand, space int) LexBound {
	switch r.IntN(8) {
	case 0:
		return LexBound{Kind: LexNegInf}
	case 1:
		return LexBound{Kind: LexPosInf}
	case 2, 3, 4:
		return LexBound{Kind: LexIncl, V: randBytes(r, space)}
	}
	return LexBound{Kind: LexExcl, V: randBytes(r, space)}
}

func TestZSetModel(t *testing.T) {
	r := testRand(t)
	ep := NewEpochs()
	for round := 0; round < 40; round++ {
		lim := DefaultLimits()
		if round%3 == 1 {
			lim.ZsetMaxListpackEntries, lim.ZsetMaxListpackValue = 5, 8
		}
		lexOnly := round%4 == 3 // one score for all: lex ranges are defined
		z := NewZSet(&lim, ep)
		m := zmodel{}
		space := 10 + r.IntN(800)
		score := func() float64 {
			if lexOnly {
				return 7
			}
			return randScore(r)
		}
		wasBig := false
		var view ZSetView
		var viewModel zmodel
		for op := 0; op < 2500; op++ {
			switch k := r.IntN(100); {
			case k < 40:
				mem, s := randBytes(r, space), score()
				var f AddFlags
				switch r.IntN(8) {
				case 0:
					f = AddNX
				case 1:
					f = AddXX
				case 2:
					f = AddGT
				case 3:
					f = AddLT
				case 4:
					f = AddXX | AddGT
				}
				if !lexOnly && r.IntN(4) == 0 {
					f |= AddIncr
				}
				res, ns, stopped, err := z.Add(mem, s, f)
				cur, ok := m[string(mem)]
				want, wantRes, wantStop, wantErr := s, Added, false, false
				switch {
				case ok && f&AddNX != 0:
					wantRes, wantStop, want = Nop, true, cur
				case ok:
					if f&AddIncr != 0 {
						want = cur + s
					}
					switch {
					case math.IsNaN(want):
						wantErr = true
					case f&AddLT != 0 && want >= cur || f&AddGT != 0 && want <= cur:
						wantRes, wantStop, want = Nop, true, cur
					case want == cur:
						wantRes = Nop
					default:
						wantRes = Updated
						m[string(mem)] = want
					}
				case f&AddXX != 0:
					wantRes, wantStop = Nop, true
				default:
					m[string(mem)] = s
				}
				if wantErr {
					if err != ErrNaN {
						t.Fatalf("Add(%q, %v, %b) on %v: err %v, want ErrNaN", mem, s, f, cur, err)
					}
				} else if err != nil || res != wantRes || stopped != wantStop || (!stopped && ns != want) {
					t.Fatalf("Add(%q, %v, %b) on %v %v = %v %v %v %v; want %v %v %v", mem, s, f, cur, ok, res, ns, stopped, err, wantRes, want, wantStop)
				}
			case k < 55:
				mem := randBytes(r, space)
				_, ok := m[string(mem)]
				if z.Remove(mem) != ok {
					t.Fatalf("Remove(%q) != %v", mem, ok)
				}
				delete(m, string(mem))
			case k < 65:
				sr := randScoreRange(r)
				want := m.sorted()
				var in []zpair
				for _, p := range want {
					if sr.gteMin(p.s) && sr.lteMax(p.s) {
						in = append(in, p)
					}
				}
				if got := z.CountScore(sr); got != len(in) {
					t.Fatalf("CountScore(%+v) = %d, want %d", sr, got, len(in))
				}
				rev := r.IntN(2) == 0
				off, lim := r.IntN(5), r.IntN(8)-1
				if rev {
					slices.Reverse(in)
				}
				exp := in[min(off, len(in)):]
				if lim >= 0 {
					exp = exp[:min(lim, len(exp))]
				}
				got := collect(func(fn func([]byte, float64) bool) { z.RangeByScore(sr, rev, off, lim, fn) })
				if !samePairs(got, exp) {
					t.Fatalf("RangeByScore(%+v rev %v %d %d):\n got %v\nwant %v", sr, rev, off, lim, got, exp)
				}
			case k < 70 && lexOnly:
				lr := LexRange{randLexBound(r, space), randLexBound(r, space)}
				var in []zpair
				for _, p := range m.sorted() {
					if lr.gteMin([]byte(p.m)) && lr.lteMax([]byte(p.m)) {
						in = append(in, p)
					}
				}
				if got := z.CountLex(lr); got != len(in) {
					t.Fatalf("CountLex(%+v) = %d, want %d", lr, got, len(in))
				}
				rev := r.IntN(2) == 0
				if rev {
					slices.Reverse(in)
				}
				got := collect(func(fn func([]byte, float64) bool) { z.RangeByLex(lr, rev, 0, -1, fn) })
				if !samePairs(got, in) {
					t.Fatalf("RangeByLex(%+v):\n got %v\nwant %v", lr, got, in)
				}
				if r.IntN(4) == 0 {
					if n := z.RemoveRangeByLex(lr); n != len(in) {
						t.Fatalf("RemoveRangeByLex = %d, want %d", n, len(in))
					}
					for _, p := range in {
						delete(m, p.m)
					}
				}
			case k < 72:
				sr := randScoreRange(r)
				want := 0
				for mem, s := range m {
					if sr.gteMin(s) && sr.lteMax(s) {
						delete(m, mem)
						want++
					}
				}
				if n := z.RemoveRangeByScore(sr); n != want {
					t.Fatalf("RemoveRangeByScore(%+v) = %d, want %d", sr, n, want)
				}
			case k < 74:
				if n := len(m); n > 0 {
					a, b := r.IntN(n), r.IntN(n)
					a, b = min(a, b), max(a, b)
					s := m.sorted()
					for _, p := range s[a : b+1] {
						delete(m, p.m)
					}
					if got := z.RemoveRangeByRank(a, b); got != b-a+1 {
						t.Fatalf("RemoveRangeByRank(%d, %d) = %d", a, b, got)
					}
				}
			case k < 80:
				cnt, mx := r.IntN(4), r.IntN(2) == 0
				s := m.sorted()
				if mx {
					slices.Reverse(s)
				}
				exp := s[:min(cnt, len(s))]
				var got []zpair
				n := z.Pop(cnt, mx, func(mem []byte, sc float64) { got = append(got, zpair{string(mem), sc}) })
				if n != len(exp) || !samePairs(got, exp) {
					t.Fatalf("Pop(%d, %v) = %d %v, want %v", cnt, mx, n, got, exp)
				}
				for _, p := range exp {
					delete(m, p.m)
				}
			case k < 84:
				if len(m) > 0 {
					s := m.sorted()
					i := r.IntN(len(s))
					mem, sc := z.At(i)
					if string(mem) != s[i].m || sc != s[i].s {
						t.Fatalf("At(%d) = %q %v, want %v", i, mem, sc, s[i])
					}
					if rr, _ := z.Rank(mem, true); rr != len(s)-1-i {
						t.Fatalf("reverse rank %d, want %d", rr, len(s)-1-i)
					}
					rev := collect(func(fn func([]byte, float64) bool) { z.Iter(i, true, fn) })
					exp := slices.Clone(s[:i+1])
					slices.Reverse(exp)
					if !samePairs(rev, exp) {
						t.Fatalf("Iter(%d, reverse):\n got %v\nwant %v", i, rev, exp)
					}
				}
			case k < 87:
				seen := map[string]float64{}
				c := uint64(0)
				count := 1 + r.IntN(20)
				for {
					c = z.Scan(c, count, func(mem []byte, s float64) { seen[string(mem)] = s })
					if c == 0 {
						break
					}
				}
				if !maps.Equal(seen, map[string]float64(m)) {
					t.Fatalf("scan saw %d members, model %d", len(seen), len(m))
				}
			case k < 89:
				if viewModel != nil {
					checkZView(t, view, viewModel)
					ep.Thaw()
				}
				ep.Freeze()
				view, viewModel = z.View(), maps.Clone(m)
			}
			if wasBig && z.t == nil {
				t.Fatal("converted back to listpack")
			}
			wasBig = z.t != nil
			if op%89 == 0 {
				checkZSet(t, z, m)
			}
		}
		checkZSet(t, z, m)
		if viewModel != nil {
			checkZView(t, view, viewModel)
			ep.Thaw()
		}
	}
}

func checkZView(t testing.TB, v ZSetView, want zmodel) {
	t.Helper()
	got := zmodel{}
	v.Each(func(m []byte, s float64) bool { got[string(m)] = s; return true })
	if !maps.Equal(got, want) {
		t.Fatalf("snapshot view changed: %d members, want %d", len(got), len(want))
	}
}

func TestZSetEdgeCases(t *testing.T) {
	lim := DefaultLimits()
	ep := NewEpochs()
	for _, big := range []bool{false, true} {
		z := NewZSetFor(&lim, ep, 0, 0)
		if big {
			z = NewZSetFor(&lim, ep, 1000, 0)
		}
		if z.Len() != 0 || z.Remove([]byte("x")) || z.Pop(5, false, nil) != 0 || z.CountScore(ScoreRange{Min: math.Inf(-1), Max: math.Inf(1)}) != 0 {
			t.Fatal("empty zset not empty")
		}
		if _, _, _, err := z.Add([]byte("n"), math.NaN(), 0); err != ErrNaN {
			t.Fatalf("NaN score: %v", err)
		}
		z.Add([]byte("p"), math.Inf(1), 0)
		if _, _, _, err := z.Add([]byte("p"), math.Inf(-1), AddIncr); err != ErrNaN {
			t.Fatalf("inf + -inf: %v", err)
		}
		if s, _ := z.Score([]byte("p")); !math.IsInf(s, 1) {
			t.Fatalf("score after failed INCR: %v", s)
		}
		negz := math.Copysign(0, -1)
		z.Add([]byte("z"), negz, 0)
		// 0 equals -0: no update, the stored score keeps its sign.
		if res, ns, stopped, _ := z.Add([]byte("z"), 0, 0); res != Nop || stopped || math.Signbit(ns) {
			t.Fatalf("ZADD 0 over -0: %v %v %v", res, ns, stopped)
		}
		// Redis 7.0: ZADD a -0 m; ZSCORE a m gives "0" from a listpack,
		// "-0" from a skiplist.
		if s, _ := z.Score([]byte("z")); math.Signbit(s) != big {
			t.Fatalf("-0 in a %s: sign bit %v", z.Encoding(), math.Signbit(s))
		}
		if _, ns, _, _ := NewZSetFor(&lim, ep, 0, 0).Add([]byte("n"), negz, AddIncr); !math.Signbit(ns) {
			t.Fatal("ZINCRBY new -0 replies 0; Redis replies -0")
		}
		z.Add([]byte("m"), math.Inf(-1), 0)
		z.Add(bytes.Repeat([]byte{0}, 3), 0, 0)
		z.Add([]byte{}, 0, 0)
		want := []string{"m", "", "\x00\x00\x00", "z", "p"}
		var got []string
		z.Each(func(m []byte, _ float64) bool { got = append(got, string(m)); return true })
		if !slices.Equal(got, want) {
			t.Fatalf("order %q, want %q (big %v)", got, want, big)
		}
		if n := z.CountScore(ScoreRange{Min: 0, Max: 0}); n != 3 {
			t.Fatalf("ZCOUNT 0 0 = %d, want 3 (-0 is 0)", n)
		}
		if n := z.CountScore(ScoreRange{Min: math.Inf(-1), Max: math.Inf(1), MinEx: true, MaxEx: true}); n != 3 {
			t.Fatalf("ZCOUNT (-inf (+inf = %d", n)
		}
		if !(ScoreRange{Min: 1, Max: 1, MinEx: true}).Empty() || (ScoreRange{Min: 1, Max: 1}).Empty() {
			t.Fatal("Empty")
		}
	}
	// Thresholds: 128 members of 64 bytes stay a listpack.
	z := NewZSet(&lim, ep)
	for i := 0; i < 128; i++ {
		z.Add(append(bytes.Repeat([]byte("m"), 62), byte(i>>8), byte(i)), float64(i), 0)
	}
	if z.Encoding() != "listpack" {
		t.Fatalf("128 members: %s", z.Encoding())
	}
	z.Add([]byte("x"), 1, AddXX) // not added: no conversion
	if z.Encoding() != "listpack" {
		t.Fatal("ZADD XX of a missing member converted")
	}
	z.Add([]byte("x"), 1, 0)
	if z.Encoding() != "skiplist" {
		t.Fatalf("129 members: %s", z.Encoding())
	}
	z2 := NewZSet(&lim, ep)
	z2.Add(bytes.Repeat([]byte("m"), 65), 1, 0)
	if z2.Encoding() != "skiplist" {
		t.Fatalf("65-byte member: %s", z2.Encoding())
	}
	z2.Remove(bytes.Repeat([]byte("m"), 65))
	if z2.Encoding() != "skiplist" {
		t.Fatal("converted back")
	}
}

func TestLexBounds(t *testing.T) {
	for _, c := range []struct {
		in string
		ok bool
	}{{"-", true}, {"+", true}, {"[a", true}, {"(a", true}, {"[", true}, {"a", false}, {"", false}, {"--", false}, {"+a", false}} {
		if _, ok := ParseLexBound([]byte(c.in)); ok != c.ok {
			t.Errorf("ParseLexBound(%q) ok %v", c.in, ok)
		}
	}
	lb := func(s string) LexBound { b, _ := ParseLexBound([]byte(s)); return b }
	for _, c := range []struct {
		min, max string
		empty    bool
	}{{"-", "+", false}, {"+", "-", true}, {"-", "-", true}, {"+", "+", true}, {"[a", "[a", false}, {"(a", "[a", true}, {"[b", "[a", true}, {"[a", "+", false}, {"-", "[a", false}, {"+", "[a", true}} {
		if e := (LexRange{lb(c.min), lb(c.max)}).Empty(); e != c.empty {
			t.Errorf("Empty(%s, %s) = %v", c.min, c.max, e)
		}
	}
}

func TestAggregate(t *testing.T) {
	inf := math.Inf(1)
	if AggSum.Combine(inf, -inf) != 0 || AggSum.Combine(1, 2) != 3 || AggMin.Combine(1, -inf) != -inf || AggMax.Combine(1, inf) != inf {
		t.Fatal("Combine")
	}
	if Weight(inf, 0) != 0 || Weight(2, 3) != 6 || Weight(-inf, 2) != -inf {
		t.Fatal("Weight")
	}
}

// TestParseScoreBound: the cases were run through ZCOUNT on redis-server
// 7.0 (ZADD z 1 a 2 b 3 c; ZCOUNT z <bound> +inf).
func TestParseScoreBound(t *testing.T) {
	inf := math.Inf(1)
	for _, c := range []struct {
		in     string
		v      float64
		ex, ok bool
	}{
		{"", 0, false, true}, {"(", 0, true, true}, {" 1", 1, false, true}, {"\t(1", 0, false, false},
		{"(\n2", 2, true, true}, {"1 ", 0, false, false}, {" ", 0, false, false},
		{"0x10", 16, false, true}, {"-0X1p3", -8, false, true}, {"inf", inf, false, true},
		{"+inf", inf, false, true}, {"-inf", -inf, false, true}, {"infinity", inf, false, true},
		{"(-Inf", -inf, true, true}, {"1e400", inf, false, true}, {"nan", 0, false, false},
		{"(nan", 0, false, false}, {"1_0", 0, false, false}, {".5", 0.5, false, true},
		{"5.", 5, false, true}, {"1e", 0, false, false}, {"1.5e2", 150, false, true}, {"--1", 0, false, false},
	} {
		v, ex, ok := ParseScoreBound([]byte(c.in))
		if ok != c.ok || ok && (v != c.v || ex != c.ex) {
			t.Errorf("ParseScoreBound(%q) = %v %v %v; want %v %v %v", c.in, v, ex, ok, c.v, c.ex, c.ok)
		}
	}
}

// TestZSetBig grows a skiplist to thousands of members so that its order's
// blocks split, merge and even out, and its arena compacts, then drains
// it from both ends and by ranges, checking against the model throughout.
func TestZSetBig(t *testing.T) {
	r := testRand(t)
	lim := DefaultLimits()
	z := NewZSet(&lim, NewEpochs())
	m := zmodel{}
	const space = 6000
	mem := func() []byte { return fmt.Appendf(nil, "member-%d", r.IntN(space)) }
	maxBlocks := 0
	for op := 0; op < 60000; op++ {
		switch k := r.IntN(100); {
		case k < 55 || op < 15000 && k < 90:
			b, s := mem(), float64(r.IntN(1000))/8
			z.Add(b, s, 0)
			m[string(b)] = s
		case k < 90:
			b := mem()
			_, ok := m[string(b)]
			if z.Remove(b) != ok {
				t.Fatalf("Remove(%q) != %v", b, ok)
			}
			delete(m, string(b))
		case k < 95:
			cnt, mx := r.IntN(5), r.IntN(2) == 0
			s := m.sorted()
			if mx {
				slices.Reverse(s)
			}
			for _, p := range s[:min(cnt, len(s))] {
				delete(m, p.m)
			}
			z.Pop(cnt, mx, func([]byte, float64) {})
		default:
			sr := ScoreRange{Min: float64(r.IntN(1000)) / 8}
			sr.Max = sr.Min + float64(r.IntN(8))/8
			for k, s := range m {
				if s >= sr.Min && s <= sr.Max {
					delete(m, k)
				}
			}
			z.RemoveRangeByScore(sr)
		}
		if z.o != nil {
			maxBlocks = max(maxBlocks, len(z.o.blocks))
		}
		if op%5000 == 0 {
			checkZSet(t, z, m)
		}
	}
	checkZSet(t, z, m)
	if maxBlocks < 20 {
		t.Fatalf("the order never had more than %d blocks", maxBlocks)
	}
	// Drain by rank ranges to the end.
	for z.Len() > 0 {
		a := r.IntN(z.Len())
		b := min(z.Len()-1, a+r.IntN(300))
		s := m.sorted()
		for _, p := range s[a : b+1] {
			delete(m, p.m)
		}
		if n := z.RemoveRangeByRank(a, b); n != b-a+1 {
			t.Fatalf("RemoveRangeByRank(%d, %d) = %d", a, b, n)
		}
		checkZSet(t, z, m)
	}
	if len(z.o.blocks) != 0 || z.o.n != 0 {
		t.Fatalf("empty set keeps %d blocks", len(z.o.blocks))
	}
}
