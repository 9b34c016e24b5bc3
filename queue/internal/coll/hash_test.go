package coll

import (
	"bytes"
	"maps"
	"slices"
	"testing"
)

// hashModel is a plain Go model of a hash, with insertion order for the
// listpack encoding.
type hashModel struct {
	m     map[string]string
	order []string
}

func (m *hashModel) set(f, v string) bool {
	_, ok := m.m[f]
	m.m[f] = v
	if !ok {
		m.order = append(m.order, f)
	}
	return !ok
}

func (m *hashModel) del(f string) bool {
	if _, ok := m.m[f]; !ok {
		return false
	}
	delete(m.m, f)
	m.order = slices.DeleteFunc(m.order, func(s string) bool { return s == f })
	return true
}

func checkHash(t testing.TB, h *Hash, m *hashModel) {
	t.Helper()
	if h.Len() != len(m.m) {
		t.Fatalf("Len %d, model %d", h.Len(), len(m.m))
	}
	got := map[string]string{}
	var order []string
	h.Each(func(f, v []byte) bool {
		got[string(f)] = string(v)
		order = append(order, string(f))
		return true
	})
	if !maps.Equal(got, m.m) {
		t.Fatalf("Each gives %d fields, model %d (or values differ)", len(got), len(m.m))
	}
	if h.t == nil {
		if !slices.Equal(order, m.order) {
			t.Fatalf("listpack order %q, insertion order %q", order, m.order)
		}
		if h.lp.n > h.lim.HashMaxListpackEntries {
			t.Fatalf("listpack of %d fields over the limit", h.lp.n)
		}
	} else {
		checkTable(t, h.t)
	}
	for f, v := range m.m {
		if g, ok := h.Get([]byte(f)); !ok || string(g) != v {
			t.Fatalf("Get(%q) = %q, %v; want %q", f, g, ok, v)
		}
	}
}

// scanAll runs a whole SCAN and returns what it saw.
func scanAll(scan func(c uint64, count int, fn func(k, v []byte)) uint64, count int) map[string]int {
	seen := map[string]int{}
	c := uint64(0)
	for {
		c = scan(c, count, func(k, _ []byte) { seen[string(k)]++ })
		if c == 0 {
			return seen
		}
	}
}

func TestHashModel(t *testing.T) {
	r := testRand(t)
	ep := NewEpochs()
	for round := 0; round < 30; round++ {
		lim := DefaultLimits()
		if round%3 == 1 {
			lim.HashMaxListpackEntries, lim.HashMaxListpackValue = 4, 8
		}
		h := NewHash(&lim, ep)
		m := &hashModel{m: map[string]string{}}
		space := 10 + r.IntN(600)
		wasTable := false
		var view HashView
		var viewModel map[string]string
		for op := 0; op < 3000; op++ {
			switch k := r.IntN(100); {
			case k < 50:
				f, v := randBytes(r, space), randBytes(r, space)
				if got, want := h.Set(f, v), m.set(string(f), string(v)); got != want {
					t.Fatalf("Set(%q) = %v, want %v", f, got, want)
				}
			case k < 80:
				f := randBytes(r, space)
				if got, want := h.Delete(f), m.del(string(f)); got != want {
					t.Fatalf("Delete(%q) = %v, want %v", f, got, want)
				}
			case k < 85:
				if h.Len() > 0 {
					f, v := h.Random(r)
					if m.m[string(f)] != string(v) {
						t.Fatalf("Random gave %q=%q, not in the model", f, v)
					}
				}
			case k < 88:
				seen := scanAll(h.Scan, 1+r.IntN(20))
				for f := range m.m {
					if seen[f] == 0 {
						t.Fatalf("scan missed %q", f)
					}
				}
				if len(seen) != len(m.m) {
					t.Fatalf("scan saw %d fields, model has %d", len(seen), len(m.m))
				}
			case k < 90:
				// A snapshot: it must keep showing this state while the
				// hash changes, until it is released.
				if viewModel != nil {
					checkView(t, view, viewModel)
					ep.Thaw()
				}
				ep.Freeze()
				view, viewModel = h.View(), maps.Clone(m.m)
			default:
				f := randBytes(r, space)
				got, ok := h.Get(f)
				want, wok := m.m[string(f)]
				if ok != wok || string(got) != want {
					t.Fatalf("Get(%q) = %q %v, want %q %v", f, got, ok, want, wok)
				}
			}
			if wasTable && h.t == nil {
				t.Fatal("hash converted back to listpack")
			}
			wasTable = h.t != nil
			if op%97 == 0 {
				checkHash(t, h, m)
			}
		}
		checkHash(t, h, m)
		if viewModel != nil {
			checkView(t, view, viewModel)
			ep.Thaw()
		}
	}
}

func checkView(t testing.TB, v HashView, want map[string]string) {
	t.Helper()
	got := map[string]string{}
	v.Each(func(f, val []byte) bool { got[string(f)] = string(val); return true })
	if !maps.Equal(got, want) {
		t.Fatalf("snapshot view changed: %d fields, want %d", len(got), len(want))
	}
}

func TestHashEncodingThresholds(t *testing.T) {
	lim := DefaultLimits()
	ep := NewEpochs()
	h := NewHash(&lim, ep)
	for i := 0; i < 128; i++ {
		h.Set([]byte{byte(i), 'f'}, []byte("v"))
	}
	if h.Encoding() != "listpack" {
		t.Fatalf("128 fields: %s, want listpack", h.Encoding())
	}
	h.Set([]byte("one more"), []byte("v"))
	if h.Encoding() != "hashtable" {
		t.Fatalf("129 fields: %s, want hashtable", h.Encoding())
	}
	h2 := NewHash(&lim, ep)
	h2.Set(bytes.Repeat([]byte("x"), 64), bytes.Repeat([]byte("y"), 64))
	if h2.Encoding() != "listpack" {
		t.Fatalf("64-byte field and value: %s, want listpack", h2.Encoding())
	}
	h2.Set([]byte("f"), bytes.Repeat([]byte("y"), 65))
	if h2.Encoding() != "hashtable" {
		t.Fatalf("65-byte value: %s, want hashtable", h2.Encoding())
	}
	h2.Delete([]byte("f"))
	if h2.Encoding() != "hashtable" {
		t.Fatal("converted back after a delete")
	}
	h3 := NewHash(&lim, ep)
	h3.Set([]byte("a"), []byte("b"))
	h3.Prepare([]byte("a"), bytes.Repeat([]byte("z"), 65))
	if h3.Encoding() != "hashtable" {
		t.Fatal("Prepare with a long argument kept the listpack (HSET a b a <65 bytes> converts before setting)")
	}
}

func TestHashEdgeCases(t *testing.T) {
	lim := DefaultLimits()
	for _, big := range []bool{false, true} {
		h := NewHash(&lim, NewEpochs())
		if big {
			h.convert()
		}
		if _, ok := h.Get([]byte("x")); ok || h.Len() != 0 || h.Delete([]byte("x")) {
			t.Fatal("empty hash is not empty")
		}
		if c := h.Scan(0, 10, func(k, v []byte) { t.Fatal("scan of empty hash returned", k) }); c != 0 {
			t.Fatalf("scan of empty hash: cursor %d", c)
		}
		cases := [][2][]byte{
			{[]byte{}, []byte{}},
			{[]byte{0}, []byte{0, 0xff}},
			{[]byte("\x00\r\n\xff"), bytes.Repeat([]byte{0xfe}, 300)},
			{bytes.Repeat([]byte("k"), 1<<17), bytes.Repeat([]byte("v"), 1<<20)}, // past a page
			{[]byte("9223372036854775807"), []byte("-9223372036854775808")},
		}
		for _, c := range cases {
			if !h.Set(c[0], c[1]) {
				t.Fatalf("Set(%.20q) not new", c[0])
			}
		}
		for _, c := range cases {
			if v, ok := h.Get(c[0]); !ok || !bytes.Equal(v, c[1]) {
				t.Fatalf("Get(%.20q) = %.20q, %v", c[0], v, ok)
			}
		}
		// Empty field and empty value are distinct from missing.
		if v, ok := h.Get([]byte{}); !ok || len(v) != 0 {
			t.Fatal("empty field lost")
		}
		for _, c := range cases {
			if !h.Delete(c[0]) {
				t.Fatalf("Delete(%.20q) missed", c[0])
			}
		}
		if h.Len() != 0 {
			t.Fatalf("Len %d after deleting all", h.Len())
		}
	}
}
