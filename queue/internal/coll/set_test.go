package coll

import (
	"bytes"
	"maps"
	"slices"
	"strconv"
	"testing"
)

func setMembers(s interface{ Each(func([]byte) bool) }) []string {
	var out []string
	s.Each(func(m []byte) bool { out = append(out, string(m)); return true })
	return out
}

func checkSet(t testing.TB, s *Set, m map[string]bool) {
	t.Helper()
	if s.Len() != len(m) {
		t.Fatalf("Len %d, model %d", s.Len(), len(m))
	}
	got := setMembers(s)
	if len(got) != len(m) {
		t.Fatalf("Each gives %d members, model %d", len(got), len(m))
	}
	for _, g := range got {
		if !m[g] {
			t.Fatalf("Each gives %q, not in the model", g)
		}
	}
	if s.t == nil {
		// Ascending integers, each as string2ll accepts it, within the limit.
		prev := int64(0)
		for i, g := range got {
			v, ok := ParseInt([]byte(g))
			if !ok || i > 0 && v <= prev {
				t.Fatalf("intset member %q out of order or not an integer", g)
			}
			prev = v
			if w := widthOf(v); w > s.w {
				t.Fatalf("intset of width %d holds %d", s.w, v)
			}
		}
		if len(got) > s.lim.SetMaxIntsetEntries {
			t.Fatalf("intset of %d members over the limit", len(got))
		}
	} else {
		checkTable(t, s.t)
	}
	for g := range m {
		if !s.Contains([]byte(g)) {
			t.Fatalf("Contains(%q) false", g)
		}
	}
}

func TestSetModel(t *testing.T) {
	r := testRand(t)
	ep := NewEpochs()
	for round := 0; round < 40; round++ {
		lim := DefaultLimits()
		if round%3 == 1 {
			lim.SetMaxIntsetEntries = 5
		}
		intsOnly := round%2 == 0
		s := NewSet(&lim, ep)
		m := map[string]bool{}
		space := 10 + r.IntN(1500)
		wasTable := false
		var view SetView
		var viewModel map[string]bool
		member := func() []byte {
			if intsOnly && r.IntN(300) != 0 {
				switch r.IntN(10) {
				case 0:
					return strconv.AppendInt(nil, r.Int64()-r.Int64(), 10)
				case 1:
					return strconv.AppendInt(nil, int64(r.IntN(1<<20))-1<<19, 10)
				}
				return strconv.AppendInt(nil, int64(r.IntN(space)-space/2), 10)
			}
			return randBytes(r, space)
		}
		for op := 0; op < 3000; op++ {
			switch k := r.IntN(100); {
			case k < 50:
				v := member()
				if got, want := s.Add(v), !m[string(v)]; got != want {
					t.Fatalf("Add(%q) = %v, want %v", v, got, want)
				}
				m[string(v)] = true
			case k < 75:
				v := member()
				if got, want := s.Remove(v), m[string(v)]; got != want {
					t.Fatalf("Remove(%q) = %v, want %v", v, got, want)
				}
				delete(m, string(v))
			case k < 80:
				if s.Len() > 0 {
					v := s.Pop(r, nil)
					if !m[string(v)] {
						t.Fatalf("Pop gave %q, not in the model", v)
					}
					delete(m, string(v))
				}
			case k < 83:
				if s.Len() > 0 {
					if v := s.Random(r, []byte("prefix")); !m[string(v[6:])] || string(v[:6]) != "prefix" {
						t.Fatalf("Random gave %q", v)
					}
				}
			case k < 86:
				seen := map[string]int{}
				c := uint64(0)
				count := 1 + r.IntN(20)
				for {
					c = s.Scan(c, count, func(m []byte) { seen[string(m)]++ })
					if c == 0 {
						break
					}
				}
				if len(seen) != len(m) {
					t.Fatalf("scan saw %d members, model has %d", len(seen), len(m))
				}
				for g := range m {
					if seen[g] == 0 {
						t.Fatalf("scan missed %q", g)
					}
				}
			case k < 88:
				if viewModel != nil {
					checkSetView(t, view, viewModel)
					ep.Thaw()
				}
				ep.Freeze()
				view, viewModel = s.View(), maps.Clone(m)
			default:
				v := member()
				if got := s.Contains(v); got != m[string(v)] {
					t.Fatalf("Contains(%q) = %v", v, got)
				}
			}
			if wasTable && s.t == nil {
				t.Fatal("set converted back to intset")
			}
			wasTable = s.t != nil
			if op%101 == 0 {
				checkSet(t, s, m)
			}
		}
		checkSet(t, s, m)
		if viewModel != nil {
			checkSetView(t, view, viewModel)
			ep.Thaw()
		}
	}
}

func checkSetView(t testing.TB, v SetView, want map[string]bool) {
	t.Helper()
	got := setMembers(v)
	slices.Sort(got)
	w := slices.Sorted(maps.Keys(want))
	if !slices.Equal(got, w) {
		t.Fatalf("snapshot view changed: %d members, want %d", len(got), len(w))
	}
}

func TestParseInt(t *testing.T) {
	for _, c := range []struct {
		in string
		v  int64
		ok bool
	}{
		{"0", 0, true}, {"-1", -1, true}, {"9223372036854775807", 1<<63 - 1, true},
		{"-9223372036854775808", -1 << 63, true}, {"9223372036854775808", 0, false},
		{"-9223372036854775809", 0, false}, {"-0", 0, false}, {"01", 0, false},
		{"+1", 0, false}, {" 1", 0, false}, {"1 ", 0, false}, {"", 0, false},
		{"-", 0, false}, {"1.0", 0, false}, {"0x10", 0, false}, {"99999999999999999999", 0, false},
	} {
		v, ok := ParseInt([]byte(c.in))
		if ok != c.ok || ok && v != c.v {
			t.Errorf("ParseInt(%q) = %d, %v; want %d, %v", c.in, v, ok, c.v, c.ok)
		}
	}
}

func TestSetEncodings(t *testing.T) {
	lim := DefaultLimits()
	ep := NewEpochs()
	s := NewSet(&lim, ep)
	for _, v := range []string{"1", "-32768", "32767"} {
		s.Add([]byte(v))
	}
	if s.w != 2 || s.Encoding() != "intset" {
		t.Fatalf("int16 values: width %d, %s", s.w, s.Encoding())
	}
	s.Add([]byte("32768"))
	if s.w != 4 {
		t.Fatalf("32768: width %d, want 4", s.w)
	}
	s.Add([]byte("-9223372036854775808"))
	s.Add([]byte("9223372036854775807"))
	if s.w != 8 {
		t.Fatalf("int64 bounds: width %d, want 8", s.w)
	}
	want := []string{"-9223372036854775808", "-32768", "1", "32767", "32768", "9223372036854775807"}
	if got := setMembers(s); !slices.Equal(got, want) {
		t.Fatalf("intset members %q, want %q", got, want)
	}
	// 512 integers stay an intset, the 513th converts.
	s2 := NewSet(&lim, ep)
	for i := 0; i < 512; i++ {
		s2.Add(strconv.AppendInt(nil, int64(i), 10))
	}
	if s2.Encoding() != "intset" {
		t.Fatalf("512 ints: %s", s2.Encoding())
	}
	s2.Add([]byte("512"))
	if s2.Encoding() != "hashtable" || s2.Len() != 513 {
		t.Fatalf("513 ints: %s, %d", s2.Encoding(), s2.Len())
	}
	// "-0" and "01" are not integers to Redis: they convert.
	for _, m := range []string{"-0", "01", "1.5", ""} {
		s3 := NewSet(&lim, ep)
		s3.Add([]byte("5"))
		if s3.Contains([]byte(m)) {
			t.Fatalf("intset contains %q", m)
		}
		s3.Add([]byte(m))
		if s3.Encoding() != "hashtable" || !s3.Contains([]byte(m)) || !s3.Contains([]byte("5")) || s3.Contains([]byte("05")) {
			t.Fatalf("adding %q: %s", m, s3.Encoding())
		}
	}
	s4 := NewSetSized(&lim, ep, 1000)
	s4.Add([]byte("1"))
	if s4.Encoding() != "hashtable" {
		t.Fatal("NewSetSized is not a hashtable")
	}
	// Binary and huge members.
	s5 := NewSet(&lim, ep)
	huge := bytes.Repeat([]byte{0, 1, 2}, 100000)
	for _, m := range [][]byte{{0}, {0xff, 0}, huge, {}} {
		if !s5.Add(m) || s5.Add(m) || !s5.Contains(m) {
			t.Fatalf("member %.10q", m)
		}
	}
	if !s5.Remove(huge) || s5.Contains(huge) || s5.Len() != 3 {
		t.Fatal("removing the huge member")
	}
}
