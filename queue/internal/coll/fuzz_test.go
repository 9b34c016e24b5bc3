package coll

import (
	"maps"
	"math"
	"testing"
)

// The fuzz targets read their input as a program: a first byte for the
// limits, then operations of a few bytes each, run against a collection
// and a plain model side by side. Keys come from a small space so that
// operations hit existing members; limits are small so that conversions
// happen within a short input.

type prog struct{ b []byte }

func (p *prog) byte() byte {
	if len(p.b) == 0 {
		return 0
	}
	c := p.b[0]
	p.b = p.b[1:]
	return c
}

// bytes takes a length byte and that many bytes (short, so keys collide;
// sometimes long, so the length limits are crossed).
func (p *prog) bytes() []byte {
	n := int(p.byte())
	switch {
	case n < 200:
		n %= 4
	case n < 250:
		n = 60 + n%10
	default:
		n = 300
	}
	out := make([]byte, n)
	for i := range out {
		out[i] = p.byte() % 8
	}
	return out
}

func fuzzLimits(c byte) Limits {
	lim := DefaultLimits()
	if c&1 == 0 {
		lim.HashMaxListpackEntries, lim.SetMaxIntsetEntries, lim.ZsetMaxListpackEntries = int(c>>1)%16, int(c>>1)%16, int(c>>1)%16
	}
	return lim
}

func FuzzHash(f *testing.F) {
	f.Add([]byte{0x08, 0, 1, 'a', 1, 'b', 0, 1, 'c', 0, 1, 1, 'a', 0, 1, 'a', 3, 0})
	f.Add([]byte{0x01, 0, 250, 0, 1, 'x', 1, 1, 'x', 2, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		p := &prog{data}
		lim := fuzzLimits(p.byte())
		ep := NewEpochs()
		h := NewHash(&lim, ep)
		m := &hashModel{m: map[string]string{}}
		var view HashView
		var vm map[string]string
		for len(p.b) > 0 {
			switch p.byte() % 5 {
			case 0:
				f, v := p.bytes(), p.bytes()
				if h.Set(f, v) != m.set(string(f), string(v)) {
					t.Fatalf("Set(%q)", f)
				}
			case 1:
				f := p.bytes()
				if h.Delete(f) != m.del(string(f)) {
					t.Fatalf("Delete(%q)", f)
				}
			case 2:
				seen := scanAll(h.Scan, 1+int(p.byte()%8))
				if len(seen) != len(m.m) {
					t.Fatalf("scan saw %d, model %d", len(seen), len(m.m))
				}
			case 3:
				if vm != nil {
					checkView(t, view, vm)
					ep.Thaw()
				}
				ep.Freeze()
				view, vm = h.View(), maps.Clone(m.m)
			case 4:
				h.Prepare(p.bytes())
			}
		}
		checkHash(t, h, m)
		if vm != nil {
			checkView(t, view, vm)
		}
	})
}

func FuzzSet(f *testing.F) {
	f.Add([]byte{0x08, 0, 1, '1', 0, 1, '2', 1, 1, '1', 0, 1, 'a', 2, 0})
	f.Add([]byte{0x01, 0, 2, '-', '1', 0, 250})
	f.Fuzz(func(t *testing.T, data []byte) {
		p := &prog{data}
		lim := fuzzLimits(p.byte())
		ep := NewEpochs()
		s := NewSet(&lim, ep)
		m := map[string]bool{}
		var view SetView
		var vm map[string]bool
		member := func() []byte {
			b := p.bytes()
			for i := range b {
				if i > 0 || p.byte()&1 == 0 {
					b[i] = '0' + b[i] // integers, or not, as the bytes fall
				}
			}
			return b
		}
		for len(p.b) > 0 {
			switch p.byte() % 4 {
			case 0:
				v := member()
				if s.Add(v) == m[string(v)] {
					t.Fatalf("Add(%q)", v)
				}
				m[string(v)] = true
			case 1:
				v := member()
				if s.Remove(v) != m[string(v)] {
					t.Fatalf("Remove(%q)", v)
				}
				delete(m, string(v))
			case 2:
				if vm != nil {
					checkSetView(t, view, vm)
					ep.Thaw()
				}
				ep.Freeze()
				view, vm = s.View(), maps.Clone(m)
			case 3:
				v := member()
				if s.Contains(v) != m[string(v)] {
					t.Fatalf("Contains(%q)", v)
				}
			}
		}
		checkSet(t, s, m)
		if vm != nil {
			checkSetView(t, view, vm)
		}
	})
}

func FuzzZSet(f *testing.F) {
	f.Add([]byte{0x08, 0, 1, 'a', 3, 0, 1, 'b', 200, 1, 1, 'a', 2, 0, 1, 3, 0})
	f.Add([]byte{0x01, 0, 250, 10, 0, 1, 'x', 0, 4, 1, 'x', 10})
	f.Add([]byte{0x09, 0, 0, 3}) // INCR on a new member keeps -0
	f.Fuzz(func(t *testing.T, data []byte) {
		p := &prog{data}
		lim := fuzzLimits(p.byte())
		z := NewZSet(&lim, NewEpochs())
		m := zmodel{}
		score := func() float64 {
			c := p.byte()
			if int(c) < len(testScores) {
				return testScores[c]
			}
			return float64(c%32) - 16
		}
		for len(p.b) > 0 {
			switch p.byte() % 5 {
			case 0:
				mem, s := p.bytes(), score()
				_, _, _, err := z.Add(mem, s, AddIncr)
				cur, ok := m[string(mem)]
				switch {
				case !ok:
					m[string(mem)] = s // a new member keeps its score's sign
				case math.IsNaN(cur + s):
					if err != ErrNaN {
						t.Fatalf("inf-inf: %v", err)
					}
				case cur+s != cur:
					m[string(mem)] = cur + s
				}
			case 1:
				mem := p.bytes()
				_, ok := m[string(mem)]
				if z.Remove(mem) != ok {
					t.Fatalf("Remove(%q)", mem)
				}
				delete(m, string(mem))
			case 2:
				sr := ScoreRange{Min: score(), Max: score(), MinEx: p.byte()&1 == 0, MaxEx: p.byte()&1 == 0}
				for k, s := range m {
					if sr.gteMin(s) && sr.lteMax(s) {
						delete(m, k)
					}
				}
				z.RemoveRangeByScore(sr)
			case 3:
				cnt := int(p.byte() % 4)
				mx := p.byte()&1 == 0
				s := m.sorted()
				if mx {
					for i := len(s) - 1; i >= len(s)-cnt && i >= 0; i-- {
						delete(m, s[i].m)
					}
				} else {
					for _, e := range s[:min(cnt, len(s))] {
						delete(m, e.m)
					}
				}
				z.Pop(cnt, mx, func([]byte, float64) {})
			case 4:
				if mem := p.bytes(); true {
					rk, ok := z.Rank(mem, false)
					_, in := m[string(mem)]
					if ok != in || ok && rk != z.firstWhere(func(s float64, b []byte) bool {
						ms := m[string(mem)]
						return s > ms || s == ms && string(b) >= string(mem)
					}) {
						t.Fatalf("Rank(%q) = %d %v", mem, rk, ok)
					}
				}
			}
		}
		checkZSet(t, z, m)
	})
}
