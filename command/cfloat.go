package command

import (
	"math"
	"math/big"
	"strconv"
	"strings"
)

// Redis parses floats with C's strtod and strtold and prints INCRBYFLOAT's
// result with "%.17Lf" on an x87 80-bit long double. Clients see the
// difference between that and Go's float64 ("10.6" versus
// "10.599999999999999"), so this file reproduces the C grammar and the
// 64-bit-mantissa arithmetic exactly, with math/big doing the rounding.

// cNumber is what strtod's grammar recognised at the start of a string.
type cNumber struct {
	end      int // bytes consumed, leading white space included; 0: no conversion
	neg      bool
	inf, nan bool
	hex      bool
	digits   string // mantissa digits, point removed, leading zeros kept
	frac     int    // how many of digits followed the point
	exp      int64  // the explicit exponent, saturated at ±expSat
	nonzero  bool   // some mantissa digit is not 0
}

// base is the radix of the mantissa digits.
func (n cNumber) base() int {
	if n.hex {
		return 16
	}
	return 10
}

// expSat bounds parsed exponents: past it every value is infinite or zero
// whatever its mantissa (mantissas are at most a few KiB of digits).
const expSat = 1 << 40

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func isHexDigit(c byte) bool {
	return isDigit(c) || ('a' <= c && c <= 'f') || ('A' <= c && c <= 'F')
}

// hasPrefixFold reports whether s starts with lower-case word, ignoring
// ASCII case.
func hasPrefixFold(s []byte, word string) bool {
	return len(s) >= len(word) && optIs(s[:len(word)], word)
}

// scanCNumber applies glibc strtod's grammar to s (which must not contain
// NUL; callers cut C strings first): white space, a sign, then "inf",
// "infinity", "nan" or "nan(chars)", a hexadecimal "0x" mantissa with an
// optional binary "p" exponent, or a decimal mantissa with an optional "e"
// exponent.
func scanCNumber(s []byte) cNumber {
	var n cNumber
	i := 0
	for i < len(s) && isCSpace(s[i]) {
		i++
	}
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		n.neg = s[i] == '-'
		i++
	}
	rest := s[i:]
	switch {
	case hasPrefixFold(rest, "inf"):
		n.inf = true
		i += 3
		if hasPrefixFold(s[i:], "inity") {
			i += 5
		}
		n.end = i
		return n
	case hasPrefixFold(rest, "nan"):
		n.nan = true
		i += 3
		if i < len(s) && s[i] == '(' {
			j := i + 1
			for j < len(s) && (isDigit(s[j]) || ('a' <= s[j] && s[j] <= 'z') || ('A' <= s[j] && s[j] <= 'Z') || s[j] == '_') {
				j++
			}
			if j < len(s) && s[j] == ')' {
				i = j + 1
			}
		}
		n.end = i
		return n
	}
	digit := isDigit
	if len(rest) >= 3 && rest[0] == '0' && (rest[1] == 'x' || rest[1] == 'X') &&
		(isHexDigit(rest[2]) || (rest[2] == '.' && len(rest) >= 4 && isHexDigit(rest[3]))) {
		n.hex = true
		digit = isHexDigit
		i += 2
	}
	var b strings.Builder
	for i < len(s) && digit(s[i]) {
		b.WriteByte(s[i])
		i++
	}
	if i < len(s) && s[i] == '.' {
		i++
		for i < len(s) && digit(s[i]) {
			b.WriteByte(s[i])
			n.frac++
			i++
		}
	}
	if b.Len() == 0 {
		return cNumber{} // "", ".", "+": no conversion
	}
	n.digits = b.String()
	n.nonzero = strings.Trim(n.digits, "0") != ""
	n.end = i
	// An exponent counts only if at least one digit follows its letter.
	if i < len(s) && ((!n.hex && (s[i] == 'e' || s[i] == 'E')) || (n.hex && (s[i] == 'p' || s[i] == 'P'))) {
		j := i + 1
		neg := false
		if j < len(s) && (s[j] == '+' || s[j] == '-') {
			neg = s[j] == '-'
			j++
		}
		if j < len(s) && isDigit(s[j]) {
			var e int64
			for j < len(s) && isDigit(s[j]) {
				if e < expSat {
					e = e*10 + int64(s[j]-'0')
				}
				j++
			}
			e = min(e, expSat)
			if neg {
				e = -e
			}
			n.exp = e
			n.end = j
		}
	}
	return n
}

// parseCDouble is strtod on a C string: it converts the longest prefix of
// s up to its first NUL and reports how far it got (end, 0: nothing) and
// whether strtod would set ERANGE (overflow, or an underflow to a
// subnormal or zero).
func parseCDouble(s []byte) (f float64, end int, erange bool) {
	s = cString(s)
	n := scanCNumber(s)
	switch {
	case n.end == 0:
		return 0, 0, false
	case n.nan:
		return math.NaN(), n.end, false
	case n.inf:
		if n.neg {
			return math.Inf(-1), n.end, false
		}
		return math.Inf(1), n.end, false
	}
	var lit string
	if n.hex {
		m := n.digits[:len(n.digits)-n.frac] + "." + n.digits[len(n.digits)-n.frac:]
		lit = "0x" + m + "p" + strconv.FormatInt(n.exp, 10)
	} else {
		m := n.digits[:len(n.digits)-n.frac] + "." + n.digits[len(n.digits)-n.frac:]
		lit = m + "e" + strconv.FormatInt(n.exp, 10)
	}
	f, err := strconv.ParseFloat(lit, 64)
	if err != nil && !math.IsInf(f, 0) {
		return 0, 0, false // cannot happen: the grammar was checked
	}
	if n.neg {
		f = -f
	}
	switch {
	case math.IsInf(f, 0):
		erange = true
	case n.nonzero && f == 0:
		erange = true // underflow to zero
	case f != 0 && math.Abs(f) <= 0x1p-1022:
		erange = tinyInexact(n, f)
	}
	return f, n.end, erange
}

// ratMinNormal is the least normal float64, 2^-1022.
var ratMinNormal = new(big.Rat).SetFloat64(0x1p-1022)

// tinyInexact reports glibc's underflow condition for a result f near the
// bottom of the normal range: the exact value is below 2^-1022 and f is
// not exactly it. (0x1p-1074 converts without ERANGE; 1e-310 does not,
// nor does 2.2250738585072012e-308, which rounds up to 2^-1022.)
func tinyInexact(n cNumber, f float64) bool {
	mant, _ := new(big.Int).SetString(n.digits, n.base())
	var scale *big.Int
	exact := new(big.Rat)
	if n.hex {
		e := n.exp - 4*int64(n.frac)
		scale = new(big.Int).Lsh(big.NewInt(1), uint(abs64(e)))
		if e >= 0 {
			return false // an integer is never tiny
		}
	} else {
		e := n.exp - int64(n.frac)
		if e >= 0 {
			return false
		}
		scale = new(big.Int).Exp(big.NewInt(10), big.NewInt(-e), nil)
	}
	exact.SetFrac(mant, scale)
	got := new(big.Rat).SetFloat64(math.Abs(f))
	return exact.Cmp(ratMinNormal) < 0 && exact.Cmp(got) != 0
}

// Limits of the x87 extended format (64-bit mantissa, 15-bit exponent), in
// big.Float's terms (x = mant × 2^exp with 0.5 ≤ mant < 1).
const (
	ldMaxExp   = 16384  // the largest finite values are just below 2^16384
	ldMinExp   = -16445 // values below 2^-16446 underflow to zero; see ldHalfSubnormal
	ldPrec     = 64
	maxLDChars = 5 * 1024 // Redis's MAX_LONG_DOUBLE_CHARS
)

// parseLongDouble is Redis's string2ld: the whole string must be a number
// strtold accepts, with no leading white space, not NaN, and not out of
// range (infinite or flushed to zero). Infinity itself is accepted.
func parseLongDouble(s []byte) (*big.Float, bool) {
	if len(s) == 0 || len(s) >= maxLDChars || isCSpace(s[0]) {
		return nil, false
	}
	n := scanCNumber(s)
	if n.end != len(s) || n.nan {
		return nil, false // also refuses embedded NULs: strtold stops there
	}
	z := new(big.Float).SetPrec(ldPrec)
	if n.inf {
		return z.SetInf(n.neg), true
	}
	if !n.nonzero {
		if n.neg {
			z.Neg(z)
		}
		return z, true
	}
	mant, _ := new(big.Int).SetString(n.digits, n.base())
	// The range checks before the arithmetic only keep absurd exponents
	// from building huge numbers; the exact decisions follow it.
	underflow := false
	if n.hex {
		e := n.exp - 4*int64(n.frac)
		if top := int64(mant.BitLen()) + e; top > ldMaxExp+2 || top < ldMinExp-2 {
			return nil, false
		}
		x := new(big.Float).SetInt(mant) // exact: SetInt keeps every bit
		x.SetMantExp(x, int(e))
		underflow = x.Cmp(ldHalfSubnormal) <= 0
		z.Set(x)
	} else {
		e := n.exp - int64(n.frac)
		if mag := int64(len(strings.TrimLeft(n.digits, "0"))) + e; mag > 4935 || mag < -4953 {
			return nil, false
		}
		x := new(big.Float).SetInt(mant)
		p := new(big.Int).Exp(big.NewInt(10), big.NewInt(abs64(e)), nil)
		y := new(big.Float).SetInt(p)
		if e >= 0 {
			z.Mul(x, y) // both exact; Mul rounds once
		} else {
			z.Quo(x, y) // correctly rounded, as strtold is
			// Near zero, decide on the exact quotient, not the rounded
			// one: mant / 10^-e <= 2^-16446.
			if z.MantExp(nil) <= ldMinExp+1 {
				underflow = new(big.Int).Lsh(mant, 16446).Cmp(p) <= 0
			}
		}
	}
	if n.neg {
		z.Neg(z)
	}
	if underflow || ldOverflows(z) {
		return nil, false
	}
	return z, true
}

func abs64(n int64) int64 {
	if n < 0 {
		return -n
	}
	return n
}

// ldHalfSubnormal is half the least x87 subnormal, 2^-16446: strtold
// rounds it and anything smaller to zero (ties go to even) and sets
// ERANGE, which Redis refuses.
var ldHalfSubnormal = new(big.Float).SetMantExp(big.NewFloat(1), -16446)

// ldOverflows reports whether z, rounded to 64 bits, is past the largest
// finite x87 value.
func ldOverflows(z *big.Float) bool {
	return !z.IsInf() && z.Sign() != 0 && z.MantExp(nil) > ldMaxExp
}

// formatLongDouble is Redis's ld2string in LD_STR_HUMAN mode: "%.17Lf",
// trailing zeros (and a bare point) removed, "-0" printed as "0".
func formatLongDouble(z *big.Float) string {
	s := z.Text('f', 17)
	if strings.IndexByte(s, '.') >= 0 {
		s = strings.TrimRight(s, "0")
		s = strings.TrimSuffix(s, ".")
	}
	if s == "-0" {
		s = "0"
	}
	return s
}

// ldZero is a long double 0, the value of a missing key.
func ldZero() *big.Float { return new(big.Float).SetPrec(ldPrec) }

// addLongDouble adds as x87 hardware does with 64-bit precision, and
// reports false when the sum is infinite or not a number.
func addLongDouble(a, b *big.Float) (*big.Float, bool) {
	if a.IsInf() || b.IsInf() {
		return nil, false // inf + x is inf, inf - inf is NaN: Redis refuses both
	}
	z := new(big.Float).SetPrec(ldPrec).Add(a, b)
	if z.Sign() != 0 && z.MantExp(nil) > ldMaxExp {
		return nil, false
	}
	return z, true
}
