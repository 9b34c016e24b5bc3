package server

import (
	"strings"

	"mullet/command"
)

// monitorBacklog is how many lines a MONITOR client may fall behind before
// it is disconnected: its output buffer limit, so a monitor that never
// reads cannot grow the server's memory.
const monitorBacklog = 4096

// monitorMaxPending is the same limit for a MONITOR client served by an
// event loop, in bytes of lines its socket has not taken.
const monitorMaxPending = 4 << 20

func (s *Server) removeMonitor(c *client) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, m := range s.monitorList {
		if m == c {
			s.monitorList = append(s.monitorList[:i], s.monitorList[i+1:]...)
			break
		}
	}
	s.core.SetMonitors(len(s.monitorList))
}

// FeedMonitors sends a command line to every MONITOR client but from.
func (s *Server) FeedMonitors(from *command.Session, line []byte) {
	s.mu.Lock()
	for _, m := range s.monitorList {
		if m.sess == from {
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
			m.Kill()
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
			c.rw.Buf = append(c.rw.Buf, line...)
			for len(c.rw.Buf) < flushAt {
				select {
				case more := <-c.monitorCh:
					c.rw.Buf = append(c.rw.Buf, more...)
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
				switch {
				case strings.EqualFold(string(args[0]), "quit"):
					c.sess.Dispatch(args)
					c.flush()
					return
				case strings.EqualFold(string(args[0]), "reset"):
					c.sess.Dispatch(args)
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
		if !c.runBuffered() || !c.flush() || c.sess.CloseAfterReply() {
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
