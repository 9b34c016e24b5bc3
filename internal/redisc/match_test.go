package redisc

import (
	"bytes"
	"fmt"
	"slices"
	"testing"

	"mullet/internal/e2e"
	"mullet/internal/resp"
)

func TestMain(m *testing.M) { e2e.Main(m) }

// matchCases pin stringmatchlen's rules, corner cases included. The keys
// column of TestStringMatchRedis holds every s here.
var matchCases = []struct {
	pattern, s string
	nocase     bool
	want       bool
}{
	{"*", "", false, false}, // the loop never starts: only "" matches ""
	{"", "", false, true},
	{"", "a", false, false},
	{"*", "order_queue", false, true},
	{"order_*", "order_queue", false, true},
	{"order_*", "Order_queue", false, false},
	{"order_*", "Order_queue", true, true},
	{"p?rt", "port", false, true},
	{"p?rt", "prt", false, false},
	{"*-max-*", "list-max-listpack-size", false, true},
	{"h[^e]llo", "hello", false, false},
	{"h[^e]llo", "hallo", false, true},
	{"h[ae]llo", "hallo", false, true},
	{"[a-c]*", "bind", false, true},
	{"[A-C]*", "bind", false, false},
	{"[A-C]*", "bind", true, true},
	{"[c-a]*", "bind", false, true},      // a reversed range is swapped
	{"[Z-a]*", "bind", true, false},      // swapped, then folded: z..a is empty
	{"[a-\xff]", "b", false, false},      // signed chars: the range is -1..'a'
	{"[a-\xff]", "0", false, true},       //
	{"[\x80-\xff]", "\x90", false, true}, // -128..-1
	{"[\\]]x", "]x", false, true},        // a quoted ']' in a class
	{"[\\A]", "a", true, false},          // a quoted byte is compared as is
	{"[abc", "a", false, true},           // an unterminated class ends the pattern
	{"[abc", "ab", false, false},         //
	{"[", "x", false, false},             // "[" alone: an empty class
	{"[^", "x", false, true},             // ... negated
	{`b\ind`, "bind", false, true},       // a quoted ordinary byte
	{`b\*nd`, "b*nd", false, true},       // a quoted '*'
	{`b\*nd`, "bind", false, false},      //
	{`ab\`, `ab\`, false, true},          // a trailing '\' is itself
	{"a**", "a", false, true},            // trailing stars match the empty rest
	{"a*?", "a", false, false},           //
	{"**b", "ab", false, true},           //
	{"a\x00b", "a\x00b", false, true},    // NUL is an ordinary byte
	{"*\x00*", "a\x00b", false, true},    //
	{"P*RT", "port", true, true},         // CONFIG GET's nocase matching
	{"port", "PORT", true, true},
	{"maxmemory-po[l]icy", "maxmemory-policy", true, true},
	{"[^b]ind", "bind", true, false},
	{"[^b]ind", "kind", true, true},
	{"[\\]]x", "]x", true, true},
	{"[abc", "A", true, true},
	{"port**", "port", true, true},
	{"a*a*a*a*a*a*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", false, false},
}

func TestStringMatch(t *testing.T) {
	for _, tc := range matchCases {
		t.Run(fmt.Sprintf("%q~%q/nocase=%v", tc.pattern, tc.s, tc.nocase), func(t *testing.T) {
			if got := StringMatch(tc.pattern, tc.s, tc.nocase); got != tc.want {
				t.Errorf("StringMatch(%q, %q, %v) = %v, want %v", tc.pattern, tc.s, tc.nocase, got, tc.want)
			}
			if got := StringMatch([]byte(tc.pattern), []byte(tc.s), tc.nocase); got != tc.want {
				t.Errorf("StringMatch([]byte(%q), []byte(%q), %v) = %v, want %v", tc.pattern, tc.s, tc.nocase, got, tc.want)
			}
			if got := cStringMatch([]byte(tc.pattern), []byte(tc.s), tc.nocase); got != tc.want {
				t.Errorf("the C transliteration says %v, the table %v: fix the table", got, tc.want)
			}
		})
	}
}

// TestStringMatchNesting: a pattern of 1100 '*'-separated parts is cut
// off at Redis's nesting limit and fails instead of overflowing.
func TestStringMatchNesting(t *testing.T) {
	p := bytes.Repeat([]byte("a*"), 1100)
	s := bytes.Repeat([]byte("a"), 1200)
	if StringMatch(p, s, false) {
		t.Fatal("a pattern nested past 1000 matched")
	}
	if !StringMatch(p[:200], s, false) {
		t.Fatal("a pattern nested 100 deep did not match")
	}
}

// TestStringMatchRedis runs every case-sensitive pattern of matchCases
// through KEYS on a redis-server 7.0 holding every string of matchCases
// as a key, and compares the keys it returns with StringMatch's.
func TestStringMatchRedis(t *testing.T) {
	srv := e2e.StartRedisWith(t, e2e.RedisOptions{})
	c, err := resp.Dial(srv.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var keys []string
	for _, tc := range matchCases {
		if tc.s != "" && !slices.Contains(keys, tc.s) {
			keys = append(keys, tc.s)
			c.Send("SET", tc.s, "x")
		}
	}
	if err := c.Flush(); err != nil {
		t.Fatal(err)
	}
	for range keys {
		if _, err := c.Read(); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range matchCases {
		if tc.nocase {
			continue // KEYS is case-sensitive
		}
		c.Send("KEYS", tc.pattern)
		if err := c.Flush(); err != nil {
			t.Fatal(err)
		}
		r, err := c.Read()
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, k := range r.([]any) {
			got = append(got, fmt.Sprint(k))
		}
		var want []string
		for _, k := range keys {
			if StringMatch(tc.pattern, k, false) {
				want = append(want, k)
			}
		}
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("KEYS %q: redis-server returns %q, StringMatch picks %q", tc.pattern, got, want)
		}
	}
}

// FuzzStringMatch compares StringMatch, on strings and on byte slices,
// with cStringMatch, a line-by-line transliteration of Redis's C code.
func FuzzStringMatch(f *testing.F) {
	for _, tc := range matchCases {
		f.Add(tc.pattern, tc.s, tc.nocase)
	}
	f.Fuzz(func(t *testing.T, pattern, s string, nocase bool) {
		want := cStringMatch([]byte(pattern), []byte(s), nocase)
		if got := StringMatch(pattern, s, nocase); got != want {
			t.Fatalf("StringMatch(%q, %q, %v) = %v, Redis's C code gives %v", pattern, s, nocase, got, want)
		}
		if got := StringMatch([]byte(pattern), []byte(s), nocase); got != want {
			t.Fatalf("StringMatch([]byte(%q), []byte(%q), %v) = %v, Redis's C code gives %v", pattern, s, nocase, got, want)
		}
	})
}

// cStringMatch is stringmatchlen_impl of Redis 7 (util.c) transliterated
// statement by statement: pointers become indexes into NUL-terminated
// copies (the C code reads the terminator), chars are signed (x86-64).
func cStringMatch(pat, str []byte, nocase bool) bool {
	skip := false
	pat = append(slices.Clip(pat), 0)
	str = append(slices.Clip(str), 0)
	return cImpl(pat, 0, len(pat)-1, str, 0, len(str)-1, nocase, &skip, 0)
}

func cLower(c int) int {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

func cImpl(pat []byte, p, patternLen int, str []byte, s, stringLen int, nocase bool, skipLongerMatches *bool, nesting int) bool {
	ch := func(b []byte, i int) int { return int(int8(b[i])) }
	if nesting > 1000 {
		return false
	}
	for patternLen != 0 && stringLen != 0 {
		switch pat[p] {
		case '*':
			for patternLen != 0 && pat[p+1] == '*' {
				p++
				patternLen--
			}
			if patternLen == 1 {
				return true
			}
			for stringLen != 0 {
				if cImpl(pat, p+1, patternLen-1, str, s, stringLen, nocase, skipLongerMatches, nesting+1) {
					return true
				}
				if *skipLongerMatches {
					return false
				}
				s++
				stringLen--
			}
			*skipLongerMatches = true
			return false
		case '?':
			s++
			stringLen--
		case '[':
			p++
			patternLen--
			not := pat[p] == '^'
			if not {
				p++
				patternLen--
			}
			match := false
			for {
				if pat[p] == '\\' && patternLen >= 2 {
					p++
					patternLen--
					if pat[p] == str[s] {
						match = true
					}
				} else if pat[p] == ']' {
					break
				} else if patternLen == 0 {
					p--
					patternLen++
					break
				} else if patternLen >= 3 && pat[p+1] == '-' {
					start, end, c := ch(pat, p), ch(pat, p+2), ch(str, s)
					if start > end {
						start, end = end, start
					}
					if nocase {
						start, end, c = cLower(start), cLower(end), cLower(c)
					}
					p += 2
					patternLen -= 2
					if c >= start && c <= end {
						match = true
					}
				} else if !nocase {
					if pat[p] == str[s] {
						match = true
					}
				} else if cLower(ch(pat, p)) == cLower(ch(str, s)) {
					match = true
				}
				p++
				patternLen--
			}
			if not {
				match = !match
			}
			if !match {
				return false
			}
			s++
			stringLen--
		case '\\':
			if patternLen >= 2 {
				p++
				patternLen--
			}
			fallthrough
		default:
			if !nocase {
				if pat[p] != str[s] {
					return false
				}
			} else if cLower(ch(pat, p)) != cLower(ch(str, s)) {
				return false
			}
			s++
			stringLen--
		}
		p++
		patternLen--
		if stringLen == 0 {
			for pat[p] == '*' {
				p++
				patternLen--
			}
			break
		}
	}
	return patternLen == 0 && stringLen == 0
}
