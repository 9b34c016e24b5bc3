package config

import (
	"math"
	"slices"
	"testing"
)

func TestSplitArgs(t *testing.T) {
	tests := []struct {
		name string
		line string
		want []string
		bad  bool
	}{
		{"empty", "", nil, false},
		{"blanks", " \t\v\f ", nil, false},
		{"words", "port 6379", []string{"port", "6379"}, false},
		{"runs of blanks", "  a \t b\r\nc  ", []string{"a", "b", "c"}, false},
		{"vertical tab is not a separator inside a word", "a\vb", []string{"a\vb"}, false},
		{"double quotes", `bind "127.0.0.1 ::1"`, []string{"bind", "127.0.0.1 ::1"}, false},
		{"empty quotes", `save ""`, []string{"save", ""}, false},
		{"escapes", `"a\n\r\t\b\a\\\"\q"`, []string{"a\n\r\t\b\a\\\"q"}, false},
		{"hex escape", `"\x41\x7a\x00!"`, []string{"Az\x00!"}, false},
		{"short hex escape is x", `"\x4"`, []string{"x4"}, false},
		{"bad hex escape is x", `"\xg1"`, []string{"xg1"}, false},
		{"single quotes", `'a b'`, []string{"a b"}, false},
		{"single quote escape", `'it\'s'`, []string{"it's"}, false},
		{"single quotes keep backslashes", `'a\nb\\x'`, []string{`a\nb\\x`}, false},
		{"backslash before the closing single quote escapes it", `'a\\'`, nil, true},
		{"quote opens mid-word", `foo"bar baz"`, []string{"foobar baz"}, false},
		{"single quote opens mid-word", `foo'bar baz'`, []string{"foobar baz"}, false},
		{"closing quote then blank", `"a" b`, []string{"a", "b"}, false},
		{"closing quote then tab", "\"a\"\tb", []string{"a", "b"}, false},
		{"closing quote then vertical tab", "\"a\"\vb", []string{"a", "b"}, false},
		{"hash is an argument", "port 1 # no", []string{"port", "1", "#", "no"}, false},
		{"NUL ends the line", "a b\x00c d", []string{"a", "b"}, false},
		{"unterminated double", `bind "127.0.0.1`, nil, true},
		{"unterminated single", `bind '127.0.0.1`, nil, true},
		{"glued after double", `bind "127.0.0.1"x`, nil, true},
		{"glued after single", `a 'b'c`, nil, true},
		{"trailing backslash in quotes", `"abc\`, nil, true},
		{"NUL inside quotes", "\"a\x00\"", nil, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := SplitArgs(tc.line)
			if tc.bad {
				if err == nil || err.Error() != "Unbalanced quotes in configuration line" {
					t.Fatalf("SplitArgs(%q) = %q, %v; want the unbalanced quotes error", tc.line, got, err)
				}
				return
			}
			if err != nil || !slices.Equal(got, tc.want) {
				t.Fatalf("SplitArgs(%q) = %q, %v; want %q", tc.line, got, err, tc.want)
			}
		})
	}
}

func TestQuoteRoundTrip(t *testing.T) {
	for _, s := range []string{"", "plain", "a b", `"q"`, `back\slash`, "\n\r\t\a\b", "\x00\x01\x7f\xff", "it's", "ünïcode"} {
		args, err := SplitArgs("x " + Quote(s))
		if err != nil || len(args) != 2 || args[1] != s {
			t.Errorf("Quote(%q) = %s, splits to %q, %v", s, Quote(s), args, err)
		}
	}
	if got := Quote("a\"b\x01"); got != `"a\"b\x01"` {
		t.Errorf("Quote: %s", got)
	}
}

func TestParseSize(t *testing.T) {
	tests := []struct {
		in   string
		want uint64
		ok   bool
	}{
		{"0", 0, true},
		{"1", 1, true},
		{"100b", 100, true},
		{"1k", 1000, true},
		{"1K", 1000, true},
		{"1kb", 1024, true},
		{"1KB", 1024, true},
		{"1kB", 1024, true},
		{"2m", 2000000, true},
		{"2mb", 2 << 20, true},
		{"3g", 3000000000, true},
		{"3gb", 3 << 30, true},
		{"4GB", 4 << 30, true},
		{"", 0, true},   // memtoull: no digits is 0
		{"kb", 0, true}, // likewise
		{"007", 7, true},
		{"18446744073709551615", math.MaxUint64, true},
		{"99999999999999999999999", math.MaxUint64, true},            // saturates
		{"20000000000gb", 20000000000 * (1 << 30) % (1 << 64), true}, // and wraps
		{"-1", 0, false},
		{"+1", 0, false},
		{" 1", 0, false},
		{"1 ", 0, false},
		{"1.5gb", 0, false},
		{"1tb", 0, false},
		{"1x", 0, false},
		{"1bb", 0, false},
		{"0x10", 0, false},
	}
	for _, tc := range tests {
		got, ok := ParseSize(tc.in)
		if got != tc.want || ok != tc.ok {
			t.Errorf("ParseSize(%q) = %d, %v; want %d, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func TestStrtoll(t *testing.T) {
	tests := []struct {
		in       string
		base     int
		want     int64
		rest     string
		rangeErr bool
	}{
		{"", 10, 0, "", false},
		{"12", 10, 12, "", false},
		{" +12x", 10, 12, "x", false},
		{"-0", 10, 0, "", false},
		{"abc", 10, 0, "abc", false},
		{"-", 10, 0, "-", false},
		{"99999999999999999999", 10, math.MaxInt64, "", true},
		{"-99999999999999999999", 10, math.MinInt64, "", true},
		{"755", 8, 0755, "", false},
		{"8", 8, 0, "8", false},
		{"0777", 8, 0777, "", false},
	}
	for _, tc := range tests {
		v, rest, rerr := strtoll(tc.in, tc.base)
		if v != tc.want || rest != tc.rest || rerr != tc.rangeErr {
			t.Errorf("strtoll(%q, %d) = %d, %q, %v; want %d, %q, %v", tc.in, tc.base, v, rest, rerr, tc.want, tc.rest, tc.rangeErr)
		}
	}
}

func TestString2d(t *testing.T) {
	for in, want := range map[string]float64{"1": 1, "99.9": 99.9, "1e1": 10, "0x10": 16, "-0": 0, "0.0": 0, "inf": math.Inf(1)} {
		if got, ok := string2d(in); !ok || got != want {
			t.Errorf("string2d(%q) = %v, %v; want %v", in, got, ok, want)
		}
	}
	for _, in := range []string{"", " 1", "1 ", "nan", "abc", "1e-400", "1e400", "1_0", "0x1p-2000"} {
		if got, ok := string2d(in); ok {
			t.Errorf("string2d(%q) = %v, accepted", in, got)
		}
	}
	for in, want := range map[float64]string{50: "50", 99.9: "99.9", 0: "0", 99.99999: "99.99999", 12.5: "12.5"} {
		if got := formatPercentile(in); got != want {
			t.Errorf("formatPercentile(%v) = %q; want %q", in, got, want)
		}
	}
}

// TestIsGlob: CONFIG GET treats a name as a pattern only if it holds one
// of "[*?" (the matching itself is redisc.StringMatch with nocase).
func TestIsGlob(t *testing.T) {
	for p, want := range map[string]bool{"port": false, `b\ind`: false, "p*": true, "p?": true, "[p]": true} {
		if isGlob(p) != want {
			t.Errorf("isGlob(%q) != %v", p, want)
		}
	}
}
