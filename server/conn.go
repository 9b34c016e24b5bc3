package server

import (
	"errors"
	"net"
	"os"
	"runtime/debug"
	"syscall"
	"time"

	"mullet/command"
)

// flushAt is the output size past which replies are written before the
// rest of a pipeline is processed, so a long pipeline does not hold all its
// replies in memory.
const flushAt = 64 * 1024

// A client is one RESP connection: the transport of a command.Session.
// Its owner (its event loop, or its own goroutine for TLS clients and
// with event loops off) is the only one that reads from or writes to
// conn and touches its fields; other goroutines (CLIENT LIST, KILL,
// UNBLOCK, Shutdown) go through the session's shared fields or post to
// the loop.
type client struct {
	s       *Server
	conn    net.Conn
	id      int64
	addr    string
	sess    *command.Session
	rd      *reqReader
	rw      command.RESP // replies not written yet, and the output limit
	flushes uint64       // how many times rw.Buf was written: a reply mark older than that is gone

	// Output limits and deadlines (limits.go).
	writeDeadline bool      // writeOut left a write deadline set
	softSince     time.Time // event loop: when wpend went above the soft limit

	// Event-loop clients (loop_linux.go): the loop owns these.
	lp          *loop  // nil: this client has its own goroutine
	fd          int    // the loop's descriptor for the socket
	wpend       []byte // replies the socket has not taken yet
	waiting     bool   // blocked in a blocking command
	blockGen    uint64 // which block a timeout belongs to
	blockTimer  *time.Timer
	scheduled   bool          // queued for the end of the loop's round
	durableWait bool          // replies wait for an fdatasync (appendfsync always)
	suspendStop chan struct{} // closed to end a suspended handler's wait

	monitorCh chan []byte // goroutine MONITOR clients: lines to send
}

func newClient(s *Server, conn net.Conn) *client {
	c := &client{
		s:    s,
		conn: conn,
		id:   s.nextID.Add(1),
		addr: conn.RemoteAddr().String(),
		rd:   newReqReader(),
		rw:   command.RESP{Buf: make([]byte, 0, readChunk), Proto: 2},
	}
	c.sess = s.core.NewSession(c, &c.rw, c.id, c.addr, conn.LocalAddr().String())
	c.rd.authed = func() bool { return !c.sess.AuthRequired() }
	return c
}

// serve is the connection's goroutine: read what the client sent, run
// every complete command, write the replies once per batch (after the log
// has what they acknowledge), and read again.
func (c *client) serve() {
	defer c.cleanup()
	defer func() {
		// A panicking handler closes its connection and is logged with its
		// stack; the server and its other clients carry on, as net/http
		// does.
		if r := recover(); r != nil {
			c.s.log.Error("panic serving client", "client", c.id, "addr", c.addr, "panic", r, "stack", string(debug.Stack()))
			c.s.core.Stats.UnexpectedErr.Add(1)
			c.sess.AbandonTx()
		}
	}()
	if !c.handshake() {
		return
	}
	for {
		if !c.runBuffered() {
			return
		}
		if !c.flush() || c.sess.CloseAfterReply() {
			return
		}
		buf, err := c.rd.room()
		if err != nil {
			c.s.log.Warn("closing client that reached max query buffer length", "client", c.id, "addr", c.addr,
				"qbuf", c.rd.pending())
			c.s.core.Stats.QueryLimited.Add(1)
			return
		}
		if t := c.s.cur().IdleTimeout; t > 0 && c.sess.Flags()&(command.FlagBlocked|command.FlagMonitor) == 0 {
			c.conn.SetReadDeadline(time.Now().Add(t))
		} else {
			// Lift a deadline set before CONFIG SET timeout 0. (An
			// interrupt cannot be lost here: Shutdown closes done
			// before interrupting, and done is checked below.)
			c.conn.SetReadDeadline(time.Time{})
		}
		select {
		case <-c.s.done:
			return
		default:
		}
		n, err := c.conn.Read(buf)
		if n > 0 {
			c.rd.w += n
			c.s.core.Stats.NetIn.Add(int64(n))
		}
		if err != nil {
			if n > 0 {
				c.runBuffered()
				c.flush()
			}
			return
		}
	}
}

// loadLimits takes the current protocol and output limits (CONFIG SET may
// have changed them) before a batch of commands.
func (c *client) loadLimits() {
	st := c.s.cur()
	c.rd.maxBulk = st.MaxBulk
	c.rd.maxQuery = st.MaxQuery
	c.rw.Limit = c.s.hardOutputLimit()
}

// nextCommand returns the next complete command in the read buffer, or nil
// when it holds none (recording the buffer's size for CLIENT LIST). After
// an error the connection must close; for a protocol error, Redis's
// "-ERR Protocol error: ..." reply is queued first.
func (c *client) nextCommand() ([][]byte, error) {
	args, err := c.rd.next()
	if err != nil {
		var pe *protoError
		if errors.As(err, &pe) {
			c.s.log.Info("protocol error from client", "client", c.id, "addr", c.addr, "err", pe.msg)
			c.sess.ReplyError("ERR " + pe.Error())
		}
		return nil, err
	}
	if args == nil {
		c.sess.SetQueryBuffer(c.rd.pending())
		return nil, nil
	}
	c.sess.BeginCommand()
	return args, nil
}

// runBuffered runs every complete command in the read buffer. It returns
// false when the connection must close.
func (c *client) runBuffered() bool {
	c.loadLimits()
	for {
		args, err := c.nextCommand()
		if err != nil {
			if errors.As(err, new(*protoError)) {
				c.flush()
			}
			return false
		}
		if args == nil {
			return true
		}
		mark, flushes := len(c.rw.Buf), c.flushes
		c.sess.Dispatch(args)
		if req := c.sess.TakeBlock(); req.Active {
			if !c.awaitBlock(req) {
				return false
			}
		}
		if c.rw.Limited {
			c.closeOverLimit("hard", c.rw.Peak)
			return false
		}
		if c.sess.RepliesOff() {
			c.discardReply(mark, flushes)
		}
		if c.sess.CloseAfterReply() || c.sess.Killed() {
			c.flush()
			return false
		}
		if c.sess.Flags()&command.FlagMonitor != 0 {
			c.flush()
			// The idle timeout does not apply to a monitor.
			c.conn.SetReadDeadline(time.Time{})
			c.monitorLoop()
			return false
		}
		if len(c.rw.Buf) >= flushAt && !c.flush() {
			return false
		}
	}
}

// flush waits until the log holds every write the pending replies
// acknowledge, then writes them. A reply never precedes the write(2) that
// hands its effect to the kernel; if the log cannot take it, the client is
// disconnected without the reply, so nothing that failed is acknowledged.
func (c *client) flush() bool {
	if c.lp != nil {
		// The loop writes at the end of its round, after one wait for
		// the whole round's log tickets.
		c.lp.schedule(c)
		return true
	}
	c.flushes++
	if t := c.sess.TakeTicket(); t != 0 {
		if err := c.s.ks.Wait(t); err != nil {
			c.s.log.Error("closing client: its writes could not be logged", "client", c.id, "err", err)
			c.rw.Buf = c.rw.Buf[:0]
			return false
		}
	}
	if len(c.rw.Buf) == 0 {
		return true
	}
	n, err := c.writeOut(c.rw.Buf)
	c.s.core.Stats.NetOut.Add(int64(n))
	c.sess.ShrinkScratch()
	if cap(c.rw.Buf) > 4*flushAt {
		c.rw.Buf = make([]byte, 0, readChunk) // give back a big reply's memory
	} else {
		c.rw.Buf = c.rw.Buf[:0]
	}
	return err == nil
}

// interrupt makes the client's goroutine notice shutdown or CLIENT KILL:
// a read in progress returns at once.
func (c *client) interrupt() {
	if c.lp != nil {
		return // the loop's shutdown closes it
	}
	c.conn.SetReadDeadline(time.Unix(1, 0))
	c.conn.SetWriteDeadline(c.s.capDrain(time.Time{}))
}

// closeSocket closes a client's socket before it was ever served.
func (c *client) closeSocket() {
	if c.lp != nil {
		closeFD(c.fd)
		return
	}
	c.conn.Close()
}

// writeAndClose sends a last line to a client that is never served.
func (c *client) writeAndClose(line string) {
	if c.lp != nil {
		writeFD(c.fd, line)
		closeFD(c.fd)
		return
	}
	go c.s.refuse(c.conn, line) // off the accept loop: see refuse
}

func (c *client) cleanup() {
	c.sess.Close()
	if c.sess.Flags()&command.FlagMonitor != 0 {
		c.s.removeMonitor(c)
	}
	c.conn.Close()
	c.s.removeClient(c)
}

// discardReply drops what the last command wrote (from mark on, unless a
// flush has sent out everything since) when CLIENT REPLY switched its
// reply off.
func (c *client) discardReply(mark int, flushes uint64) {
	if c.flushes != flushes {
		mark = 0
	}
	if mark < len(c.rw.Buf) {
		c.rw.Buf = c.rw.Buf[:mark]
	}
	c.sess.ReplyDropped()
}

// Kill closes the connection from another goroutine (command.Conn: CLIENT
// KILL, a MONITOR that fell behind).
func (c *client) Kill() {
	c.sess.MarkKilled()
	if c.lp != nil {
		c.lp.post(loopMsg{kind: msgKill, c: c})
		return
	}
	c.conn.Close()
}

// Local reports whether the client connected over loopback or a Unix
// socket: Redis's islocalClient (command.Conn).
func (c *client) Local() bool {
	switch a := c.conn.RemoteAddr().(type) {
	case *net.TCPAddr:
		return a.IP.IsLoopback()
	case *net.UnixAddr:
		return true
	}
	return false
}

// Buffers reports the client's own buffers for its CLIENT LIST line
// (command.Conn); only the connection's owner may call it.
func (c *client) Buffers() (qbuf, qbufSize, rbs, rbp int64) {
	return int64(c.rd.pending()), int64(len(c.rd.buf)), int64(cap(c.rw.Buf)), int64(len(c.rw.Buf))
}

// FD returns the connection's file descriptor, or -1 (command.Conn).
// Control takes a reference on the descriptor, so it is safe from any
// goroutine.
func (c *client) FD() int {
	if c.lp != nil {
		return c.fd
	}
	sc, ok := c.conn.(syscall.Conn)
	if !ok {
		return -1
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return -1
	}
	fd := -1
	rc.Control(func(f uintptr) { fd = int(f) })
	return fd
}

// Monitor makes the client a MONITOR client or a normal one again
// (command.Conn).
func (c *client) Monitor(on bool) {
	if !on {
		c.s.removeMonitor(c)
		return
	}
	if c.lp == nil {
		c.monitorCh = make(chan []byte, monitorBacklog)
	}
	c.s.mu.Lock()
	c.s.monitorList = append(c.s.monitorList, c)
	c.s.core.SetMonitors(len(c.s.monitorList))
	c.s.mu.Unlock()
}

// isTimeout reports a deadline error (interrupt, idle timeout).
func isTimeout(err error) bool {
	return errors.Is(err, os.ErrDeadlineExceeded)
}
