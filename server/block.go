package server

import (
	"time"

	"mullet/command"
)

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
func (c *client) awaitBlock(req command.BlockRequest) bool {
	w := c.sess.Waiter()
	// The idle timeout does not apply to a blocked client.
	c.conn.SetReadDeadline(time.Time{})
	c.sess.SetFlag(command.FlagBlocked, true)
	defer c.sess.SetFlag(command.FlagBlocked, false)
	// Replies to the commands before the blocking one go out first.
	if !c.flush() {
		c.sess.CancelBlock()
		return false
	}
	var timer <-chan time.Time
	if req.Timeout > 0 {
		t := time.NewTimer(req.Timeout)
		defer t.Stop()
		timer = t.C
	}
	watch := c.startWatch()
	for {
		select {
		case <-w.Ready():
			if !c.stopWatch(watch) {
				c.sess.ReturnItems()
				return false
			}
			c.sess.ReplyServed()
			return true
		case <-timer:
			served := c.sess.CancelBlock()
			ok := c.stopWatch(watch)
			if served {
				if !ok {
					c.sess.ReturnItems()
					return false
				}
				c.sess.ReplyServed()
				return true
			}
			c.sess.ReplyTimeout()
			return ok
		case r := <-watch:
			if r.n > 0 {
				c.rd.w += r.n
				c.s.core.Stats.NetIn.Add(int64(r.n))
			}
			if r.err != nil && !isTimeout(r.err) || r.n == 0 {
				// The client left (or KILL closed it): it leaves no trace.
				if c.sess.CancelBlock() {
					c.sess.ReturnItems()
				}
				return false
			}
			watch = c.startWatch()
		case <-c.s.done:
			if c.sess.CancelBlock() {
				c.sess.ReturnItems()
			}
			c.stopWatch(watch)
			return false
		}
	}
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
		c.s.core.Stats.NetIn.Add(int64(r.n))
	}
	if r.err != nil && !isTimeout(r.err) {
		return r.n > 0 // process what arrived before the close, then leave
	}
	select {
	case <-c.s.done:
		return false
	default:
	}
	return !c.sess.Killed()
}

// Suspend holds a goroutine client's reply, and its further input, while
// wait runs (command.Conn): replies already written go out first, then
// wait runs on a goroutine of its own while this one watches the socket.
// If the client leaves or the server stops, stop is closed, then is not
// called and the connection closes.
func (c *client) Suspend(wait func(stop <-chan struct{}), then func()) {
	if c.lp != nil {
		c.lp.suspend(c, wait, then)
		return
	}
	if !c.flush() {
		c.sess.SetCloseAfterReply()
		return
	}
	c.conn.SetReadDeadline(time.Time{})
	c.sess.SetFlag(command.FlagBlocked, true)
	c.s.core.NoteSuspended(true) // counted in blocked_clients, as in Redis
	defer func() {
		c.s.core.NoteSuspended(false)
		c.sess.SetFlag(command.FlagBlocked, false)
	}()
	stop := make(chan struct{})
	waited := make(chan struct{})
	go func() {
		defer close(waited)
		wait(stop)
	}()
	watch := c.startWatch()
	for {
		select {
		case <-waited:
			if !c.stopWatch(watch) {
				c.sess.SetCloseAfterReply()
				return
			}
			then()
			return
		case r := <-watch:
			if r.n > 0 {
				c.rd.w += r.n
				c.s.core.Stats.NetIn.Add(int64(r.n))
			}
			if r.err != nil && !isTimeout(r.err) || r.n == 0 {
				close(stop) // the client left
				<-waited
				c.sess.SetCloseAfterReply()
				return
			}
			watch = c.startWatch()
		case <-c.s.done:
			close(stop)
			<-waited
			c.stopWatch(watch)
			c.sess.SetCloseAfterReply()
			return
		}
	}
}
