package command

import (
	"strings"

	"mullet/internal/redisc"
	"mullet/queue"
)

func init() {
	register(
		&command{name: "lpush", fn: cmdLPush, arity: -3, flags: flagWrite | flagDenyOOM | flagFast, firstKey: 1, lastKey: 1, step: 1,
			group: "list", since: "1.0.0", summary: "Prepend one or multiple elements to a list", complexity: "O(1) for each element added"},
		&command{name: "rpush", fn: cmdRPush, arity: -3, flags: flagWrite | flagDenyOOM | flagFast, firstKey: 1, lastKey: 1, step: 1,
			group: "list", since: "1.0.0", summary: "Append one or multiple elements to a list", complexity: "O(1) for each element added"},
		&command{name: "lpushx", fn: cmdLPushX, arity: -3, flags: flagWrite | flagDenyOOM | flagFast, firstKey: 1, lastKey: 1, step: 1,
			group: "list", since: "2.2.0", summary: "Prepend an element to a list, only if the list exists", complexity: "O(1) for each element added"},
		&command{name: "rpushx", fn: cmdRPushX, arity: -3, flags: flagWrite | flagDenyOOM | flagFast, firstKey: 1, lastKey: 1, step: 1,
			group: "list", since: "2.2.0", summary: "Append an element to a list, only if the list exists", complexity: "O(1) for each element added"},
		&command{name: "lpop", fn: cmdLPop, arity: -2, flags: flagWrite | flagFast, firstKey: 1, lastKey: 1, step: 1,
			group: "list", since: "1.0.0", summary: "Remove and get the first elements in a list", complexity: "O(N) where N is the number of elements returned"},
		&command{name: "rpop", fn: cmdRPop, arity: -2, flags: flagWrite | flagFast, firstKey: 1, lastKey: 1, step: 1,
			group: "list", since: "1.0.0", summary: "Remove and get the last elements in a list", complexity: "O(N) where N is the number of elements returned"},
		&command{name: "llen", fn: cmdLLen, arity: 2, flags: flagReadonly | flagFast, firstKey: 1, lastKey: 1, step: 1,
			group: "list", since: "1.0.0", summary: "Get the length of a list", complexity: "O(1)"},
		&command{name: "lrange", fn: cmdLRange, arity: 4, flags: flagReadonly, firstKey: 1, lastKey: 1, step: 1,
			group: "list", since: "1.0.0", summary: "Get a range of elements from a list", complexity: "O(S+N)"},
		&command{name: "lindex", fn: cmdLIndex, arity: 3, flags: flagReadonly, firstKey: 1, lastKey: 1, step: 1,
			group: "list", since: "1.0.0", summary: "Get an element from a list by its index", complexity: "O(N)"},
		&command{name: "lset", fn: cmdLSet, arity: 4, flags: flagWrite | flagDenyOOM, firstKey: 1, lastKey: 1, step: 1,
			group: "list", since: "1.0.0", summary: "Set the value of an element in a list by its index", complexity: "O(N)"},
		&command{name: "linsert", fn: cmdLInsert, arity: 5, flags: flagWrite | flagDenyOOM, firstKey: 1, lastKey: 1, step: 1,
			group: "list", since: "2.2.0", summary: "Insert an element before or after another element in a list", complexity: "O(N)"},
		&command{name: "lrem", fn: cmdLRem, arity: 4, flags: flagWrite, firstKey: 1, lastKey: 1, step: 1,
			group: "list", since: "1.0.0", summary: "Remove elements from a list", complexity: "O(N+M)"},
		&command{name: "ltrim", fn: cmdLTrim, arity: 4, flags: flagWrite, firstKey: 1, lastKey: 1, step: 1,
			group: "list", since: "1.0.0", summary: "Trim a list to the specified range", complexity: "O(N)"},
		&command{name: "lpos", fn: cmdLPos, arity: -3, flags: flagReadonly, firstKey: 1, lastKey: 1, step: 1,
			group: "list", since: "6.0.6", summary: "Return the index of matching elements on a list", complexity: "O(N)"},
		// LMOVE and RPOPLPUSH are not denyoom in mullet: moving an item
		// frees as much as it takes, and reliable-queue workers must keep
		// going when the queue is full. Redis refuses them at the cap.
		&command{name: "lmove", fn: cmdLMove, arity: 5, flags: flagWrite, firstKey: 1, lastKey: 2, step: 1,
			group: "list", since: "6.2.0", summary: "Pop an element from a list, push it to another list and return it", complexity: "O(1)"},
		&command{name: "rpoplpush", fn: cmdRPopLPush, arity: 3, flags: flagWrite, firstKey: 1, lastKey: 2, step: 1,
			group: "list", since: "1.2.0", summary: "Remove the last element in a list, prepend it to another list and return it", complexity: "O(1)"},
		&command{name: "lmpop", fn: cmdLMPop, arity: -4, flags: flagWrite, firstKey: 0, lastKey: 0, step: 0,
			group: "list", since: "7.0.0", summary: "Pop elements from a list", complexity: "O(N+M)"},
		&command{name: "blpop", fn: cmdBLPop, arity: -3, flags: flagWrite | flagBlocking, firstKey: 1, lastKey: -2, step: 1,
			group: "list", since: "2.0.0", summary: "Remove and get the first element in a list, or block until one is available", complexity: "O(N)"},
		&command{name: "brpop", fn: cmdBRPop, arity: -3, flags: flagWrite | flagBlocking, firstKey: 1, lastKey: -2, step: 1,
			group: "list", since: "2.0.0", summary: "Remove and get the last element in a list, or block until one is available", complexity: "O(N)"},
		&command{name: "blmove", fn: cmdBLMove, arity: 6, flags: flagWrite | flagBlocking, firstKey: 1, lastKey: 2, step: 1,
			group: "list", since: "6.2.0", summary: "Pop an element from a list, push it to another list and return it; or block until one is available", complexity: "O(1)"},
		&command{name: "brpoplpush", fn: cmdBRPopLPush, arity: 4, flags: flagWrite | flagBlocking, firstKey: 1, lastKey: 2, step: 1,
			group: "list", since: "2.2.0", summary: "Pop an element from a list, push it to another list and return it; or block until one is available", complexity: "O(1)"},
		&command{name: "blmpop", fn: cmdBLMPop, arity: -5, flags: flagWrite | flagBlocking, firstKey: 0, lastKey: 0, step: 0,
			group: "list", since: "7.0.0", summary: "Pop elements from a list, or block until one is available", complexity: "O(N+M)"},
	)
}

// parseInt parses an integer argument with Redis's string2ll rules.
func parseInt(b []byte) (int64, bool) { return redisc.String2ll(b) }

// args scratch: handlers reuse the client's slice for items they return.
func (c *Session) scratch() [][]byte { return c.argvScratch[:0] }

func (c *Session) push(args [][]byte, front, onlyIfExists bool) {
	n, err := c.tx.Push(c.db, args[1], args[2:], front, onlyIfExists)
	if err != nil {
		c.replyErr(err)
		return
	}
	c.int(n)
}

func cmdLPush(c *Session, args [][]byte)  { c.push(args, true, false) }
func cmdRPush(c *Session, args [][]byte)  { c.push(args, false, false) }
func cmdLPushX(c *Session, args [][]byte) { c.push(args, true, true) }
func cmdRPushX(c *Session, args [][]byte) { c.push(args, false, true) }

func (c *Session) pop(args [][]byte, front bool) {
	if len(args) > 3 {
		c.errorReply(errArity(strings.ToLower(string(args[0]))))
		return
	}
	count := int64(-1)
	if len(args) == 3 {
		n, ok := parseInt(args[2])
		if !ok || n < 0 {
			c.errorReply("ERR value is out of range, must be positive")
			return
		}
		count = n
	}
	n, err := c.tx.Len(c.db, args[1])
	if err != nil {
		c.replyErr(err)
		return
	}
	if n == 0 {
		if count >= 0 {
			c.nullArray()
		} else {
			c.null()
		}
		return
	}
	if count == 0 {
		c.array(0)
		return
	}
	items, _ := c.tx.Pop(c.db, args[1], front, count, c.scratch())
	if count < 0 {
		c.bulk(items[0])
	} else {
		c.bulks(items)
	}
	c.argvScratch = items[:0]
}

func cmdLPop(c *Session, args [][]byte) { c.pop(args, true) }
func cmdRPop(c *Session, args [][]byte) { c.pop(args, false) }

func cmdLLen(c *Session, args [][]byte) {
	n, err := c.tx.Len(c.db, args[1])
	if err != nil {
		c.replyErr(err)
		return
	}
	c.int(n)
}

func cmdLRange(c *Session, args [][]byte) {
	start, ok1 := parseInt(args[2])
	stop, ok2 := parseInt(args[3])
	if !ok1 || !ok2 {
		c.errorReply(msgNotInteger)
		return
	}
	items, err := c.tx.Range(c.db, args[1], start, stop, c.scratch())
	if err != nil {
		c.replyErr(err)
		return
	}
	c.bulks(items)
	clear(items)
	c.argvScratch = items[:0]
}

func cmdLIndex(c *Session, args [][]byte) {
	// Redis looks the key up before it parses the index: a missing key
	// answers null whatever the index.
	n, err := c.tx.Len(c.db, args[1])
	if err != nil {
		c.replyErr(err)
		return
	}
	if n == 0 {
		c.null()
		return
	}
	i, ok := parseInt(args[2])
	if !ok {
		c.errorReply(msgNotInteger)
		return
	}
	item, found, err := c.tx.Index(c.db, args[1], i)
	switch {
	case err != nil:
		c.replyErr(err)
	case !found:
		c.null()
	default:
		c.bulk(item)
	}
}

func cmdLSet(c *Session, args [][]byte) {
	// As in Redis, a missing key is reported before a bad index.
	if n, err := c.tx.Len(c.db, args[1]); err != nil || n == 0 {
		if err == nil {
			err = queue.ErrNoSuchKey
		}
		c.replyErr(err)
		return
	}
	i, ok := parseInt(args[2])
	if !ok {
		c.errorReply(msgNotInteger)
		return
	}
	if err := c.tx.LSet(c.db, args[1], i, args[3]); err != nil {
		c.replyErr(err)
		return
	}
	c.ok()
}

func cmdLInsert(c *Session, args [][]byte) {
	var before bool
	switch strings.ToLower(string(args[2])) {
	case "before":
		before = true
	case "after":
	default:
		c.errorReply(msgSyntax)
		return
	}
	n, err := c.tx.Insert(c.db, args[1], before, args[3], args[4])
	if err != nil {
		c.replyErr(err)
		return
	}
	c.int(n)
}

func cmdLRem(c *Session, args [][]byte) {
	count, ok := parseInt(args[2])
	if !ok {
		c.errorReply(msgNotInteger)
		return
	}
	n, err := c.tx.Rem(c.db, args[1], count, args[3])
	if err != nil {
		c.replyErr(err)
		return
	}
	c.int(n)
}

func cmdLTrim(c *Session, args [][]byte) {
	start, ok1 := parseInt(args[2])
	stop, ok2 := parseInt(args[3])
	if !ok1 || !ok2 {
		c.errorReply(msgNotInteger)
		return
	}
	if err := c.tx.Trim(c.db, args[1], start, stop); err != nil {
		c.replyErr(err)
		return
	}
	c.ok()
}

func cmdLPos(c *Session, args [][]byte) {
	rank, count, maxlen := int64(1), int64(-1), int64(0)
	for i := 3; i < len(args); i++ {
		opt := strings.ToLower(string(args[i]))
		more := i+1 < len(args)
		switch {
		case opt == "rank" && more:
			i++
			n, ok := parseInt(args[i])
			if !ok {
				c.errorReply(msgNotInteger)
				return
			}
			if n == 0 {
				c.errorReply("ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list")
				return
			}
			if n == -1<<63 {
				// Redis 7.0 negates the rank, which overflows back to
				// LLONG_MIN, and then every match passes "matches >=
				// rank": it acts as -1.
				n = -1
			}
			rank = n
		case opt == "count" && more:
			i++
			// Redis's getPositiveLongFromObjectOrReply gives the same
			// message for a non-integer as for a negative count.
			n, ok := parseInt(args[i])
			if !ok || n < 0 {
				c.errorReply("ERR COUNT can't be negative")
				return
			}
			count = n
		case opt == "maxlen" && more:
			i++
			n, ok := parseInt(args[i])
			if !ok || n < 0 {
				c.errorReply("ERR MAXLEN can't be negative")
				return
			}
			maxlen = n
		default:
			c.errorReply(msgSyntax)
			return
		}
	}
	want := count
	if want < 0 {
		want = 1
	}
	found, err := c.tx.Pos(c.db, args[1], args[2], rank, want, maxlen, nil)
	if err != nil {
		c.replyErr(err)
		return
	}
	if count < 0 {
		if len(found) == 0 {
			c.null()
		} else {
			c.int(found[0])
		}
		return
	}
	c.array(len(found))
	for _, i := range found {
		c.int(i)
	}
}

// parseSide parses LEFT or RIGHT; front is true for LEFT.
func parseSide(b []byte) (front bool, ok bool) {
	switch strings.ToLower(string(b)) {
	case "left":
		return true, true
	case "right":
		return false, true
	}
	return false, false
}

func (c *Session) move(src, dst []byte, srcFront, dstFront bool) {
	item, err := c.tx.Move(c.db, src, dst, srcFront, dstFront)
	switch {
	case err != nil:
		c.replyErr(err)
	case item == nil:
		c.null()
	default:
		c.bulk(item)
	}
}

func cmdLMove(c *Session, args [][]byte) {
	from, ok1 := parseSide(args[3])
	to, ok2 := parseSide(args[4])
	if !ok1 || !ok2 {
		c.errorReply(msgSyntax)
		return
	}
	c.move(args[1], args[2], from, to)
}

func cmdRPopLPush(c *Session, args [][]byte) { c.move(args[1], args[2], false, true) }

// mpopArgs parses LMPOP/BLMPOP's "numkeys key... LEFT|RIGHT [COUNT n]"
// starting at args[i]. It writes the error reply itself.
func (c *Session) mpopArgs(args [][]byte, i int) (keys [][]byte, front bool, count int64, ok bool) {
	const msgNumkeys = "ERR numkeys should be greater than 0"
	n, isInt := parseInt(args[i])
	if !isInt || n < 1 {
		c.errorReply(msgNumkeys)
		return
	}
	// Compared without adding, so a huge numkeys cannot overflow.
	if n >= int64(len(args)-i-1) {
		c.errorReply(msgSyntax)
		return
	}
	where := int64(i) + n + 1
	front, isSide := parseSide(args[where])
	if !isSide {
		c.errorReply(msgSyntax)
		return
	}
	count = -1
	for j := int(where) + 1; j < len(args); j++ {
		if count == -1 && strings.EqualFold(string(args[j]), "count") && j+1 < len(args) {
			j++
			v, isInt := parseInt(args[j])
			if !isInt || v < 1 {
				c.errorReply("ERR count should be greater than 0")
				return
			}
			count = v
			continue
		}
		c.errorReply(msgSyntax)
		return
	}
	if count == -1 {
		count = 1
	}
	return args[i+1 : where], front, count, true
}

func cmdLMPop(c *Session, args [][]byte) {
	keys, front, count, ok := c.mpopArgs(args, 1)
	if !ok {
		return
	}
	key, items, err := c.tx.MPop(c.db, keys, front, count, c.scratch())
	switch {
	case err != nil:
		c.replyErr(err)
	case key == nil:
		c.nullArray()
	default:
		c.array(2)
		c.bulk(key)
		c.bulks(items)
	}
	c.argvScratch = items[:0]
}

func (c *Session) bpop(args [][]byte, front bool) {
	timeout, msg := parseTimeout(args[len(args)-1])
	if msg != "" {
		c.errorReply(msg)
		return
	}
	keys := args[1 : len(args)-1]
	for _, k := range keys {
		items, err := c.tx.Pop(c.db, k, front, -1, c.scratch())
		if err != nil {
			c.replyErr(err)
			return
		}
		if len(items) > 0 {
			c.array(2)
			c.bulk(k)
			c.bulk(items[0])
			clear(items)
			c.argvScratch = items[:0] // keep the grown scratch: no allocation next time
			return
		}
	}
	c.blockOn(keys, queue.BlockOp{Front: front}, blockPop, timeout)
}

func cmdBLPop(c *Session, args [][]byte) { c.bpop(args, true) }
func cmdBRPop(c *Session, args [][]byte) { c.bpop(args, false) }

func (c *Session) bmove(args [][]byte, from, to bool, timeoutArg []byte) {
	timeout, msg := parseTimeout(timeoutArg)
	if msg != "" {
		c.errorReply(msg)
		return
	}
	n, err := c.tx.Len(c.db, args[1])
	if err != nil {
		c.replyErr(err)
		return
	}
	if n > 0 {
		c.move(args[1], args[2], from, to)
		return
	}
	c.blockOn(args[1:2], queue.BlockOp{Front: from, Dest: append([]byte(nil), args[2]...), DestFront: to}, blockMove, timeout)
}

func cmdBLMove(c *Session, args [][]byte) {
	from, ok1 := parseSide(args[3])
	if !ok1 {
		c.errorReply(msgSyntax)
		return
	}
	to, ok2 := parseSide(args[4])
	if !ok2 {
		c.errorReply(msgSyntax)
		return
	}
	c.bmove(args, from, to, args[5])
}

func cmdBRPopLPush(c *Session, args [][]byte) { c.bmove(args, false, true, args[3]) }

func cmdBLMPop(c *Session, args [][]byte) {
	// Redis parses the timeout last, after numkeys, the side and COUNT.
	keys, front, count, ok := c.mpopArgs(args, 2)
	if !ok {
		return
	}
	timeout, msg := parseTimeout(args[1])
	if msg != "" {
		c.errorReply(msg)
		return
	}
	key, items, err := c.tx.MPop(c.db, keys, front, count, c.scratch())
	switch {
	case err != nil:
		c.replyErr(err)
	case key != nil:
		c.array(2)
		c.bulk(key)
		c.bulks(items)
	default:
		c.blockOn(keys, queue.BlockOp{Front: front, Count: count}, blockMPop, timeout)
	}
}
