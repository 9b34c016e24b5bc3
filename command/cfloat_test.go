package command

import (
	"math"
	"strings"
	"testing"
)

// longDoubleCases are INCRBYFLOAT arguments and what Redis 7.0 on x86-64
// prints for 0 plus them ("" for "ERR value is not a valid float", "inf"
// for the NaN-or-Infinity error).
var longDoubleCases = []struct{ in, out string }{
	{"0.1", "0.1"},
	{"10.5", "10.5"},
	{"-0", "0"},
	{"-0.0", "0"},
	{"1e3", "1000"},
	{"1.5e-3", "0.0015"},
	{"+1", "1"},
	{".5", "0.5"},
	{"5.", "5"},
	{"00012", "12"},
	{"1e+2", "100"},
	{"0x10", "16"},
	{"0X1P-2", "0.25"},
	{"0x.8", "0.5"},
	{"0x1p3", "8"},
	{"12345678901234567890", "12345678901234567890"},
	{"1e25", "10000000000000000000000000"},
	{"1e-4950", "0"},               // subnormal: accepted
	{"3.0000000000000000001", "3"}, // below half an ulp of 3
	{"0.30000000000000000001", "0.3"},
	{"1e-5000", ""}, // underflows to zero: refused
	{"1e5000", ""},  // overflows: refused
	{"inf", "inf"},
	{"-Infinity", "inf"},
	{"nan", ""},
	{"NaN(123)", ""},
	{"", ""},
	{" 1", ""},
	{"1 ", ""},
	{"1e", ""},
	{"0x", ""},
	{"1_0", ""},
	{"1\x002", ""},
	{"0b101", ""},
	{"1p3", ""},
	{".", ""},
	{"-", ""},
}

func TestLongDouble(t *testing.T) {
	for _, tc := range longDoubleCases {
		x, ok := parseLongDouble([]byte(tc.in))
		if !ok {
			if tc.out != "" {
				t.Errorf("parseLongDouble(%q) refused, want %q", tc.in, tc.out)
			}
			continue
		}
		if tc.out == "" {
			t.Errorf("parseLongDouble(%q) = %v, want refusal", tc.in, x)
			continue
		}
		sum, ok := addLongDouble(ldZero(), x)
		got := "inf"
		if ok {
			got = formatLongDouble(sum)
		}
		if got != tc.out {
			t.Errorf("0 + %q = %q, want %q", tc.in, got, tc.out)
		}
	}
	// The sums that differ between float64 and x87 long double.
	for _, tc := range []struct{ a, b, want string }{
		{"10.5", "0.1", "10.6"},
		{"5.6", "1e3", "1005.59999999999999998"},
		{"1005.59999999999999998", "1.5e-3", "1005.60149999999999998"},
		{"0.1", "0.2", "0.3"},
		{"1e17", "0.5", "100000000000000000.5"},
	} {
		a, _ := parseLongDouble([]byte(tc.a))
		b, _ := parseLongDouble([]byte(tc.b))
		sum, ok := addLongDouble(a, b)
		if !ok || formatLongDouble(sum) != tc.want {
			t.Errorf("%s + %s = %v, want %s", tc.a, tc.b, sum, tc.want)
		}
	}
	// Huge values print every digit of the binary value, as %.17Lf does.
	if got := longDoubleSum(t, "1e4900", "1e4900"); len(got) != 4901 || !strings.HasPrefix(got, "20000000000000000000541662446138069966644810500815766869300586022391805703452138") {
		t.Errorf("1e4900 + 1e4900 = %.80s... (%d digits)", got, len(got))
	}
	// Past the largest long double the sum is refused.
	a, _ := parseLongDouble([]byte("1.18973149535723176502e+4932"))
	b, _ := parseLongDouble([]byte("1e4913"))
	if _, ok := addLongDouble(a, b); ok {
		t.Error("sum past the long double range accepted")
	}
}

func longDoubleSum(t *testing.T, a, b string) string {
	x, _ := parseLongDouble([]byte(a))
	y, _ := parseLongDouble([]byte(b))
	s, ok := addLongDouble(x, y)
	if !ok {
		t.Fatalf("%s + %s refused", a, b)
	}
	return formatLongDouble(s)
}

// FuzzLongDouble: no input panics, and a printed result reads back as
// the same printed result, so values survive being stored as strings.
func FuzzLongDouble(f *testing.F) {
	for _, tc := range longDoubleCases {
		f.Add(tc.in)
	}
	f.Fuzz(func(t *testing.T, s string) {
		x, ok := parseLongDouble([]byte(s))
		if !ok || x.IsInf() {
			return
		}
		out := formatLongDouble(x)
		y, ok := parseLongDouble([]byte(out))
		if !ok {
			t.Fatalf("%q printed as %q, which does not parse", s, out)
		}
		if again := formatLongDouble(y); again != out {
			t.Fatalf("%q printed as %q, then as %q", s, out, again)
		}
	})
}

// cDoubleCases pin strtod's grammar as SORT sees it: the number, how
// many bytes convert, and whether ERANGE is set.
var cDoubleCases = []struct {
	in     string
	f      float64
	end    int
	erange bool
}{
	{"", 0, 0, false},
	{"abc", 0, 0, false},
	{"  5", 5, 3, false},
	{"5  ", 5, 1, false},
	{"-1.5e3x", -1500, 6, false},
	{"0x10", 16, 4, false},
	{"0x", 0, 1, false},
	{"0xg", 0, 1, false},
	{"1e", 1, 1, false},
	{"1e+", 1, 1, false},
	{"inf", math.Inf(1), 3, false},
	{"-INFINITY", math.Inf(-1), 9, false},
	{"infin", math.Inf(1), 3, false},
	{"1e308", 1e308, 5, false},
	{"1e309", math.Inf(1), 5, true},
	{"1e-310", 1e-310, 6, true},
	{"1e-400", 0, 6, true},
	{"0e-400", 0, 6, false},
	{"2.2250738585072014e-308", 2.2250738585072014e-308, 23, false},
	{"5\x00x", 5, 1, false},
	{"0x1p-1074", 0x1p-1074, 9, false},   // subnormal but exact
	{"0x1.8p-1074", 0x1p-1073, 11, true}, // subnormal, rounded
	{"1e-320", 1e-320, 6, true},
	{"2.2250738585072012e-308", 0x1p-1022, 23, true}, // below 2^-1022, rounds up to it
	{"2.2250738585072014e-308", 0x1p-1022, 23, false},
	{"1.7976931348623158e308", math.MaxFloat64, 22, false},
	{"1.7976931348623159e308", math.Inf(1), 22, true},
	{"1e-99999999", 0, 11, true},
}

func TestCDouble(t *testing.T) {
	for _, tc := range cDoubleCases {
		f, end, erange := parseCDouble([]byte(tc.in))
		if end != tc.end || erange != tc.erange || (f != tc.f && !(f == 0 && tc.f == 0)) {
			t.Errorf("strtod(%q) = %v, %d, %v; want %v, %d, %v", tc.in, f, end, erange, tc.f, tc.end, tc.erange)
		}
	}
	if f, end, _ := parseCDouble([]byte("nan(x1_)")); !math.IsNaN(f) || end != 8 {
		t.Errorf("strtod(nan(x1_)) = %v, %d", f, end)
	}
}

func FuzzCDouble(f *testing.F) {
	for _, tc := range cDoubleCases {
		f.Add(tc.in)
	}
	f.Fuzz(func(t *testing.T, s string) {
		_, end, _ := parseCDouble([]byte(s))
		if end < 0 || end > len(s) {
			t.Fatalf("strtod(%q) consumed %d bytes", s, end)
		}
	})
}
