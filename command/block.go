package command

import (
	"errors"
	"math"
	"math/big"
	"strconv"
	"strings"
	"time"

	"mullet/queue"
)

// blockKind is the reply shape of a blocking command.
type blockKind uint8

const (
	blockPop  blockKind = iota // BLPOP, BRPOP: [key, item]
	blockMove                  // BLMOVE, BRPOPLPUSH: item
	blockMPop                  // BLMPOP: [key, [items]]
)

// BlockRequest is what a blocking command asks of its transport: wait
// until the session's waiter (registered in the keyspace by the handler)
// is served, or Timeout passes (0: forever), then call ReplyServed or
// ReplyTimeout. A transport that cannot wait (replay; an HTTP request
// past its own cap) cancels the wait with CancelBlock and answers
// ReplyTimeout.
type BlockRequest struct {
	Active  bool
	Timeout time.Duration // 0: forever
	kind    blockKind
}

// TakeBlock returns the blocking request the last command left, if any,
// and clears it. The session remembers its reply shape until the next
// one.
func (c *Session) TakeBlock() BlockRequest {
	req := c.block
	c.block = BlockRequest{}
	if req.Active {
		c.blockKind = req.kind
	}
	return req
}

// Waiter is the session's keyspace waiter: a blocked session's transport
// waits on its Ready channel or its Notify callback.
func (c *Session) Waiter() *queue.Waiter { return c.waiter }

// parseTimeout parses a blocking command's timeout in seconds the way
// Redis 7.0 does, quirks included, since clients see the difference:
//
//	tval = (long long) ceill(strtold(arg) * 1000)
//	if tval < 0: "timeout is negative"; if tval > 0: deadline = tval + now
//
// So a timeout below a millisecond rounds up and fires (0.0001) while one
// just below zero rounds to 0 and waits forever (-0.0001); an infinite or
// huge timeout converts to LLONG_MIN on x86 and is "negative"; and a
// deadline that overflows waits forever. A zero duration means forever.
func parseTimeout(b []byte) (time.Duration, string) {
	tval, msg := timeoutMs(b)
	if msg != "" {
		return 0, msg
	}
	if tval > math.MaxInt64/int64(time.Millisecond) {
		return 0, "" // the deadline overflows (or is centuries away): forever
	}
	return time.Duration(tval) * time.Millisecond, ""
}

// intTimeoutMs parses an integer timeout in milliseconds (CLIENT PAUSE,
// WAITAOF), or returns the error.
func intTimeoutMs(b []byte) (int64, string) {
	ms, ok := parseInt(b)
	if !ok {
		return 0, msgTimeoutInt
	}
	if ms < 0 {
		return 0, msgTimeoutNeg
	}
	return ms, ""
}

// timeoutMs is ceill(strtold(b) * 1000) as a long long, or the error.
func timeoutMs(b []byte) (int64, string) {
	// MAX_LONG_DOUBLE_CHARS is 5k: longer strings are refused unread.
	if len(b) == 0 || len(b) >= 5*1024 || isCSpace(b[0]) {
		return 0, msgTimeoutFloat
	}
	s := string(b)
	kind, ok := scanStrtold(s)
	switch {
	case !ok || kind == numNaN:
		return 0, msgTimeoutFloat
	case kind == numInf:
		return 0, msgTimeoutNeg // (long long) ±inf is LLONG_MIN on x86
	case kind == numDecimal && len(s) <= 12 && !strings.ContainsAny(s, "eE"):
		// The common case ("0", "5", "0.5"): a float64 is exact enough, as
		// at most a millisecond of rounding differs from a long double,
		// and without an exponent nothing under- or overflows.
		f, err := strconv.ParseFloat(s, 64)
		if err == nil {
			ms := math.Ceil(f * 1000)
			if ms < 0 {
				return 0, msgTimeoutNeg
			}
			return int64(ms), ""
		}
	}
	if kind == numHex && !strings.ContainsAny(s, "pP") {
		s += "p0" // Go wants an exponent after a hex mantissa; strtold does not
	}
	// An x87 long double has a 64-bit mantissa: a 64-bit big.Float rounds
	// the same way; its exponent range is checked by hand.
	f, _, err := big.ParseFloat(s, 0, 64, big.ToNearestEven)
	if err != nil {
		return 0, msgTimeoutFloat // beyond even big.Float's exponent
	}
	abs := new(big.Float).Abs(f)
	if abs.Cmp(ldblMax) > 0 || abs.Sign() != 0 && abs.Cmp(ldblHalfMin) < 0 {
		return 0, msgTimeoutFloat // strtold's ERANGE: HUGE_VAL or zero
	}
	ms := f.Mul(f, big.NewFloat(1000).SetPrec(64))
	if ms.Cmp(twoTo63) >= 0 || ms.Cmp(minusTwoTo63) < 0 {
		return 0, msgTimeoutNeg // the conversion gives LLONG_MIN
	}
	tval, acc := ms.Int64() // truncates toward zero
	if acc == big.Below {
		tval++ // ceil of a positive non-integer
	}
	if tval < 0 {
		return 0, msgTimeoutNeg
	}
	return tval, ""
}

// Limits of the x87 80-bit long double that Redis parses floats into.
var (
	ldblMax      = bigFloat("1.18973149535723176502e+4932")
	ldblHalfMin  = bigFloat("1.82259976594123730126e-4951") // half the smallest denormal
	twoTo63      = bigFloat("9223372036854775808")
	minusTwoTo63 = bigFloat("-9223372036854775808")
)

func bigFloat(s string) *big.Float {
	f, _, err := big.ParseFloat(s, 10, 64, big.ToNearestEven)
	if err != nil {
		panic(err)
	}
	return f
}

// Kinds of number scanStrtold recognizes.
const (
	numDecimal = iota
	numHex
	numInf
	numNaN
)

// scanStrtold checks that s, whole, is a number strtold reads: an optional
// sign, then "inf", "infinity", "nan", "nan(chars)", a hex mantissa with an
// optional p exponent, or a decimal one with an optional e exponent (and
// no Go digit underscores).
func scanStrtold(s string) (kind int, ok bool) {
	i := 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	rest := strings.ToLower(s[i:])
	switch {
	case rest == "inf" || rest == "infinity":
		return numInf, true
	case rest == "nan":
		return numNaN, true
	case strings.HasPrefix(rest, "nan(") && strings.HasSuffix(rest, ")"):
		for _, c := range rest[4 : len(rest)-1] {
			if !(c == '_' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z') {
				return 0, false
			}
		}
		return numNaN, true
	}
	isDigit := func(c byte) bool { return '0' <= c && c <= '9' }
	kind, digit, exp := numDecimal, isDigit, byte('e')
	if strings.HasPrefix(rest, "0x") && len(rest) > 2 {
		kind, digit, exp = numHex, isHexDigit, 'p'
		rest = rest[2:]
	}
	j, digits, dot := 0, 0, false
	for ; j < len(rest); j++ {
		c := rest[j]
		if digit(c) {
			digits++
		} else if c == '.' && !dot {
			dot = true
		} else {
			break
		}
	}
	if digits == 0 {
		return 0, false
	}
	if j == len(rest) {
		return kind, true
	}
	if rest[j] != exp {
		return 0, false
	}
	j++
	if j < len(rest) && (rest[j] == '+' || rest[j] == '-') {
		j++
	}
	if j == len(rest) {
		return 0, false
	}
	for ; j < len(rest); j++ {
		if !isDigit(rest[j]) {
			return 0, false
		}
	}
	return kind, true
}

// blockOn registers the client as waiting on keys. Inside EXEC a blocking
// command acts as its non-blocking form: it replies at once as if the
// timeout had fired.
func (c *Session) blockOn(keys [][]byte, op queue.BlockOp, kind blockKind, timeout time.Duration) {
	if c.inExec {
		if kind == blockMove {
			c.null() // BLMOVE's non-blocking form answers a null bulk
		} else {
			c.nullArray()
		}
		return
	}
	c.waiter.Op = op
	c.tx.Block(c.waiter, c.db, keys)
	c.block = BlockRequest{Active: true, kind: kind, Timeout: timeout}
}

// ReplyTimeout is what a blocking command answers when its time runs out:
// a null array, even for BLMOVE, as Redis 7.0 does.
func (c *Session) ReplyTimeout() {
	c.nullArray()
}

// CancelBlock withdraws the waiter; it reports whether it had been served
// meanwhile.
func (c *Session) CancelBlock() bool {
	tx := c.core.ks.Begin()
	served := tx.Cancel(c.waiter)
	tx.End()
	return served
}

// ReplyServed writes the reply for a served (or unblocked) wait.
func (c *Session) ReplyServed() {
	kind := c.blockKind
	w := c.waiter
	if w.Ticket != 0 {
		c.ticket = w.Ticket
	}
	switch {
	case w.Err != nil:
		c.replyErr(w.Err)
	case w.TimedOut:
		c.ReplyTimeout()
	default:
		switch kind {
		case blockPop:
			c.array(2)
			c.bulk(w.Key)
			c.bulk(w.Items[0])
		case blockMove:
			c.bulk(w.Items[0])
		case blockMPop:
			c.array(2)
			c.bulk(w.Key)
			c.bulks(w.Items)
		}
	}
}

// ReturnItems puts back items that were handed to a client that left
// before it could receive them, at the end they came from, so a disconnect
// loses nothing. (Redis, being single-threaded, never hands items to a
// client that has gone; we can, by a hair, so we undo it.) A move is left
// done: its item is safe in the destination list.
func (c *Session) ReturnItems() {
	w := c.waiter
	if w.Err != nil || w.TimedOut || w.Op.Dest != nil || len(w.Items) == 0 {
		return
	}
	items := make([][]byte, len(w.Items))
	for i, it := range w.Items {
		items[len(items)-1-i] = it // push back in reverse to restore order
	}
	tx := c.core.ks.Begin()
	_, err := tx.Push(c.db, w.Key, items, w.Op.Front, false)
	tx.End()
	if err != nil && !errors.Is(err, queue.ErrWrongType) {
		c.core.log.Error("could not return items of a departed client", "client", c.id, "key", string(w.Key), "err", err)
	}
}
