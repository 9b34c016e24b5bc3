package server

import (
	"strconv"
	"time"

	"mullet/internal/sdsargs"
)

func init() {
	register(&command{name: "monitor", fn: cmdMonitor, arity: 1, flags: flagNoTx | flagAdmin | flagNoScript | flagLoading | flagStale,
		group: "server", since: "1.0.0", summary: "Listen for all requests received by the server in real time", complexity: ""})
}

// monitorBacklog is how many lines a MONITOR client may fall behind before
// it is disconnected: its output buffer limit, so a monitor that never
// reads cannot grow the server's memory.
const monitorBacklog = 4096

// monitorMaxPending is the same limit for a MONITOR client served by an
// event loop, in bytes of lines its socket has not taken.
const monitorMaxPending = 4 << 20

func cmdMonitor(c *client, args [][]byte) {
	if c.multi {
		c.errorReply("ERR MONITOR isn't allowed inside a transaction")
		return
	}
	if c.flags.Load()&cfMonitor != 0 {
		c.ok()
		return
	}
	if c.lp == nil {
		c.monitorCh = make(chan []byte, monitorBacklog)
	}
	c.flags.Or(cfMonitor)
	c.s.mu.Lock()
	c.s.monitorList = append(c.s.monitorList, c)
	c.s.monitors.Store(int32(len(c.s.monitorList)))
	c.s.mu.Unlock()
	c.ok()
}

func (s *Server) removeMonitor(c *client) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, m := range s.monitorList {
		if m == c {
			s.monitorList = append(s.monitorList[:i], s.monitorList[i+1:]...)
			break
		}
	}
	s.monitors.Store(int32(len(s.monitorList)))
}

// redacted replaces a secret argument in what MONITOR and SLOWLOG show.
var redacted = []byte("(redacted)")

// redactArg hides args[i] from MONITOR and SLOWLOG, as Redis 7.0's
// redactClientCommandArgument does: the handler calls it once it has
// parsed the secret (and read it: args[i] no longer holds it), and call
// feeds the monitors and the slow log with what args then hold. Redis
// redacts only what the handler reached, so a command refused before it
// parsed its secret (AUTH a b c: a syntax error) shows it, as in Redis.
func redactArg(args [][]byte, i int) {
	args[i] = redacted
}

// feedMonitors sends a command line to every MONITOR client, in Redis's
// format: +<unix time with microseconds> [<db> <addr>] "arg" "arg" ...
func (s *Server) feedMonitors(c *client, args [][]byte) {
	now := time.Now()
	line := make([]byte, 0, 64)
	line = append(line, '+')
	line = strconv.AppendInt(line, now.Unix(), 10)
	line = append(line, '.')
	us := now.Nanosecond() / 1000
	for d := 100000; d > 1; d /= 10 {
		if us < d {
			line = append(line, '0')
		}
	}
	line = strconv.AppendInt(line, int64(us), 10)
	line = append(line, " ["...)
	line = strconv.AppendInt(line, int64(c.db), 10)
	line = append(line, ' ')
	line = append(line, c.addr...)
	line = append(line, "] "...)
	for i, a := range args {
		if i > 0 {
			line = append(line, ' ')
		}
		line = sdsargs.AppendRepr(line, a)
	}
	line = append(line, "\r\n"...)
	s.mu.Lock()
	for _, m := range s.monitorList {
		if m == c {
			continue
		}
		if m.lp != nil {
			m.lp.post(loopMsg{kind: msgMonitor, c: m, line: line})
			continue
		}
		select {
		case m.monitorCh <- line:
		default:
			s.log.Warn("disconnecting MONITOR client that fell behind", "client", m.id, "addr", m.addr)
			m.kill()
		}
	}
	s.mu.Unlock()
}

// monitorLoop streams monitor lines to the client until it leaves. The
// connection's goroutine stays its only writer; a watcher goroutine reads
// to notice the client going away (RESET or QUIT end the monitor).
func (c *client) monitorLoop() {
	watch := c.startWatch()
	for {
		select {
		case line := <-c.monitorCh:
			c.out = append(c.out, line...)
			for len(c.out) < flushAt {
				select {
				case more := <-c.monitorCh:
					c.out = append(c.out, more...)
					continue
				default:
				}
				break
			}
			if !c.flush() {
				c.stopWatch(watch)
				return
			}
		case r := <-watch:
			if r.n > 0 {
				c.rd.w += r.n
			}
			if r.err != nil || r.n == 0 {
				return
			}
			// A monitor may still send QUIT or RESET.
			for {
				args, err := c.rd.next()
				if err != nil || args == nil {
					break
				}
				switch cmd := lookup(args[0]); cmd {
				case commands["quit"]:
					c.ok()
					c.flush()
					return
				case commands["reset"]:
					cmdReset(c, args)
					c.flush()
					c.serveAfterMonitor()
					return
				}
			}
			watch = c.startWatch()
		case <-c.s.done:
			c.stopWatch(watch)
			return
		}
	}
}

// serveAfterMonitor resumes normal service after RESET ended a monitor.
func (c *client) serveAfterMonitor() {
	for {
		if !c.runBuffered() || !c.flush() || c.closeAfterReply {
			return
		}
		buf, err := c.rd.room()
		if err != nil {
			return
		}
		n, err := c.conn.Read(buf)
		c.rd.w += n
		if err != nil {
			return
		}
	}
}
