package server

import (
	"errors"
	"math"
	"strconv"
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

// blockReq is what a blocking handler leaves for serve: the waiter is
// registered in the keyspace; serve waits once the Tx has ended.
type blockReq struct {
	active  bool
	kind    blockKind
	timeout time.Duration // 0: forever
}

// parseTimeout parses a blocking command's timeout in seconds (a float, as
// in Redis 6+), with Redis's errors.
func parseTimeout(b []byte) (time.Duration, string) {
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil || math.IsNaN(f) || len(b) == 0 || isSpace(b[0]) {
		return 0, msgTimeoutFloat
	}
	ms := f * 1000
	if ms >= math.MaxInt64 || ms <= math.MinInt64 {
		return 0, msgTimeoutRange
	}
	// Redis truncates to whole milliseconds, so 0.0005 (like 0) waits
	// forever.
	tval := int64(ms)
	if tval < 0 {
		return 0, msgTimeoutNeg
	}
	if tval > math.MaxInt64/int64(time.Millisecond)-time.Now().UnixMilli() {
		return 0, msgTimeoutRange
	}
	return time.Duration(tval) * time.Millisecond, ""
}

// blockOn registers the client as waiting on keys. Inside EXEC a blocking
// command acts as its non-blocking form: it replies at once as if the
// timeout had fired.
func (c *client) blockOn(keys [][]byte, op queue.BlockOp, kind blockKind, timeout time.Duration) {
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
	c.block = blockReq{active: true, kind: kind, timeout: timeout}
}

// timeoutReply is what a blocking command answers when its time runs out:
// a null array, even for BLMOVE, as Redis 7.0 does.
func (c *client) timeoutReply(kind blockKind) {
	c.nullArray()
}

// watchResult is what the disconnect watcher saw.
type watchResult struct {
	n   int
	err error
}

// awaitBlock waits for the registered waiter to be served, time out, be
// unblocked, or for the client to disconnect or the server to stop. It
// returns false when the connection must close.
//
// While blocked, a watcher goroutine keeps reading the socket: that is how
// a disconnect is noticed (Redis sees the fd become readable), and bytes
// the client pipelined after the blocking command are kept, unprocessed,
// for when the wait ends.
func (c *client) awaitBlock() bool {
	req := c.block
	c.block = blockReq{}
	w := c.waiter
	// The idle timeout does not apply to a blocked client.
	c.conn.SetReadDeadline(time.Time{})
	c.flags.Or(cfBlocked)
	defer c.flags.And(^cfBlocked)
	// Replies to the commands before the blocking one go out first.
	if !c.flush() {
		c.cancelBlock()
		return false
	}
	var timer <-chan time.Time
	if req.timeout > 0 {
		t := time.NewTimer(req.timeout)
		defer t.Stop()
		timer = t.C
	}
	watch := c.startWatch()
	for {
		select {
		case <-w.Ready():
			if !c.stopWatch(watch) {
				c.returnItems(w)
				return false
			}
			return c.replyServed(req.kind)
		case <-timer:
			served := c.cancelBlock()
			ok := c.stopWatch(watch)
			if served {
				if !ok {
					c.returnItems(w)
					return false
				}
				return c.replyServed(req.kind)
			}
			c.timeoutReply(req.kind)
			return ok
		case r := <-watch:
			if r.n > 0 {
				c.rd.w += r.n
				c.s.stats.netIn.Add(int64(r.n))
			}
			if r.err != nil && !isTimeout(r.err) || r.n == 0 {
				// The client left (or KILL closed it): it leaves no trace.
				if c.cancelBlock() {
					c.returnItems(w)
				}
				return false
			}
			watch = c.startWatch()
		case <-c.s.done:
			if c.cancelBlock() {
				c.returnItems(w)
			}
			c.stopWatch(watch)
			return false
		}
	}
}

// cancelBlock withdraws the waiter; it reports whether it had been served
// meanwhile.
func (c *client) cancelBlock() bool {
	tx := c.s.ks.Begin()
	served := tx.Cancel(c.waiter)
	tx.End()
	return served
}

// startWatch starts the disconnect watcher, reading into free space of
// the request buffer.
func (c *client) startWatch() chan watchResult {
	ch := make(chan watchResult, 1)
	buf, err := c.rd.room()
	if err != nil {
		ch <- watchResult{0, err}
		return ch
	}
	go func() {
		n, err := c.conn.Read(buf)
		ch <- watchResult{n, err}
	}()
	return ch
}

// stopWatch interrupts the watcher's read and keeps what it read. It
// returns false if the connection is gone.
func (c *client) stopWatch(ch chan watchResult) bool {
	c.conn.SetReadDeadline(time.Unix(1, 0))
	r := <-ch
	c.conn.SetReadDeadline(time.Time{})
	if r.n > 0 {
		c.rd.w += r.n
		c.s.stats.netIn.Add(int64(r.n))
	}
	if r.err != nil && !isTimeout(r.err) {
		return r.n > 0 // process what arrived before the close, then leave
	}
	select {
	case <-c.s.done:
		return false
	default:
	}
	return !c.killed.Load()
}

// replyServed writes the reply for a served (or unblocked) wait.
func (c *client) replyServed(kind blockKind) bool {
	w := c.waiter
	if w.Ticket != 0 {
		c.ticket = w.Ticket
	}
	switch {
	case w.Err != nil:
		c.replyErr(w.Err)
	case w.TimedOut:
		c.timeoutReply(kind)
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
	return true
}

// returnItems puts back items that were handed to a client that left
// before it could receive them, at the end they came from, so a disconnect
// loses nothing. (Redis, being single-threaded, never hands items to a
// client that has gone; we can, by a hair, so we undo it.) A move is left
// done: its item is safe in the destination list.
func (c *client) returnItems(w *queue.Waiter) {
	if w.Err != nil || w.TimedOut || w.Op.Dest != nil || len(w.Items) == 0 {
		return
	}
	items := make([][]byte, len(w.Items))
	for i, it := range w.Items {
		items[len(items)-1-i] = it // push back in reverse to restore order
	}
	tx := c.s.ks.Begin()
	_, err := tx.Push(c.db, w.Key, items, w.Op.Front, false)
	tx.End()
	if err != nil && !errors.Is(err, queue.ErrWrongType) {
		c.s.log.Error("could not return items of a departed client", "client", c.id, "key", string(w.Key), "err", err)
	}
}
