package server

import (
	"math"
	"net"
	"time"

	"mullet/command"
	"mullet/config"
)

// Output-buffer limits.
//
// Replies are built in c.rw.Buf while the handler runs (often under the
// keyspace lock) and written by the connection's own goroutine with
// blocking writes. A client that does not read therefore cannot make the
// server queue more replies behind the one it is stuck on: its goroutine
// waits in Write and reads no further commands. What remains to bound is
// the size of one batch of replies (LRANGE of a huge list, KEYS *) and how
// long a stalled reader may hold its goroutine and buffer. Both are
// Redis's client-output-buffer-limit for the "normal" class:
//
//   - hard: a reply batch that grows past it is dropped as it is built
//     (later replies are discarded, so memory stays near the limit) and the
//     client is closed without it, as Redis closes such a client "ASAP".
//   - soft and seconds: a client whose pending output stays above soft for
//     that long is closed. With blocking writes, pending output drops below
//     soft exactly when the first len-soft bytes have been written, so that
//     write gets a deadline of "seconds".
//
// Redis's default for normal clients is "0 0 0": no limit, which suits a
// server whose clients are trusted. mullet serves code its operators don't
// control, so when the normal class is left at 0 0 0 it applies
// defaultNormalLimit instead. To lift the limit in practice, set a very
// large hard limit (normal 1tb 0 0). CONFIG GET still shows what was
// configured.

// defaultNormalLimit is what "normal 0 0 0" means in mullet. The hard
// limit is client-query-buffer-limit's default, so a client can make the
// server hold no more for it in either direction, and it is above
// proto-max-bulk-len's default, so any value that can be stored can be
// read back. The soft limit evicts a reader that stalls on a big reply for
// a minute, the window Redis uses for its replica and pubsub classes.
var defaultNormalLimit = config.OutputBufferLimit{Hard: 1 << 30, Soft: 256 << 20, Seconds: 60}

// refuseTimeout bounds the write of a refusal (protected mode,
// maxclients).
const refuseTimeout = 5 * time.Second

// refuse sends a client the line that turns it away ("-ERR ...\r\n") and
// closes the connection. It runs in its own goroutine, with a deadline: on
// the TLS port the write first needs a handshake, and a client that never
// completes one must not stall the accept loop.
func (s *Server) refuse(conn net.Conn, line string) {
	conn.SetDeadline(time.Now().Add(refuseTimeout))
	conn.Write([]byte(line))
	conn.Close()
}

// drainGrace is how long Shutdown lets a client take its pending replies
// before its write fails and the connection closes.
const drainGrace = 2 * time.Second

// writePiece is how much of a big reply one write call carries when a
// deadline applies, so the idle timeout measures a client that stopped
// reading, not one that is reading a big reply slowly.
const writePiece = 1 << 20

// outputLimit returns the effective normal-class limit.
func (s *Server) outputLimit() config.OutputBufferLimit { return s.cur().OutputLimit }

// hardOutputLimit is c.rw.Limit for a batch: the hard limit as an int, or
// MaxInt when there is none.
func (s *Server) hardOutputLimit() int {
	h := s.outputLimit().Hard
	if h == 0 || h > math.MaxInt {
		return math.MaxInt
	}
	return int(h)
}

// closeOverLimit logs why a client over its output limit is being closed,
// in Redis's words.
func (c *client) closeOverLimit(kind string, pending int) {
	c.s.log.Warn("closing client that reached max output buffer", "client", c.id, "addr", c.addr,
		"limit", kind, "omem", pending)
	c.s.core.Stats.OutputLimited.Add(1)
}

// writeOut writes the pending replies b. A small batch to a client with
// no idle timeout is one blocking write. Otherwise the write goes in
// pieces with deadlines: the part above the soft limit must be taken
// within its seconds, and with a timeout every piece within timeout
// seconds of the last progress.
func (c *client) writeOut(b []byte) (int, error) {
	lim := c.s.outputLimit()
	var idle time.Duration
	if t := c.s.cur().IdleTimeout; t > 0 && c.sess.Flags()&command.FlagMonitor == 0 {
		idle = t
	}
	soft := int(min(lim.Soft, math.MaxInt32))
	overSoft := lim.Soft > 0 && lim.Seconds > 0 && len(b) > soft
	if !overSoft && (idle == 0 || len(b) <= writePiece) {
		if idle > 0 {
			c.conn.SetWriteDeadline(c.s.capDrain(time.Now().Add(idle)))
			c.writeDeadline = true
		} else if c.writeDeadline {
			c.clearWriteDeadline()
		}
		return c.conn.Write(b)
	}
	defer c.clearWriteDeadline()
	c.writeDeadline = true
	written := 0
	var softBy time.Time
	if overSoft {
		softBy = time.Now().Add(time.Duration(lim.Seconds) * time.Second)
	}
	for written < len(b) {
		end := min(written+writePiece, len(b))
		deadline := time.Time{}
		if idle > 0 {
			deadline = time.Now().Add(idle)
		}
		if overSoft && len(b)-written > soft {
			end = min(end, len(b)-soft)
			if deadline.IsZero() || softBy.Before(deadline) {
				deadline = softBy
			}
		}
		c.conn.SetWriteDeadline(c.s.capDrain(deadline))
		n, err := c.conn.Write(b[written:end])
		written += n
		if err != nil {
			if isTimeout(err) && overSoft && len(b)-written > soft && c.s.drainBy.Load() == 0 {
				c.closeOverLimit("soft", len(b)-written)
			}
			return written, err
		}
	}
	return written, nil
}

// clearWriteDeadline removes the deadline writeOut set; once Shutdown has
// begun it leaves the drain deadline instead, so a client that does not
// read cannot hold shutdown up.
func (c *client) clearWriteDeadline() {
	c.writeDeadline = false
	if by := c.s.drainBy.Load(); by != 0 {
		c.conn.SetWriteDeadline(time.Unix(0, by))
		return
	}
	c.conn.SetWriteDeadline(time.Time{})
}

// overOutputLimit is the event loop's check of a client whose unwritten
// replies (pending bytes) wait for the socket: past the hard limit, or
// above the soft limit for longer than its seconds. It returns which limit
// was passed, or "". Unlike a connection goroutine, the loop keeps reading
// and running a client's commands while its replies wait, as Redis does,
// so this is what bounds a client that sends and never reads.
func (c *client) overOutputLimit(pending int, now time.Time) string {
	lim := c.s.outputLimit()
	if lim.Hard > 0 && uint64(pending) > lim.Hard {
		return "hard"
	}
	if lim.Soft == 0 || lim.Seconds == 0 || uint64(pending) <= lim.Soft {
		c.softSince = time.Time{}
		return ""
	}
	if c.softSince.IsZero() {
		c.softSince = now
		return ""
	}
	if now.Sub(c.softSince) > time.Duration(lim.Seconds)*time.Second {
		return "soft"
	}
	return ""
}

// capDrain returns the earlier of deadline (zero: none) and Shutdown's
// drain deadline, if Shutdown has begun.
func (s *Server) capDrain(deadline time.Time) time.Time {
	if by := s.drainBy.Load(); by != 0 {
		if d := time.Unix(0, by); deadline.IsZero() || d.Before(deadline) {
			return d
		}
	}
	return deadline
}

// beginDrain starts Shutdown's grace period for pending replies.
func (s *Server) beginDrain() {
	s.drainBy.Store(time.Now().Add(drainGrace).UnixNano())
}
