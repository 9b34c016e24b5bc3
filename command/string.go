package command

import (
	"math"

	"mullet/queue"
)

// The string commands queue libraries use for counters, locks and
// flags, with Redis 7.0's option rules and errors (t_string.c).
func init() {
	register(
		&command{name: "get", fn: cmdGet, arity: 2, flags: flagReadonly | flagFast, firstKey: 1, lastKey: 1, step: 1,
			group: "string", since: "1.0.0", summary: "Get the value of a key", complexity: "O(1)"},
		&command{name: "set", fn: cmdSet, arity: -3, flags: flagWrite | flagDenyOOM, firstKey: 1, lastKey: 1, step: 1,
			group: "string", since: "1.0.0", summary: "Set the string value of a key", complexity: "O(1)"},
		&command{name: "setnx", fn: cmdSetNX, arity: 3, flags: flagWrite | flagDenyOOM | flagFast, firstKey: 1, lastKey: 1, step: 1,
			group: "string", since: "1.0.0", summary: "Set the value of a key, only if the key does not exist", complexity: "O(1)"},
		&command{name: "setex", fn: cmdSetEX, arity: 4, flags: flagWrite | flagDenyOOM, firstKey: 1, lastKey: 1, step: 1,
			group: "string", since: "2.0.0", summary: "Set the value and expiration of a key", complexity: "O(1)"},
		&command{name: "psetex", fn: cmdPSetEX, arity: 4, flags: flagWrite | flagDenyOOM, firstKey: 1, lastKey: 1, step: 1,
			group: "string", since: "2.6.0", summary: "Set the value and expiration in milliseconds of a key", complexity: "O(1)"},
		&command{name: "getset", fn: cmdGetSet, arity: 3, flags: flagWrite | flagDenyOOM | flagFast, firstKey: 1, lastKey: 1, step: 1,
			group: "string", since: "1.0.0", summary: "Set the string value of a key and return its old value", complexity: "O(1)"},
		&command{name: "getdel", fn: cmdGetDel, arity: 2, flags: flagWrite | flagFast, firstKey: 1, lastKey: 1, step: 1,
			group: "string", since: "6.2.0", summary: "Get the value of a key and delete the key", complexity: "O(1)"},
		&command{name: "getex", fn: cmdGetEX, arity: -2, flags: flagWrite | flagFast, firstKey: 1, lastKey: 1, step: 1,
			group: "string", since: "6.2.0", summary: "Get the value of a key and optionally set its expiration", complexity: "O(1)"},
		&command{name: "incr", fn: cmdIncr, arity: 2, flags: flagWrite | flagDenyOOM | flagFast, firstKey: 1, lastKey: 1, step: 1,
			group: "string", since: "1.0.0", summary: "Increment the integer value of a key by one", complexity: "O(1)"},
		&command{name: "decr", fn: cmdDecr, arity: 2, flags: flagWrite | flagDenyOOM | flagFast, firstKey: 1, lastKey: 1, step: 1,
			group: "string", since: "1.0.0", summary: "Decrement the integer value of a key by one", complexity: "O(1)"},
		&command{name: "incrby", fn: cmdIncrBy, arity: 3, flags: flagWrite | flagDenyOOM | flagFast, firstKey: 1, lastKey: 1, step: 1,
			group: "string", since: "1.0.0", summary: "Increment the integer value of a key by the given amount", complexity: "O(1)"},
		&command{name: "decrby", fn: cmdDecrBy, arity: 3, flags: flagWrite | flagDenyOOM | flagFast, firstKey: 1, lastKey: 1, step: 1,
			group: "string", since: "1.0.0", summary: "Decrement the integer value of a key by the given number", complexity: "O(1)"},
		&command{name: "incrbyfloat", fn: cmdIncrByFloat, arity: 3, flags: flagWrite | flagDenyOOM | flagFast, firstKey: 1, lastKey: 1, step: 1,
			group: "string", since: "2.6.0", summary: "Increment the float value of a key by the given amount", complexity: "O(1)"},
		&command{name: "mget", fn: cmdMGet, arity: -2, flags: flagReadonly | flagFast, firstKey: 1, lastKey: -1, step: 1,
			group: "string", since: "1.0.0", summary: "Get the values of all the given keys", complexity: "O(N) where N is the number of keys to retrieve."},
		&command{name: "mset", fn: cmdMSet, arity: -3, flags: flagWrite | flagDenyOOM, firstKey: 1, lastKey: -1, step: 2,
			group: "string", since: "1.0.1", summary: "Set multiple keys to multiple values", complexity: "O(N) where N is the number of keys to set."},
		&command{name: "msetnx", fn: cmdMSetNX, arity: -3, flags: flagWrite | flagDenyOOM, firstKey: 1, lastKey: -1, step: 2,
			group: "string", since: "1.0.1", summary: "Set multiple keys to multiple values, only if none of the keys exist", complexity: "O(N) where N is the number of keys to set."},
		&command{name: "append", fn: cmdAppend, arity: 3, flags: flagWrite | flagDenyOOM | flagFast, firstKey: 1, lastKey: 1, step: 1,
			group: "string", since: "2.0.0", summary: "Append a value to a key", complexity: "O(1). The amortized time complexity is O(1) assuming the appended value is small and the already present value is of any size, since the dynamic string library used by Redis will double the free space available on every reallocation."},
		&command{name: "strlen", fn: cmdStrLen, arity: 2, flags: flagReadonly | flagFast, firstKey: 1, lastKey: 1, step: 1,
			group: "string", since: "2.2.0", summary: "Get the length of the value stored in a key", complexity: "O(1)"},
	)
}

// Error texts of this family not shared with others.
const (
	msgDecrOverflow  = "ERR decrement would overflow"
	msgFloatOverflow = "ERR increment would produce NaN or Infinity"
	msgStringTooLong = "ERR string exceeds maximum allowed size (proto-max-bulk-len)"
)

func cmdGet(c *Session, args [][]byte) {
	v, ok, err := c.tx.Get(c.db, args[1])
	switch {
	case err != nil:
		c.replyErr(err)
	case !ok:
		c.null()
	default:
		c.bulk(v)
	}
}

// Options of SET and GETEX, as Redis's OBJ_* flags.
const (
	optNX = 1 << iota
	optXX
	optGet
	optKeepTTL
	optPersist
	optEX
	optPX
	optEXAT
	optPXAT

	optExpire = optEX | optPX | optEXAT | optPXAT
)

// parseStringOpts is Redis 7.0's parseExtendedStringArgumentsOrReply for
// SET (isSet) and GETEX: each option may repeat, but options that
// contradict one another (NX with XX, two kinds of expiry, KEEPTTL or
// PERSIST with an expiry) are a syntax error. EX EX is allowed, the last
// one wins, because Redis only checks the other kinds. Options are
// compared as C strings, up to a NUL.
func parseStringOpts(c *Session, args [][]byte, isSet bool) (flags int, expire []byte, ok bool) {
	for j := 0; j < len(args); j++ {
		opt := cString(args[j])
		next := j+1 < len(args)
		switch {
		case isSet && optIs(opt, "nx") && flags&optXX == 0:
			flags |= optNX
		case isSet && optIs(opt, "xx") && flags&optNX == 0:
			flags |= optXX
		case isSet && optIs(opt, "get"):
			flags |= optGet
		case isSet && optIs(opt, "keepttl") && flags&(optPersist|optExpire) == 0:
			flags |= optKeepTTL
		case !isSet && optIs(opt, "persist") && flags&(optKeepTTL|optExpire) == 0:
			flags |= optPersist
		case optIs(opt, "ex") && flags&(optKeepTTL|optPersist|optExpire&^optEX) == 0 && next:
			flags |= optEX
			j++
			expire = args[j]
		case optIs(opt, "px") && flags&(optKeepTTL|optPersist|optExpire&^optPX) == 0 && next:
			flags |= optPX
			j++
			expire = args[j]
		case optIs(opt, "exat") && flags&(optKeepTTL|optPersist|optExpire&^optEXAT) == 0 && next:
			flags |= optEXAT
			j++
			expire = args[j]
		case optIs(opt, "pxat") && flags&(optKeepTTL|optPersist|optExpire&^optPXAT) == 0 && next:
			flags |= optPXAT
			j++
			expire = args[j]
		default:
			c.errorReply(msgSyntax)
			return 0, nil, false
		}
	}
	return flags, expire, true
}

// expireAtMs is Redis's getExpireMillisecondsOrReply: the expiry option's
// value as a Unix time in milliseconds, or an error reply naming the
// command. Zero, negative and overflowing times are refused.
func expireAtMs(c *Session, expire []byte, flags int, name string) (int64, bool) {
	ms, ok := parseInt(expire)
	if !ok {
		c.errorReply(msgNotInteger)
		return 0, false
	}
	seconds := flags&(optEX|optEXAT) != 0
	if ms <= 0 || (seconds && ms > math.MaxInt64/1000) {
		c.errorReply(errExpireTime(name))
		return 0, false
	}
	if seconds {
		ms *= 1000
	}
	if flags&(optEX|optPX) != 0 {
		// Redis adds without an overflow check and refuses the wrapped,
		// negative sum; Go's int64 addition wraps the same way.
		ms += c.tx.NowMs()
	}
	if ms <= 0 {
		c.errorReply(errExpireTime(name))
		return 0, false
	}
	return ms, true
}

// setGeneric is Redis's setGenericCommand. With intReply it answers :1
// and :0 instead of +OK and null, as SETNX does.
func setGeneric(c *Session, key, val []byte, flags int, expire []byte, name string, intReply bool) {
	opts := queue.SetOptions{NX: flags&optNX != 0, XX: flags&optXX != 0, Get: flags&optGet != 0, KeepTTL: flags&optKeepTTL != 0}
	if expire != nil {
		at, ok := expireAtMs(c, expire, flags, name)
		if !ok {
			return
		}
		opts.ExpireAt = at
	}
	stored, old, hadOld, err := c.tx.Set(c.db, key, val, opts)
	switch {
	case err != nil:
		c.replyErr(err)
	case opts.Get && hadOld:
		c.bulk(old)
	case opts.Get:
		c.null()
	case intReply:
		c.boolInt(stored)
	case stored:
		c.ok()
	default:
		c.null()
	}
}

func cmdSet(c *Session, args [][]byte) {
	flags, expire, ok := parseStringOpts(c, args[3:], true)
	if ok {
		setGeneric(c, args[1], args[2], flags, expire, "set", false)
	}
}

func cmdSetNX(c *Session, args [][]byte) { setGeneric(c, args[1], args[2], optNX, nil, "setnx", true) }

func cmdSetEX(c *Session, args [][]byte) {
	setGeneric(c, args[1], args[3], optEX, args[2], "setex", false)
}

func cmdPSetEX(c *Session, args [][]byte) {
	setGeneric(c, args[1], args[3], optPX, args[2], "psetex", false)
}

// cmdGetSet is SET key value GET, which is how Redis propagates it too.
func cmdGetSet(c *Session, args [][]byte) {
	setGeneric(c, args[1], args[2], optGet, nil, "getset", false)
}

func cmdGetDel(c *Session, args [][]byte) {
	v, ok, err := c.tx.Get(c.db, args[1])
	switch {
	case err != nil:
		c.replyErr(err)
	case !ok:
		c.null()
	default:
		c.bulk(v) // copied into the reply before the key goes
		c.tx.Del(c.db, args[1:2])
	}
}

// cmdGetEX is GETEX key [EX s | PX ms | EXAT t | PXAT t | PERSIST]. As in
// Redis, a missing key answers null before the expiry is even parsed, and
// an absolute time already past deletes the key (logged as DEL).
func cmdGetEX(c *Session, args [][]byte) {
	flags, expire, ok := parseStringOpts(c, args[2:], false)
	if !ok {
		return
	}
	v, found, err := c.tx.Get(c.db, args[1])
	switch {
	case err != nil:
		c.replyErr(err)
		return
	case !found:
		c.null()
		return
	}
	var at int64
	if expire != nil {
		if at, ok = expireAtMs(c, expire, flags, "getex"); !ok {
			return
		}
	}
	c.bulk(v)
	switch {
	case flags&(optEXAT|optPXAT) != 0 && at <= c.tx.NowMs():
		c.tx.Del(c.db, args[1:2])
	case expire != nil:
		c.tx.Expire(c.db, args[1], at, queue.ExpireAlways)
	case flags&optPersist != 0:
		c.tx.Persist(c.db, args[1])
	}
}

func (c *Session) incrBy(key []byte, delta int64) {
	n, err := c.tx.IncrBy(c.db, key, delta)
	if err != nil {
		c.replyErr(err)
		return
	}
	c.int(n)
}

func cmdIncr(c *Session, args [][]byte) { c.incrBy(args[1], 1) }

func cmdDecr(c *Session, args [][]byte) { c.incrBy(args[1], -1) }

func cmdIncrBy(c *Session, args [][]byte) {
	n, ok := parseInt(args[2])
	if !ok {
		c.errorReply(msgNotInteger)
		return
	}
	c.incrBy(args[1], n)
}

func cmdDecrBy(c *Session, args [][]byte) {
	n, ok := parseInt(args[2])
	if !ok {
		c.errorReply(msgNotInteger)
		return
	}
	if n == math.MinInt64 {
		c.errorReply(msgDecrOverflow) // -n does not exist
		return
	}
	c.incrBy(args[1], -n)
}

// cmdIncrByFloat adds in x87 long double precision and stores the result
// printed as Redis prints it (see cfloat.go). Like Redis it is logged as
// SET key result KEEPTTL, so a replay does not depend on float arithmetic.
// The reply is a bulk string in RESP3 too.
func cmdIncrByFloat(c *Session, args [][]byte) {
	kind, cur, _ := c.tx.Peek(c.db, args[1])
	if kind == queue.KindList {
		c.errorReply(msgWrongType)
		return
	}
	val := ldZero()
	if kind == queue.KindString {
		v, ok := parseLongDouble(cur)
		if !ok {
			c.errorReply(msgNotFloat)
			return
		}
		val = v
	}
	incr, ok := parseLongDouble(args[2])
	if !ok {
		c.errorReply(msgNotFloat)
		return
	}
	sum, ok := addLongDouble(val, incr)
	if !ok {
		c.errorReply(msgFloatOverflow)
		return
	}
	s := []byte(formatLongDouble(sum))
	if _, _, _, err := c.tx.Set(c.db, args[1], s, queue.SetOptions{KeepTTL: true}); err != nil {
		c.replyErr(err)
		return
	}
	c.bulk(s)
}

func cmdMGet(c *Session, args [][]byte) {
	c.array(len(args) - 1)
	for _, k := range args[1:] {
		// A key holding a list reads as missing here, not WRONGTYPE.
		if v, ok, err := c.tx.Get(c.db, k); err == nil && ok {
			c.bulk(v)
		} else {
			c.null()
		}
	}
}

func cmdMSet(c *Session, args [][]byte) {
	if len(args)%2 == 0 {
		c.errorReply(errArity("mset"))
		return
	}
	c.tx.MSet(c.db, args[1:], false)
	c.ok()
}

func cmdMSetNX(c *Session, args [][]byte) {
	if len(args)%2 == 0 {
		c.errorReply(errArity("msetnx"))
		return
	}
	c.boolInt(c.tx.MSet(c.db, args[1:], true))
}

func cmdAppend(c *Session, args [][]byte) {
	kind, cur, _ := c.tx.Peek(c.db, args[1])
	if kind == queue.KindList {
		c.errorReply(msgWrongType)
		return
	}
	if kind == queue.KindString && int64(len(cur))+int64(len(args[2])) > c.core.settings.maxBulk.Load() {
		c.errorReply(msgStringTooLong)
		return
	}
	n, err := c.tx.Append(c.db, args[1], args[2])
	if err != nil {
		c.replyErr(err)
		return
	}
	c.int(n)
}

func cmdStrLen(c *Session, args [][]byte) {
	v, _, err := c.tx.Get(c.db, args[1])
	if err != nil {
		c.replyErr(err)
		return
	}
	c.int(int64(len(v)))
}
