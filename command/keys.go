package command

import (
	"bytes"
	"math"
	"strconv"

	"mullet/queue"
)

// The keyspace commands (Redis's "generic" group), with Redis 7.0's
// argument rules and error texts (db.c, expire.c).
func init() {
	register(
		&command{name: "del", fn: cmdDel, arity: -2, flags: flagWrite, firstKey: 1, lastKey: -1, step: 1,
			group: "generic", since: "1.0.0", summary: "Delete a key", complexity: "O(N) where N is the number of keys that will be removed."},
		&command{name: "unlink", fn: cmdDel, arity: -2, flags: flagWrite | flagFast, firstKey: 1, lastKey: -1, step: 1,
			group: "generic", since: "4.0.0", summary: "Delete a key asynchronously in another thread. Otherwise it is just as DEL, but non blocking.", complexity: "O(1) for each key removed regardless of its size."},
		&command{name: "exists", fn: cmdExists, arity: -2, flags: flagReadonly | flagFast, firstKey: 1, lastKey: -1, step: 1,
			group: "generic", since: "1.0.0", summary: "Determine if a key exists", complexity: "O(N) where N is the number of keys to check."},
		&command{name: "touch", fn: cmdExists, arity: -2, flags: flagReadonly | flagFast, firstKey: 1, lastKey: -1, step: 1,
			group: "generic", since: "3.2.1", summary: "Alters the last access time of a key(s). Returns the number of existing keys specified.", complexity: "O(N) where N is the number of keys that will be touched."},
		&command{name: "type", fn: cmdType, arity: 2, flags: flagReadonly | flagFast, firstKey: 1, lastKey: 1, step: 1,
			group: "generic", since: "1.0.0", summary: "Determine the type stored at key", complexity: "O(1)"},
		&command{name: "keys", fn: cmdKeys, arity: 2, flags: flagReadonly,
			group: "generic", since: "1.0.0", summary: "Find all keys matching the given pattern", complexity: "O(N) with N being the number of keys in the database"},
		&command{name: "scan", fn: cmdScan, arity: -2, flags: flagReadonly,
			group: "generic", since: "2.8.0", summary: "Incrementally iterate the keys space", complexity: "O(1) for every call. O(N) for a complete iteration."},
		&command{name: "randomkey", fn: cmdRandomKey, arity: 1, flags: flagReadonly,
			group: "generic", since: "1.0.0", summary: "Return a random key from the keyspace", complexity: "O(1)"},
		&command{name: "dbsize", fn: cmdDBSize, arity: 1, flags: flagReadonly | flagFast,
			group: "server", since: "1.0.0", summary: "Return the number of keys in the selected database", complexity: "O(1)"},
		&command{name: "rename", fn: cmdRename, arity: 3, flags: flagWrite, firstKey: 1, lastKey: 2, step: 1,
			group: "generic", since: "1.0.0", summary: "Rename a key", complexity: "O(1)"},
		&command{name: "renamenx", fn: cmdRenameNX, arity: 3, flags: flagWrite | flagFast, firstKey: 1, lastKey: 2, step: 1,
			group: "generic", since: "1.0.0", summary: "Rename a key, only if the new key does not exist", complexity: "O(1)"},
		&command{name: "copy", fn: cmdCopy, arity: -3, flags: flagWrite | flagDenyOOM, firstKey: 1, lastKey: 2, step: 1,
			group: "generic", since: "6.2.0", summary: "Copy a key", complexity: "O(N) worst case for collections, where N is the number of nested items. O(1) for string values."},
		&command{name: "move", fn: cmdMove, arity: 3, flags: flagWrite | flagFast, firstKey: 1, lastKey: 1, step: 1,
			group: "generic", since: "1.0.0", summary: "Move a key to another database", complexity: "O(1)"},
		&command{name: "flushdb", fn: cmdFlushDB, arity: -1, flags: flagWrite,
			group: "server", since: "1.0.0", summary: "Remove all keys from the current database", complexity: "O(N) where N is the number of keys in the selected database"},
		&command{name: "flushall", fn: cmdFlushAll, arity: -1, flags: flagWrite,
			group: "server", since: "1.0.0", summary: "Remove all keys from all databases", complexity: "O(N) where N is the total number of keys in all databases"},
		&command{name: "swapdb", fn: cmdSwapDB, arity: 3, flags: flagWrite | flagFast,
			group: "server", since: "4.0.0", summary: "Swaps two Redis databases", complexity: "O(N) where N is the count of clients watching or blocking on keys from both databases."},
		&command{name: "expire", fn: cmdExpire, arity: -3, flags: flagWrite | flagFast, firstKey: 1, lastKey: 1, step: 1,
			group: "generic", since: "1.0.0", summary: "Set a key's time to live in seconds", complexity: "O(1)"},
		&command{name: "pexpire", fn: cmdPExpire, arity: -3, flags: flagWrite | flagFast, firstKey: 1, lastKey: 1, step: 1,
			group: "generic", since: "2.6.0", summary: "Set a key's time to live in milliseconds", complexity: "O(1)"},
		&command{name: "expireat", fn: cmdExpireAt, arity: -3, flags: flagWrite | flagFast, firstKey: 1, lastKey: 1, step: 1,
			group: "generic", since: "1.2.0", summary: "Set the expiration for a key as a UNIX timestamp", complexity: "O(1)"},
		&command{name: "pexpireat", fn: cmdPExpireAt, arity: -3, flags: flagWrite | flagFast, firstKey: 1, lastKey: 1, step: 1,
			group: "generic", since: "2.6.0", summary: "Set the expiration for a key as a UNIX timestamp specified in milliseconds", complexity: "O(1)"},
		&command{name: "ttl", fn: cmdTTL, arity: 2, flags: flagReadonly | flagFast, firstKey: 1, lastKey: 1, step: 1,
			group: "generic", since: "1.0.0", summary: "Get the time to live for a key in seconds", complexity: "O(1)"},
		&command{name: "pttl", fn: cmdPTTL, arity: 2, flags: flagReadonly | flagFast, firstKey: 1, lastKey: 1, step: 1,
			group: "generic", since: "2.6.0", summary: "Get the time to live for a key in milliseconds", complexity: "O(1)"},
		&command{name: "expiretime", fn: cmdExpireTime, arity: 2, flags: flagReadonly | flagFast, firstKey: 1, lastKey: 1, step: 1,
			group: "generic", since: "7.0.0", summary: "Get the expiration Unix timestamp for a key", complexity: "O(1)"},
		&command{name: "pexpiretime", fn: cmdPExpireTime, arity: 2, flags: flagReadonly | flagFast, firstKey: 1, lastKey: 1, step: 1,
			group: "generic", since: "7.0.0", summary: "Get the expiration Unix timestamp for a key in milliseconds", complexity: "O(1)"},
		&command{name: "persist", fn: cmdPersist, arity: 2, flags: flagWrite | flagFast, firstKey: 1, lastKey: 1, step: 1,
			group: "generic", since: "2.2.0", summary: "Remove the expiration from a key", complexity: "O(1)"},
	)
}

// Error texts of this family not shared with others.
const (
	msgInvalidCursor = "ERR invalid cursor"
	msgFirstDB       = "ERR invalid first DB index"
	msgSecondDB      = "ERR invalid second DB index"
)

// optIs reports whether an option argument is name, ignoring ASCII case,
// as Redis's strcasecmp does. name is lower case.
func optIs(arg []byte, name string) bool {
	if len(arg) != len(name) {
		return false
	}
	for i := 0; i < len(arg); i++ {
		c := arg[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != name[i] {
			return false
		}
	}
	return true
}

// parseIntArg is Redis's getIntFromObjectOrReply: a 64-bit integer that
// must also fit in a C int.
func parseIntArg(b []byte) (int, bool) {
	n, ok := parseInt(b)
	if !ok || n < math.MinInt32 || n > math.MaxInt32 {
		return 0, false
	}
	return int(n), true
}

// DEL and UNLINK: UNLINK only differs in freeing memory in the background,
// which the Go heap does anyway.
func cmdDel(c *Session, args [][]byte) { c.int(c.tx.Del(c.db, args[1:])) }

// EXISTS and TOUCH: mullet keeps no access times, so TOUCH only counts.
func cmdExists(c *Session, args [][]byte) { c.int(c.tx.Exists(c.db, args[1:])) }

func cmdType(c *Session, args [][]byte) { c.simple(c.tx.Type(c.db, args[1]).String()) }

func cmdKeys(c *Session, args [][]byte) {
	keys := c.tx.Keys(c.db, args[1], nil)
	c.bulks(keys)
}

// parseCursor is Redis's parseScanCursorOrReply, which uses strtoul: a
// leading sign is accepted ("-1" wraps to the largest cursor), an empty
// string is cursor 0, and anything after the digits is refused.
func parseCursor(b []byte) (uint64, bool) {
	if len(b) > 0 && isCSpace(b[0]) {
		return 0, false
	}
	b = cString(b) // strtoul stops at a NUL, which ends the C string
	if len(b) == 0 {
		return 0, true
	}
	neg := false
	s := b
	if s[0] == '+' || s[0] == '-' {
		neg = s[0] == '-'
		s = s[1:]
	}
	if len(s) == 0 || s[0] < '0' || s[0] > '9' {
		return 0, false // no digits: strtoul stops at b[0], which is not NUL
	}
	n, err := strconv.ParseUint(string(s), 10, 64)
	if err != nil {
		return 0, false // a non-digit follows, or ERANGE
	}
	if neg {
		n = -n
	}
	return n, true
}

// isCSpace is C's isspace in the C locale.
func isCSpace(b byte) bool {
	return b == ' ' || (b >= '\t' && b <= '\r')
}

func cmdScan(c *Session, args [][]byte) {
	cursor, ok := parseCursor(args[1])
	if !ok {
		c.errorReply(msgInvalidCursor)
		return
	}
	count := int64(10)
	var pattern []byte
	kind, filterAll := queue.KindNone, false
	for i := 2; i < len(args); i += 2 {
		more := i+1 < len(args)
		switch {
		case more && optIs(args[i], "count"):
			n, ok := parseInt(args[i+1])
			if !ok {
				c.errorReply(msgNotInteger)
				return
			}
			if n < 1 {
				c.errorReply(msgSyntax)
				return
			}
			count = n
		case more && optIs(args[i], "match"):
			pattern = args[i+1]
			if len(pattern) == 1 && pattern[0] == '*' {
				pattern = nil
			}
		case more && optIs(args[i], "type"):
			// Redis 7.0 compares the name with each key's type name and
			// so, for a type it does not know, returns no keys rather
			// than an error.
			switch {
			case optIs(args[i+1], "string"):
				kind, filterAll = queue.KindString, false
			case optIs(args[i+1], "list"):
				kind, filterAll = queue.KindList, false
			default:
				kind, filterAll = queue.KindNone, true
			}
		default:
			c.errorReply(msgSyntax)
			return
		}
	}
	// COUNT is a hint; a huge one just means "everything", and must not
	// size an allocation.
	keys, next := c.tx.Scan(c.db, cursor, pattern, kind, int(min(count, 1<<20)), nil)
	if filterAll {
		keys = keys[:0]
	}
	c.array(2)
	c.bulkString(strconv.FormatUint(next, 10))
	c.bulks(keys)
}

func cmdRandomKey(c *Session, args [][]byte) {
	if k := c.tx.RandomKey(c.db); k != nil {
		c.bulk(k)
		return
	}
	c.null()
}

func cmdDBSize(c *Session, args [][]byte) { c.int(c.tx.DBSize(c.db)) }

func cmdRename(c *Session, args [][]byte) {
	if _, err := c.tx.Rename(c.db, args[1], args[2], false); err != nil {
		c.replyErr(err)
		return
	}
	c.ok()
}

func cmdRenameNX(c *Session, args [][]byte) {
	done, err := c.tx.Rename(c.db, args[1], args[2], true)
	if err != nil {
		c.replyErr(err)
		return
	}
	c.boolInt(done)
}

// boolInt replies :1 or :0, which stays an integer in RESP3.
func (c *Session) boolInt(b bool) {
	if b {
		c.int(1)
	} else {
		c.int(0)
	}
}

// cmdCopy is COPY source destination [DB destination-db] [REPLACE].
func cmdCopy(c *Session, args [][]byte) {
	dst, replace := c.db, false
	for i := 3; i < len(args); i++ {
		switch {
		case optIs(args[i], "replace"):
			replace = true
		case optIs(args[i], "db") && i+1 < len(args):
			i++
			n, ok := parseIntArg(args[i])
			if !ok {
				c.errorReply(msgNotInteger)
				return
			}
			if n < 0 || n >= c.tx.Databases() {
				c.errorReply(msgDBIndex)
				return
			}
			dst = n
		default:
			c.errorReply(msgSyntax)
			return
		}
	}
	done, err := c.tx.Copy(c.db, args[1], dst, args[2], replace)
	if err != nil {
		c.replyErr(err)
		return
	}
	c.boolInt(done)
}

func cmdMove(c *Session, args [][]byte) {
	dst, ok := parseIntArg(args[2])
	if !ok {
		c.errorReply(msgNotInteger)
		return
	}
	done, err := c.tx.MoveKey(c.db, args[1], dst)
	if err != nil {
		c.replyErr(err)
		return
	}
	c.boolInt(done)
}

// flushArgs is Redis's getFlushCommandFlags: nothing, SYNC or ASYNC.
// Freeing is the garbage collector's job here, so both mean the same.
func flushArgs(c *Session, args [][]byte) bool {
	if len(args) == 1 || (len(args) == 2 && (optIs(args[1], "sync") || optIs(args[1], "async"))) {
		return true
	}
	c.errorReply(msgSyntax)
	return false
}

func cmdFlushDB(c *Session, args [][]byte) {
	if flushArgs(c, args) {
		c.tx.FlushDB(c.db)
		c.ok()
	}
}

func cmdFlushAll(c *Session, args [][]byte) {
	if flushArgs(c, args) {
		c.tx.FlushAll()
		c.ok()
	}
}

func cmdSwapDB(c *Session, args [][]byte) {
	a, ok := parseIntArg(args[1])
	if !ok {
		c.errorReply(msgFirstDB)
		return
	}
	b, ok := parseIntArg(args[2])
	if !ok {
		c.errorReply(msgSecondDB)
		return
	}
	if err := c.tx.SwapDB(a, b); err != nil {
		c.replyErr(err)
		return
	}
	c.ok()
}

// expireFlags are EXPIRE's NX XX GT LT options; XX combines with GT or LT.
type expireFlags struct{ nx, xx, gt, lt bool }

// parseExpireFlags is Redis 7.0's parseExtendedExpireArgumentsOrReply.
func parseExpireFlags(c *Session, args [][]byte) (expireFlags, bool) {
	var f expireFlags
	for _, a := range args {
		switch {
		case optIs(a, "nx"):
			f.nx = true
		case optIs(a, "xx"):
			f.xx = true
		case optIs(a, "gt"):
			f.gt = true
		case optIs(a, "lt"):
			f.lt = true
		default:
			c.errorReply("ERR Unsupported option " + string(cString(a)))
			return f, false
		}
	}
	if f.nx && (f.xx || f.gt || f.lt) {
		c.errorReply("ERR NX and XX, GT or LT options at the same time are not compatible")
		return f, false
	}
	if f.gt && f.lt {
		c.errorReply("ERR GT and LT options at the same time are not compatible")
		return f, false
	}
	return f, true
}

// cString is b up to its first NUL: what C's "%s" prints of it.
func cString(b []byte) []byte {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		return b[:i]
	}
	return b
}

func errExpireTime(name string) string {
	return "ERR invalid expire time in '" + name + "' command"
}

// expireGeneric is Redis's expireGenericCommand: when is args[2] in
// seconds (unitMs false) or milliseconds, relative to base (Unix ms; 0 for
// the *AT forms).
func expireGeneric(c *Session, args [][]byte, name string, base int64, unitMs bool) {
	f, ok := parseExpireFlags(c, args[3:])
	if !ok {
		return
	}
	when, ok := parseInt(args[2])
	if !ok {
		c.errorReply(msgNotInteger)
		return
	}
	if !unitMs {
		if when > math.MaxInt64/1000 || when < math.MinInt64/1000 {
			c.errorReply(errExpireTime(name))
			return
		}
		when *= 1000
	}
	if when > math.MaxInt64-base {
		c.errorReply(errExpireTime(name))
		return
	}
	when += base
	cond := queue.ExpireAlways
	switch {
	case f.nx:
		cond = queue.ExpireNX
	case f.gt:
		cond = queue.ExpireGT
	case f.lt:
		cond = queue.ExpireLT
	case f.xx:
		cond = queue.ExpireXX
	}
	// XX with GT or LT: the key must also have a TTL already.
	if f.xx && cond != queue.ExpireXX && c.tx.TTL(c.db, args[1]) == -1 {
		c.int(0)
		return
	}
	c.boolInt(c.tx.Expire(c.db, args[1], when, cond))
}

func cmdExpire(c *Session, args [][]byte) {
	expireGeneric(c, args, "expire", c.tx.NowMs(), false)
}

func cmdPExpire(c *Session, args [][]byte) {
	expireGeneric(c, args, "pexpire", c.tx.NowMs(), true)
}

func cmdExpireAt(c *Session, args [][]byte) { expireGeneric(c, args, "expireat", 0, false) }

func cmdPExpireAt(c *Session, args [][]byte) { expireGeneric(c, args, "pexpireat", 0, true) }

// ttlGeneric is Redis's ttlGenericCommand: -2 for a missing key, -1 for
// one without TTL, else the time left (or the deadline, abs) rounded to
// seconds unless ms. The reply is an integer in RESP3 too.
func ttlGeneric(c *Session, key []byte, ms, abs bool) {
	at := c.tx.TTL(c.db, key)
	if at < 0 {
		c.int(at)
		return
	}
	ttl := at
	if !abs {
		ttl = max(at-c.tx.NowMs(), 0)
	}
	if !ms {
		// Rounded to the nearest second without overflowing near the
		// maximum expiry (ttl is never negative here): Redis answers
		// 9223372036854776 for PEXPIREAT's 9223372036854775807.
		ttl = int64((uint64(ttl) + 500) / 1000)
	}
	c.int(ttl)
}

func cmdTTL(c *Session, args [][]byte)         { ttlGeneric(c, args[1], false, false) }
func cmdPTTL(c *Session, args [][]byte)        { ttlGeneric(c, args[1], true, false) }
func cmdExpireTime(c *Session, args [][]byte)  { ttlGeneric(c, args[1], false, true) }
func cmdPExpireTime(c *Session, args [][]byte) { ttlGeneric(c, args[1], true, true) }

func cmdPersist(c *Session, args [][]byte) { c.boolInt(c.tx.Persist(c.db, args[1])) }
