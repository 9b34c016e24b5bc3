package coll

import (
	"bytes"
	"strconv"
	"strings"
)

// A ScoreRange is a ZRANGEBYSCORE-style interval: Min and Max, each
// exclusive if its Ex flag is set ("(1.5"); ±Inf are the open ends.
type ScoreRange struct {
	Min, Max     float64
	MinEx, MaxEx bool
}

func (r ScoreRange) gteMin(s float64) bool {
	if r.MinEx {
		return s > r.Min
	}
	return s >= r.Min
}

func (r ScoreRange) lteMax(s float64) bool {
	if r.MaxEx {
		return s < r.Max
	}
	return s <= r.Max
}

// Empty reports whether no score can be in the range (Redis's zslIsInRange
// test).
func (r ScoreRange) Empty() bool {
	return r.Min > r.Max || r.Min == r.Max && (r.MinEx || r.MaxEx)
}

// ParseScoreBound parses one end of a score range as Redis 7.0's
// zslParseRange does: "(" makes it exclusive, and the rest must be
// consumed whole by C's strtod, which takes leading white space, hex
// ("0x10"), "inf", "infinity", and the empty string (as 0); NaN is
// rejected. It reports false for anything else, which the command layer
// answers with "ERR min or max is not a float".
func ParseScoreBound(b []byte) (v float64, ex bool, ok bool) {
	if len(b) > 0 && b[0] == '(' {
		b, ex = b[1:], true
	}
	v, ok = strtod(b)
	return v, ex, ok && v == v
}

// strtod parses all of b as C's strtod would, reporting false if strtod
// would stop before the end.
func strtod(b []byte) (float64, bool) {
	if len(b) == 0 {
		return 0, true // strtod converts nothing and stops at the NUL
	}
	i := 0
	for i < len(b) && (b[i] == ' ' || b[i] >= '\t' && b[i] <= '\r') {
		i++
	}
	s := string(b[i:])
	if s == "" || strings.IndexByte(s, '_') >= 0 {
		return 0, false // Go takes underscores in some forms; C never
	}
	// C takes a hex mantissa without an exponent; Go wants one.
	if h := strings.TrimLeft(s, "+-"); len(h) > 2 && h[0] == '0' && (h[1] == 'x' || h[1] == 'X') && !strings.ContainsAny(h, "pP") {
		s += "p0"
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil && !isRangeErr(err) {
		return 0, false
	}
	return v, true
}

func isRangeErr(err error) bool {
	ne, ok := err.(*strconv.NumError)
	return ok && ne.Err == strconv.ErrRange
}

// LexKind tells what a LexBound is.
type LexKind uint8

// The kinds of lex bound: "-", "+", "[member", "(member".
const (
	LexNegInf LexKind = iota
	LexPosInf
	LexIncl
	LexExcl
)

// A LexBound is one end of a ZRANGEBYLEX range.
type LexBound struct {
	Kind LexKind
	V    []byte
}

// A LexRange is a ZRANGEBYLEX interval.
type LexRange struct{ Min, Max LexBound }

// ParseLexBound parses "-", "+", "[member" or "(member" as Redis's
// zslParseLexRangeItem; false means "ERR min or max not valid string range
// item". V aliases b.
func ParseLexBound(b []byte) (LexBound, bool) {
	if len(b) == 0 {
		return LexBound{}, false
	}
	switch b[0] {
	case '-':
		return LexBound{Kind: LexNegInf}, len(b) == 1
	case '+':
		return LexBound{Kind: LexPosInf}, len(b) == 1
	case '[':
		return LexBound{Kind: LexIncl, V: b[1:]}, true
	case '(':
		return LexBound{Kind: LexExcl, V: b[1:]}, true
	}
	return LexBound{}, false
}

func (r LexRange) gteMin(m []byte) bool {
	switch r.Min.Kind {
	case LexNegInf:
		return true
	case LexPosInf:
		return false
	case LexIncl:
		return bytes.Compare(m, r.Min.V) >= 0
	}
	return bytes.Compare(m, r.Min.V) > 0
}

func (r LexRange) lteMax(m []byte) bool {
	switch r.Max.Kind {
	case LexPosInf:
		return true
	case LexNegInf:
		return false
	case LexIncl:
		return bytes.Compare(m, r.Max.V) <= 0
	}
	return bytes.Compare(m, r.Max.V) < 0
}

// Empty reports whether the range can hold nothing, as Redis's
// zslIsInLexRange tests it: "-" sorts before and "+" after everything.
func (r LexRange) Empty() bool {
	var c int
	switch {
	case r.Min.Kind == r.Max.Kind && (r.Min.Kind == LexNegInf || r.Min.Kind == LexPosInf):
		c = 0
	case r.Min.Kind == LexNegInf || r.Max.Kind == LexPosInf:
		c = -1
	case r.Min.Kind == LexPosInf || r.Max.Kind == LexNegInf:
		c = 1
	default:
		c = bytes.Compare(r.Min.V, r.Max.V)
	}
	// "-" and "+" count as exclusive, as zslParseLexRangeItem sets them.
	return c > 0 || c == 0 && (r.Min.Kind != LexIncl || r.Max.Kind != LexIncl)
}

// scoreSpan returns the ranks [from, to) of the members in r.
func (z *ZSet) scoreSpan(r ScoreRange) (int, int) {
	if r.Empty() {
		return 0, 0
	}
	from := z.firstWhere(func(s float64, _ []byte) bool { return r.gteMin(s) })
	to := z.firstWhere(func(s float64, _ []byte) bool { return !r.lteMax(s) })
	return from, max(from, to)
}

// lexSpan returns the ranks [from, to) of the members in r. Like Redis's,
// lex ranges assume every member has the same score; otherwise the result
// is some contiguous run of ranks, not necessarily Redis's.
func (z *ZSet) lexSpan(r LexRange) (int, int) {
	if r.Empty() {
		return 0, 0
	}
	from := z.firstWhere(func(_ float64, m []byte) bool { return r.gteMin(m) })
	to := z.firstWhere(func(_ float64, m []byte) bool { return !r.lteMax(m) })
	return from, max(from, to)
}

// CountScore is ZCOUNT.
func (z *ZSet) CountScore(r ScoreRange) int {
	from, to := z.scoreSpan(r)
	return to - from
}

// CountLex is ZLEXCOUNT.
func (z *ZSet) CountLex(r LexRange) int {
	from, to := z.lexSpan(r)
	return to - from
}

// rangeSpan calls fn with ranks [from, to), skipping offset and returning
// at most limit (limit < 0: no limit), in reverse from to-1 if reverse.
func (z *ZSet) rangeSpan(from, to int, reverse bool, offset, limit int, fn func(member []byte, score float64) bool) {
	if offset < 0 || offset >= to-from {
		return
	}
	n := to - from - offset
	if limit >= 0 {
		n = min(n, limit)
	}
	if n <= 0 {
		return
	}
	start := from + offset
	if reverse {
		start = to - 1 - offset
	}
	z.Iter(start, reverse, func(m []byte, s float64) bool {
		n--
		return fn(m, s) && n > 0
	})
}

// RangeByScore is ZRANGE BYSCORE [REV] [LIMIT offset count]: it calls fn
// with the members in r, from the lowest (or, if reverse, the highest),
// skipping offset and giving at most limit (limit < 0: all).
func (z *ZSet) RangeByScore(r ScoreRange, reverse bool, offset, limit int, fn func(member []byte, score float64) bool) {
	from, to := z.scoreSpan(r)
	z.rangeSpan(from, to, reverse, offset, limit, fn)
}

// RangeByLex is ZRANGE BYLEX [REV] [LIMIT offset count] (see RangeByScore).
func (z *ZSet) RangeByLex(r LexRange, reverse bool, offset, limit int, fn func(member []byte, score float64) bool) {
	from, to := z.lexSpan(r)
	z.rangeSpan(from, to, reverse, offset, limit, fn)
}

// RemoveRangeByRank is ZREMRANGEBYRANK for ranks [start, stop], which the
// caller has clamped to 0 <= start <= stop < Len(). It returns the number
// removed.
func (z *ZSet) RemoveRangeByRank(start, stop int) int { return z.deleteRanks(start, stop+1) }

// RemoveRangeByScore is ZREMRANGEBYSCORE.
func (z *ZSet) RemoveRangeByScore(r ScoreRange) int { return z.deleteRanks(z.scoreSpan(r)) }

// RemoveRangeByLex is ZREMRANGEBYLEX.
func (z *ZSet) RemoveRangeByLex(r LexRange) int { return z.deleteRanks(z.lexSpan(r)) }

// Pop is ZPOPMIN (ZPOPMAX if max): it removes up to count members from
// the low (high) end, calling fn with each before it goes; the member is
// only valid during the call. It returns the number removed.
func (z *ZSet) Pop(count int, max bool, fn func(member []byte, score float64)) int {
	n := min(count, z.Len())
	if n <= 0 {
		return 0
	}
	if max {
		z.Iter(z.Len()-1, true, func(m []byte, s float64) bool { fn(m, s); n--; return n > 0 })
		n = min(count, z.Len())
		return z.deleteRanks(z.Len()-n, z.Len())
	}
	z.Iter(0, false, func(m []byte, s float64) bool { fn(m, s); n--; return n > 0 })
	n = min(count, z.Len())
	return z.deleteRanks(0, n)
}

// Aggregate is how ZUNION and ZINTER combine a score into the total:
// "SUM", "MIN" or "MAX".
type Aggregate uint8

// The aggregates, SUM being the default.
const (
	AggSum Aggregate = iota
	AggMin
	AggMax
)

// Combine folds v into acc as Redis's zunionInterAggregate: a sum of +inf
// and -inf is 0, not NaN.
func (a Aggregate) Combine(acc, v float64) float64 {
	switch a {
	case AggMin:
		return min2(acc, v)
	case AggMax:
		return max2(acc, v)
	}
	if s := acc + v; s == s {
		return s
	}
	return 0
}

func min2(a, b float64) float64 {
	if b < a {
		return b
	}
	return a
}

func max2(a, b float64) float64 {
	if b > a {
		return b
	}
	return a
}

// Weight scales a score by a WEIGHTS factor as Redis does: 0 * inf is 0.
func Weight(score, weight float64) float64 {
	if s := score * weight; s == s {
		return s
	}
	return 0
}
