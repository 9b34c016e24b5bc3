//go:build linux

package server

import "runtime/debug"

// guard runs fn, the loop's work for client c. A panic in it (a command
// handler's bug) closes c and is logged with its stack; the loop carries
// on serving its other clients, as a connection goroutine's recover does
// (conn.go serve). The keyspace lock the handler may have held is
// released first: what it did so far stays applied and logged.
func (l *loop) guard(c *client, fn func()) {
	defer func() {
		r := recover()
		if r == nil {
			return
		}
		c.s.log.Error("panic serving client", "client", c.id, "addr", c.addr, "panic", r, "stack", string(debug.Stack()))
		c.s.stats.unexpectedErr.Add(1)
		if c.tx != nil {
			c.tx.End()
			c.tx = nil
		}
		c.out = c.out[:0]
		l.close(c)
	}()
	fn()
}
