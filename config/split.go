package config

import (
	"errors"
	"math"
	"strconv"
	"strings"

	"mullet/internal/sdsargs"
)

// This file holds the byte-level parsers Redis uses for its configuration:
// sdssplitargs (sds.c), memtoull (util.c), and the strtoll /
// strtod behaviour its config setters rely on. They are ports, not
// approximations: CONFIG SET and the config file must accept exactly what
// redis-server 7.0 accepts, including its odd corners (memtoull("") is 0,
// "+5" is not an integer but is a valid save interval), because harnesses
// written against Redis feed us the same strings.

// errUnbalanced is SplitArgs's only error; its text is Redis's.
var errUnbalanced = errors.New("Unbalanced quotes in configuration line")

// SplitArgs splits a configuration line into arguments the way Redis's
// sdssplitargs does (see sdsargs.Split for the quoting rules). As for the
// C string Redis parses, a NUL byte ends the line.
//
// The error, for an unterminated quote or a closing quote glued to more
// text, is "Unbalanced quotes in configuration line".
func SplitArgs(line string) ([]string, error) {
	args, ok := sdsargs.SplitString(sdsargs.CString(line))
	if !ok {
		return nil, errUnbalanced
	}
	return args, nil
}

// Quote returns s as a double-quoted argument that SplitArgs turns back
// into s, escaping like Redis's sdscatrepr (used by CONFIG REWRITE).
func Quote(s string) string { return sdsargs.Repr(s) }

// cIsSpace is C's isspace in the "C" locale.
func cIsSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'
}

// asciiLower folds ASCII letters only, as sdstolower and strcasecmp do.
// strings.ToLower would also fold non-ASCII runes (the Kelvin sign becomes
// 'k'), accepting names Redis rejects.
func asciiLower(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; 'A' <= c && c <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if 'A' <= b[j] && b[j] <= 'Z' {
					b[j] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

// ParseSize parses a size the way Redis's memtoull does: decimal digits
// followed by an optional case-insensitive unit, b (1), k (1000), kb
// (1024), m (1000²), mb (1024²), g (1000³) or gb (1024³). No sign, no
// spaces, no fraction. It keeps memtoull's quirks: no digits means 0 ("",
// "kb"), a number too large saturates at the maximum before the unit is
// applied, and the multiplication wraps (Redis 7.0 does not check it).
func ParseSize(s string) (uint64, bool) {
	if len(s) > 0 && s[0] == '-' {
		return 0, false
	}
	i := 0
	for i < len(s) && '0' <= s[i] && s[i] <= '9' {
		i++
	}
	var mul uint64
	switch asciiLower(s[i:]) {
	case "", "b":
		mul = 1
	case "k":
		mul = 1000
	case "kb":
		mul = 1024
	case "m":
		mul = 1000 * 1000
	case "mb":
		mul = 1024 * 1024
	case "g":
		mul = 1000 * 1000 * 1000
	case "gb":
		mul = 1024 * 1024 * 1024
	default:
		return 0, false
	}
	if i >= 128 { // memtoull copies the digits into a 128-byte buffer
		return 0, false
	}
	var v uint64
	for _, c := range []byte(s[:i]) {
		d := uint64(c - '0')
		if v > (math.MaxUint64-d)/10 {
			v = math.MaxUint64 // strtoull: ERANGE, which memtoull ignores
			break
		}
		v = v*10 + d
	}
	return v * mul, true
}

// strtoll mirrors C's strtoll(s, &end, base): leading white space and a
// sign are skipped, as many digits as possible are read, the value
// saturates on overflow (reported through rangeErr, C's ERANGE). rest is
// what follows the digits; when there are no digits rest is all of s, so
// "" parses as 0 with nothing left over, exactly as in C.
func strtoll(s string, base int) (v int64, rest string, rangeErr bool) {
	p := 0
	for p < len(s) && cIsSpace(s[p]) {
		p++
	}
	neg := false
	if p < len(s) && (s[p] == '+' || s[p] == '-') {
		neg = s[p] == '-'
		p++
	}
	start := p
	var u uint64
	over := false
	for ; p < len(s); p++ {
		d := digitVal(s[p])
		if d >= base {
			break
		}
		if !over {
			if u > (math.MaxUint64-uint64(d))/uint64(base) {
				over = true
			} else {
				u = u*uint64(base) + uint64(d)
			}
		}
	}
	if p == start {
		return 0, s, false
	}
	rest = s[p:]
	switch {
	case neg && (over || u > 1<<63):
		return math.MinInt64, rest, true
	case !neg && (over || u > math.MaxInt64):
		return math.MaxInt64, rest, true
	case neg:
		return -int64(u), rest, false
	}
	return int64(u), rest, false
}

func digitVal(c byte) int {
	switch {
	case '0' <= c && c <= '9':
		return int(c - '0')
	case 'a' <= c && c <= 'z':
		return int(c-'a') + 10
	case 'A' <= c && c <= 'Z':
		return int(c-'A') + 10
	}
	return 99
}

// string2d is Redis's strict float parser (util.c): the whole string must
// be a number strtod accepts, with no leading space, not NaN, and not an
// overflow to infinity or an underflow to zero.
func string2d(s string) (float64, bool) {
	if s == "" || cIsSpace(s[0]) || strings.ContainsRune(s, '_') {
		return 0, false // strtod has no digit separators; ParseFloat does
	}
	g := s
	body := strings.TrimLeft(s, "+-")
	hex := len(body) > 1 && body[0] == '0' && (body[1] == 'x' || body[1] == 'X')
	if hex && !strings.ContainsAny(body, "pP") {
		g += "p0" // strtod takes 0x10; ParseFloat wants a binary exponent
	}
	f, err := strconv.ParseFloat(g, 64)
	if err != nil || math.IsNaN(f) {
		return 0, false // syntax, overflow to ±Inf (ERANGE), or NaN
	}
	if f == 0 {
		// strtod reports underflow to zero as ERANGE, which string2d
		// rejects; ParseFloat quietly returns 0.
		digits, exp := "123456789", "eE"
		m := body
		if hex {
			digits, exp, m = "123456789abcdefABCDEF", "pP", m[2:]
		}
		if i := strings.IndexAny(m, exp); i >= 0 {
			m = m[:i]
		}
		if strings.ContainsAny(m, digits) {
			return 0, false
		}
	}
	return f, true
}

// formatPercentile prints a double as Redis's "%f" followed by
// trimDoubleString: six decimals, then trailing zeros and a bare '.' cut.
func formatPercentile(f float64) string {
	s := strconv.FormatFloat(f, 'f', 6, 64)
	if strings.IndexByte(s, '.') >= 0 {
		s = strings.TrimRight(s, "0")
		s = strings.TrimSuffix(s, ".")
	}
	return s
}
