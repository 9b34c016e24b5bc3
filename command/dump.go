package command

import (
	"mullet/queue"
	"mullet/rdb"
)

// DUMP and RESTORE, in Redis's DUMP payload format (package rdb), so keys
// move between mullet and redis-server in both directions.
func init() {
	register(
		&command{name: "dump", fn: cmdDump, arity: 2, flags: flagReadonly, firstKey: 1, lastKey: 1, step: 1,
			group: "generic", since: "2.6.0", summary: "Return a serialized version of the value stored at the specified key.", complexity: "O(1) to access the key and additional O(N*M) to serialize it, where N is the number of Redis objects composing the value and M their average size. For small string values the time complexity is thus O(1)+O(1*M) where M is small, so simply O(1)."},
		&command{name: "restore", fn: cmdRestore, arity: -4, flags: flagWrite | flagDenyOOM, firstKey: 1, lastKey: 1, step: 1,
			group: "generic", since: "2.6.0", summary: "Create a key using the provided serialized value, previously obtained using DUMP.", complexity: "O(1) to create the new key and additional O(N*M) to reconstruct the serialized value, where N is the number of Redis objects composing the value and M their average size. For small string values the time complexity is thus O(1)+O(1*M) where M is small, so simply O(1). However for sorted set values the complexity is O(N*M*log(N)) because inserting values into sorted sets is O(log(N))."},
	)
}

// cmdDump answers the key's DUMP payload, or null. Strings are
// byte-identical to Redis's with rdbcompression off; lists use the plain
// list encoding, which Redis RESTOREs (see rdb.ListEncoder).
func cmdDump(c *Session, args [][]byte) {
	kind, str, _ := c.tx.Peek(c.db, args[1])
	switch kind {
	case queue.KindString:
		c.bulk(rdb.EncodeString(str))
	case queue.KindList:
		enc := rdb.NewListEncoder(nil)
		c.tx.EachItem(c.db, args[1], func(it []byte) bool {
			enc.Add(it)
			return true
		})
		c.bulk(enc.Finish())
	default:
		c.null()
	}
}

// cmdRestore is Redis 7.0's restoreCommand:
//
//	RESTORE key ttl payload [REPLACE] [ABSTTL] [IDLETIME seconds] [FREQ frequency]
//
// The checks come in Redis's order: options, then BUSYKEY, then the TTL,
// then the payload. IDLETIME and FREQ are validated and ignored (mullet
// does no eviction); giving both is a syntax error. The key is written
// through Store, so the log gets plain DEL, SET or RPUSH batches and
// PEXPIREAT, and clients blocked on the key are served. A TTL already in
// the past creates nothing, but with REPLACE still deletes the old key.
func cmdRestore(c *Session, args [][]byte) {
	replace, absTTL := false, false
	idle, freq := false, false
	for j := 4; j < len(args); j++ {
		more := j+1 < len(args)
		switch {
		case optIs(args[j], "replace"):
			replace = true
		case optIs(args[j], "absttl"):
			absTTL = true
		case optIs(args[j], "idletime") && more && !freq:
			j++
			n, ok := parseInt(args[j])
			if !ok {
				c.errorReply(msgNotInteger)
				return
			}
			if n < 0 {
				c.errorReply("ERR Invalid IDLETIME value, must be >= 0")
				return
			}
			idle = true
		case optIs(args[j], "freq") && more && !idle:
			j++
			n, ok := parseInt(args[j])
			if !ok {
				c.errorReply(msgNotInteger)
				return
			}
			if n < 0 || n > 255 {
				c.errorReply("ERR Invalid FREQ value, must be >= 0 and <= 255")
				return
			}
			freq = true
		default:
			c.errorReply(msgSyntax)
			return
		}
	}
	key := args[1]
	if !replace && c.tx.Exists(c.db, args[1:2]) > 0 {
		c.replyErr(queue.ErrBusyKey)
		return
	}
	ttl, ok := parseInt(args[2])
	if !ok {
		c.errorReply(msgNotInteger)
		return
	}
	if ttl < 0 {
		c.errorReply("ERR Invalid TTL value, must be >= 0")
		return
	}
	v, err := rdb.Decode(args[3])
	if err != nil {
		c.replyErr(err)
		return
	}
	now := c.tx.NowMs()
	if ttl != 0 && !absTTL {
		ttl += now // wraps like Redis's C addition, and then reads as expired
	}
	if ttl != 0 && ttl <= now {
		if replace {
			c.tx.Del(c.db, args[1:2])
		}
		c.ok()
		return
	}
	if v.Kind == rdb.KindString {
		c.tx.Store(c.db, key, nil, v.Str, ttl)
	} else {
		c.tx.Store(c.db, key, v.List, nil, ttl)
	}
	c.ok()
}
