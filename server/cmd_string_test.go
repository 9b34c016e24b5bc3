package server

import (
	"math"
	"strings"
	"testing"
)

// stringSteps pins the string commands' replies, recorded from
// redis-server 7.0.15 (compat_keys_test.go replays them against a live
// one), INCRBYFLOAT's long double arithmetic and printing included.
var stringSteps = []step{
	{"FLUSHALL", "+OK\r\n"},
	{"GET nosuch", "$-1\r\n"},
	{"SET k v", "+OK\r\n"},
	{"GET k", "$1\r\nv\r\n"},
	{"SET k v2 NX", "$-1\r\n"},
	{"SET k v2 XX", "+OK\r\n"},
	{"GET k", "$2\r\nv2\r\n"},
	{"SET n v XX", "$-1\r\n"},
	{"SET k v3 GET", "$2\r\nv2\r\n"},
	{"SET k2 x NX GET", "$-1\r\n"},
	{"GET k2", "$1\r\nx\r\n"},
	{"SET k2 y NX GET", "$1\r\nx\r\n"},
	{"SET k2 y XX GET", "$1\r\nx\r\n"},
	{"SET nosuch2 y XX GET", "$-1\r\n"},
	{"set k v nx", "$-1\r\n"},
	{"SET k v NX XX", "-ERR syntax error\r\n"},
	{"SET k v XX NX", "-ERR syntax error\r\n"},
	{"SET k v EX 10 PX 10", "-ERR syntax error\r\n"},
	{"SET k v PX 10 EXAT 10", "-ERR syntax error\r\n"},
	{"SET k v KEEPTTL EX 1", "-ERR syntax error\r\n"},
	{"SET k v EX 1 KEEPTTL", "-ERR syntax error\r\n"},
	{"SET k v PERSIST", "-ERR syntax error\r\n"},
	{"SET k v EX", "-ERR syntax error\r\n"},
	{"SET k v FOO", "-ERR syntax error\r\n"},
	{"SET k v EX 0", "-ERR invalid expire time in 'set' command\r\n"},
	{"SET k v EX -1", "-ERR invalid expire time in 'set' command\r\n"},
	{"SET k v PX 0", "-ERR invalid expire time in 'set' command\r\n"},
	{"SET k v EXAT 0", "-ERR invalid expire time in 'set' command\r\n"},
	{"SET k v PXAT -1", "-ERR invalid expire time in 'set' command\r\n"},
	{"SET k v EX abc", "-ERR value is not an integer or out of range\r\n"},
	{"SET k v EX 9223372036854775", "-ERR invalid expire time in 'set' command\r\n"},
	{"SET k v PX 9223372036854775807", "-ERR invalid expire time in 'set' command\r\n"},
	{"SET k v EX 100", "+OK\r\n"},
	{"TTL k", ":100\r\n"},
	{"SET k v2 KEEPTTL", "+OK\r\n"},
	{"TTL k", ":100\r\n"},
	{"SET k v3", "+OK\r\n"},
	{"TTL k", ":-1\r\n"},
	{"SET k v PXAT 4102444800000", "+OK\r\n"},
	{"PEXPIRETIME k", ":4102444800000\r\n"},
	{"SET k v EX 10 EX 20", "+OK\r\n"},
	{"TTL k", ":20\r\n"},
	{"SET k v EXAT 1", "+OK\r\n"},
	{"GET k", "$-1\r\n"},
	{"SET k v keepttl keepttl nx nx get get", "$-1\r\n"},
	{"GET k", "$1\r\nv\r\n"},
	{"SET", "-ERR wrong number of arguments for 'set' command\r\n"},
	{"SET k", "-ERR wrong number of arguments for 'set' command\r\n"},
	{"RPUSH l a", ":1\r\n"},
	{"SET l v GET", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
	{"GET l", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
	{"SET l v NX", "$-1\r\n"},
	{"SETNX l v", ":0\r\n"},
	{"SET l v", "+OK\r\n"},
	{"TYPE l", "+string\r\n"},
	{"SETNX k v", ":0\r\n"},
	{"SETNX new v", ":1\r\n"},
	{"SETNX new", "-ERR wrong number of arguments for 'setnx' command\r\n"},
	{"SETEX k 100 v", "+OK\r\n"},
	{"TTL k", ":100\r\n"},
	{"SETEX k 0 v", "-ERR invalid expire time in 'setex' command\r\n"},
	{"SETEX k -1 v", "-ERR invalid expire time in 'setex' command\r\n"},
	{"SETEX k x v", "-ERR value is not an integer or out of range\r\n"},
	{"SETEX k 9223372036854775807 v", "-ERR invalid expire time in 'setex' command\r\n"},
	{"PSETEX k 0 v", "-ERR invalid expire time in 'psetex' command\r\n"},
	{"PSETEX k 100000 v", "+OK\r\n"},
	{"TTL k", ":100\r\n"},
	{"SETEX k 1", "-ERR wrong number of arguments for 'setex' command\r\n"},
	{"GETSET k new", "$1\r\nv\r\n"},
	{"TTL k", ":-1\r\n"},
	{"GETSET nosuch3 v", "$-1\r\n"},
	{"GETSET k", "-ERR wrong number of arguments for 'getset' command\r\n"},
	{"RPUSH list a", ":1\r\n"},
	{"GETSET list v", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
	{"GETDEL k", "$3\r\nnew\r\n"},
	{"GETDEL k", "$-1\r\n"},
	{"GETDEL list", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
	{"GETDEL", "-ERR wrong number of arguments for 'getdel' command\r\n"},
	{"SET k v", "+OK\r\n"},
	{"GETEX k", "$1\r\nv\r\n"},
	{"GETEX k EX 100", "$1\r\nv\r\n"},
	{"TTL k", ":100\r\n"},
	{"GETEX k PERSIST", "$1\r\nv\r\n"},
	{"TTL k", ":-1\r\n"},
	{"GETEX k PX 100000", "$1\r\nv\r\n"},
	{"TTL k", ":100\r\n"},
	{"GETEX k EXAT 4102444800", "$1\r\nv\r\n"},
	{"EXPIRETIME k", ":4102444800\r\n"},
	{"GETEX k PXAT 4102444800000", "$1\r\nv\r\n"},
	{"GETEX k EX 0", "-ERR invalid expire time in 'getex' command\r\n"},
	{"GETEX k EX x", "-ERR value is not an integer or out of range\r\n"},
	{"GETEX nosuch EX x", "$-1\r\n"},
	{"GETEX k NX", "-ERR syntax error\r\n"},
	{"GETEX k KEEPTTL", "-ERR syntax error\r\n"},
	{"GETEX k GET", "-ERR syntax error\r\n"},
	{"GETEX k PERSIST EX 1", "-ERR syntax error\r\n"},
	{"GETEX k EX 1 PERSIST", "-ERR syntax error\r\n"},
	{"GETEX k EX 1 PX 1", "-ERR syntax error\r\n"},
	{"GETEX k EX", "-ERR syntax error\r\n"},
	{"GETEX list", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
	{"GETEX list EX x", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
	{"GETEX k EXAT 1", "$1\r\nv\r\n"},
	{"EXISTS k", ":0\r\n"},
	{"GETEX", "-ERR wrong number of arguments for 'getex' command\r\n"},
	{"INCR c", ":1\r\n"},
	{"INCRBY c 10", ":11\r\n"},
	{"DECR c", ":10\r\n"},
	{"DECRBY c 3", ":7\r\n"},
	{"INCRBY c -20", ":-13\r\n"},
	{"INCRBY c x", "-ERR value is not an integer or out of range\r\n"},
	{"INCRBY c 1.5", "-ERR value is not an integer or out of range\r\n"},
	{"DECRBY c x", "-ERR value is not an integer or out of range\r\n"},
	{"DECRBY c -9223372036854775808", "-ERR decrement would overflow\r\n"},
	{"DECRBY c 9223372036854775807", "-ERR increment or decrement would overflow\r\n"},
	{"SET c 9223372036854775807", "+OK\r\n"},
	{"INCR c", "-ERR increment or decrement would overflow\r\n"},
	{"DECRBY c -1", "-ERR increment or decrement would overflow\r\n"},
	{"SET c -9223372036854775808", "+OK\r\n"},
	{"DECR c", "-ERR increment or decrement would overflow\r\n"},
	{"SET c x", "+OK\r\n"},
	{"INCR c", "-ERR value is not an integer or out of range\r\n"},
	{"SET c 01", "+OK\r\n"},
	{"INCR c", "-ERR value is not an integer or out of range\r\n"},
	{"SET c -0", "+OK\r\n"},
	{"INCR c", "-ERR value is not an integer or out of range\r\n"},
	{"SET c 99999999999999999999", "+OK\r\n"},
	{"INCR c", "-ERR value is not an integer or out of range\r\n"},
	{"INCR list", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
	{"DECR list", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
	{"INCRBY list 1", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
	{"INCR", "-ERR wrong number of arguments for 'incr' command\r\n"},
	{"INCRBY c", "-ERR wrong number of arguments for 'incrby' command\r\n"},
	{"SET c 5", "+OK\r\n"},
	{"EXPIRE c 100", ":1\r\n"},
	{"INCR c", ":6\r\n"},
	{"TTL c", ":100\r\n"},
	{"INCRBYFLOAT f 10.5", "$4\r\n10.5\r\n"},
	{"INCRBYFLOAT f 0.1", "$4\r\n10.6\r\n"},
	{"INCRBYFLOAT f -5", "$3\r\n5.6\r\n"},
	{"INCRBYFLOAT f 1e3", "$22\r\n1005.59999999999999998\r\n"},
	{"INCRBYFLOAT f 1.5e-3", "$22\r\n1005.60149999999999998\r\n"},
	{"INCRBYFLOAT f abc", "-ERR value is not a valid float\r\n"},
	{"INCRBYFLOAT f inf", "-ERR increment would produce NaN or Infinity\r\n"},
	{"INCRBYFLOAT f -infinity", "-ERR increment would produce NaN or Infinity\r\n"},
	{"INCRBYFLOAT f nan", "-ERR value is not a valid float\r\n"},
	{"INCRBYFLOAT f 1e5000", "-ERR value is not a valid float\r\n"},
	{"INCRBYFLOAT f 0x", "-ERR value is not a valid float\r\n"},
	{"INCRBYFLOAT f 1e", "-ERR value is not a valid float\r\n"},
	{"INCRBYFLOAT f 1_0", "-ERR value is not a valid float\r\n"},
	{"INCRBYFLOAT f +1", "$22\r\n1006.60149999999999998\r\n"},
	{"INCRBYFLOAT f .5", "$22\r\n1007.10149999999999998\r\n"},
	{"INCRBYFLOAT f 5.", "$22\r\n1012.10149999999999998\r\n"},
	{"INCRBYFLOAT list 1", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
	{"SET f x", "+OK\r\n"},
	{"INCRBYFLOAT f 1", "-ERR value is not a valid float\r\n"},
	{"INCRBYFLOAT h 0x10", "$2\r\n16\r\n"},
	{"INCRBYFLOAT h 0X1P-2", "$5\r\n16.25\r\n"},
	{"INCRBYFLOAT h 0x.8", "$5\r\n16.75\r\n"},
	{"INCRBYFLOAT z 3.0e-1", "$3\r\n0.3\r\n"},
	{"INCRBYFLOAT z -0.3", "$1\r\n0\r\n"},
	{"INCRBYFLOAT z2 0.1", "$3\r\n0.1\r\n"},
	{"INCRBYFLOAT z2 0.2", "$3\r\n0.3\r\n"},
	{"INCRBYFLOAT z3 1e17", "$18\r\n100000000000000000\r\n"},
	{"INCRBYFLOAT z3 0.5", "$20\r\n100000000000000000.5\r\n"},
	{"INCRBYFLOAT z4 1e-4950", "$1\r\n0\r\n"},
	{"INCRBYFLOAT z5 -1e-5000", "-ERR value is not a valid float\r\n"},
	{"INCRBYFLOAT z6 12345678901234567890", "$20\r\n12345678901234567890\r\n"},
	{"INCRBYFLOAT z7 1e25", "$26\r\n10000000000000000000000000\r\n"},
	{"INCRBYFLOAT z8 -0.0", "$1\r\n0\r\n"},
	{"SET f 1 EX 100", "+OK\r\n"},
	{"INCRBYFLOAT f 1", "$1\r\n2\r\n"},
	{"TTL f", ":100\r\n"},
	{"INCRBYFLOAT f", "-ERR wrong number of arguments for 'incrbyfloat' command\r\n"},
	{"SET f 1e4932", "+OK\r\n"},
	{"INCRBYFLOAT f 1e4932", "-ERR increment would produce NaN or Infinity\r\n"},
	{"SET f 1.18973149535723176502e+4932", "+OK\r\n"},
	{"INCRBYFLOAT f 1e4916", "-ERR increment would produce NaN or Infinity\r\n"},
	{"SET f 1.18973149535723176502e+4932", "+OK\r\n"},
	{"INCRBYFLOAT f 1e4913", "-ERR increment would produce NaN or Infinity\r\n"},
	{"MGET k nosuch list f", "*4\r\n$-1\r\n$-1\r\n$-1\r\n$28\r\n1.18973149535723176502e+4932\r\n"},
	{"MGET", "-ERR wrong number of arguments for 'mget' command\r\n"},
	{"MSET a 1 b 2", "+OK\r\n"},
	{"MGET a b", "*2\r\n$1\r\n1\r\n$1\r\n2\r\n"},
	{"MSET a", "-ERR wrong number of arguments for 'mset' command\r\n"},
	{"MSET a 1 b", "-ERR wrong number of arguments for 'mset' command\r\n"},
	{"MSETNX a 1 c 3", ":0\r\n"},
	{"MSETNX c 3 d 4", ":0\r\n"},
	{"MSETNX c 3 d", "-ERR wrong number of arguments for 'msetnx' command\r\n"},
	{"MSETNX e 1 e 2", ":1\r\n"},
	{"GET e", "$1\r\n2\r\n"},
	{"MSET x 1 x 2", "+OK\r\n"},
	{"GET x", "$1\r\n2\r\n"},
	{"APPEND ap hello", ":5\r\n"},
	{"APPEND ap world", ":10\r\n"},
	{"GET ap", "$10\r\nhelloworld\r\n"},
	{"APPEND list x", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
	{"APPEND ap", "-ERR wrong number of arguments for 'append' command\r\n"},
	{"STRLEN ap", ":10\r\n"},
	{"STRLEN nosuch", ":0\r\n"},
	{"STRLEN list", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
	{"STRLEN", "-ERR wrong number of arguments for 'strlen' command\r\n"},
	{"SET e2 5", "+OK\r\n"},
	{"EXPIRE e2 100", ":1\r\n"},
	{"APPEND e2 6", ":2\r\n"},
	{"TTL e2", ":100\r\n"},
	{"GET e2", "$2\r\n56\r\n"},
}

func TestStringCommandsExactReplies(t *testing.T) {
	runSteps(t, startServer(t), stringSteps)
}

// TestAppendLimit checks APPEND against proto-max-bulk-len, which bounds
// a string's size in Redis.
func TestAppendLimit(t *testing.T) {
	ts := startServer(t, []string{"proto-max-bulk-len", "1mb"})
	r := ts.raw(t)
	big := strings.Repeat("x", 1<<20)
	runStepsConn(t, r, []step{{"SET k x", "+OK\r\n"}})
	if got := r.do("APPEND", "k", big); got != "-"+msgStringTooLong+"\r\n" {
		t.Fatalf("APPEND past the limit: %q", got)
	}
	if got := r.do("APPEND", "k", big[1:]); got != ":1048576\r\n" {
		t.Fatalf("APPEND up to the limit: %q", got)
	}
}

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
