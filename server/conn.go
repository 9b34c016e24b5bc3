package server

import (
	"errors"
	"net"
	"os"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"mullet/queue"
)

// flushAt is the output size past which replies are written before the
// rest of a pipeline is processed, so a long pipeline does not hold all its
// replies in memory.
const flushAt = 64 * 1024

// A client is one connection and its state. Its goroutine (serve) is the
// only one that reads from or writes to conn and touches the fields above
// "shared"; other goroutines (CLIENT LIST, KILL, UNBLOCK, Shutdown) use only
// the shared fields.
type client struct {
	s    *Server
	conn net.Conn
	id   int64
	rd   *reqReader
	out  []byte

	tx              *queue.Tx // the keyspace transaction the running handler may use
	ticket          uint64    // log ticket covering every reply in out
	db              int
	resp            int // 2 or 3
	authed          bool
	failed          bool // the running command replied with an error
	closeAfterReply bool
	argvScratch     [][]byte
	lastTicket      uint64    // log ticket of the client's last write, for WAITAOF
	replyMode       replyMode // CLIENT REPLY
	flushes         uint64    // how many times out was written: a reply mark older than that is gone

	// MULTI/EXEC.
	multi      bool
	multiDirty bool
	multiOOM   bool // a queued command may add data
	queued     []queuedCmd
	queuedBuf  []byte   // arena for the queued commands' argument bytes
	queuedArgs [][]byte // arena for their argument slices
	inExec     bool
	watch      queue.Watch

	// Blocking: the handler of a blocking command fills block and
	// registers waiter; serve waits after the Tx ends.
	waiter *queue.Waiter
	block  blockReq

	// Output limits and deadlines (limits.go).
	outHard       int       // hard output-buffer limit for this batch; 0: not set
	outLimited    bool      // a reply passed outHard: the client closes without it
	outPeak       int       // size of c.out when it passed outHard
	writeDeadline bool      // writeOut left a write deadline set
	softSince     time.Time // event loop: when wpend went above the soft limit

	// Event-loop clients (loop_linux.go): the loop owns these.
	lp          *loop  // nil: this client has its own goroutine
	fd          int    // the loop's descriptor for the socket
	wpend       []byte // replies the socket has not taken yet
	waiting     bool   // blocked in a blocking command
	blockKind   blockKind
	blockGen    uint64 // which block a timeout belongs to
	blockTimer  *time.Timer
	scheduled   bool          // queued for the end of the loop's round
	durableWait bool          // replies wait for an fdatasync (appendfsync always)
	suspendStop chan struct{} // closed to end a suspended handler's wait

	// shared: read by other goroutines.
	addr, laddr string
	created     time.Time
	info        clientInfo
	lastCmd     atomic.Pointer[command]
	lastActive  atomic.Int64 // monoNow() at its last command
	sharedDB    atomic.Int32
	flags       atomic.Uint32 // clientFlag bits
	killed      atomic.Bool
	qbuf        atomic.Int64
	multiLen    atomic.Int32 // commands queued in MULTI
	monitorCh   chan []byte
}

// clientInfo holds the names a client sets for itself.
type clientInfo struct {
	mu      sync.Mutex
	name    string
	libName string
	libVer  string
}

// Client flags shown by CLIENT LIST.
const (
	cfBlocked uint32 = 1 << iota
	cfMulti
	cfMonitor
	cfResp3   // the client chose RESP3 with HELLO
	cfNoEvict // CLIENT NO-EVICT ON
	cfNoTouch // CLIENT NO-TOUCH ON
)

type queuedCmd struct {
	cmd  *command
	args [][]byte
}

func newClient(s *Server, conn net.Conn) *client {
	c := &client{
		s:       s,
		conn:    conn,
		id:      s.nextID.Add(1),
		rd:      newReqReader(),
		out:     make([]byte, 0, readChunk),
		resp:    2,
		waiter:  queue.NewWaiter(),
		addr:    conn.RemoteAddr().String(),
		laddr:   conn.LocalAddr().String(),
		created: time.Now(),
	}
	c.authed = *s.settings.requirepass.Load() == ""
	c.rd.authed = func() bool { return !c.authRequired() }
	c.lastActive.Store(monoNow())
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
			c.s.stats.unexpectedErr.Add(1)
			c.abandonTx()
		}
	}()
	if !c.handshake() {
		return
	}
	for {
		if !c.runBuffered() {
			return
		}
		if !c.flush() || c.closeAfterReply {
			return
		}
		buf, err := c.rd.room()
		if err != nil {
			c.s.log.Warn("closing client that reached max query buffer length", "client", c.id, "addr", c.addr,
				"qbuf", c.rd.pending())
			c.s.stats.queryLimited.Add(1)
			return
		}
		if t := c.s.settings.timeout.Load(); t > 0 && c.flags.Load()&(cfBlocked|cfMonitor) == 0 {
			c.conn.SetReadDeadline(time.Now().Add(time.Duration(t) * time.Second))
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
			c.s.stats.netIn.Add(int64(n))
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
	c.rd.maxBulk = c.s.settings.maxBulk.Load()
	c.rd.maxQuery = c.s.settings.maxQuery.Load()
	c.outHard = c.s.hardOutputLimit()
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
			c.errorReply("ERR " + pe.Error())
		}
		return nil, err
	}
	if args == nil {
		c.qbuf.Store(int64(c.rd.pending()))
		return nil, nil
	}
	if c.replyMode == replySkipNext {
		c.replyMode = replySkip
	}
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
		mark, flushes := len(c.out), c.flushes
		c.dispatch(args)
		if c.block.active {
			if !c.awaitBlock() {
				return false
			}
		}
		if c.outLimited {
			c.closeOverLimit("hard", c.outPeak)
			return false
		}
		if c.replyMode != replyOn {
			c.discardReply(mark, flushes)
		}
		if c.closeAfterReply || c.killed.Load() {
			c.flush()
			return false
		}
		if c.flags.Load()&cfMonitor != 0 {
			c.flush()
			// The idle timeout does not apply to a monitor.
			c.conn.SetReadDeadline(time.Time{})
			c.monitorLoop()
			return false
		}
		if len(c.out) >= flushAt && !c.flush() {
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
	if c.ticket != 0 {
		c.lastTicket = c.ticket
		err := c.s.ks.Wait(c.ticket)
		c.ticket = 0
		if err != nil {
			c.s.log.Error("closing client: its writes could not be logged", "client", c.id, "err", err)
			c.out = c.out[:0]
			return false
		}
	}
	if len(c.out) == 0 {
		return true
	}
	n, err := c.writeOut(c.out)
	c.s.stats.netOut.Add(int64(n))
	c.shrinkScratch()
	if cap(c.out) > 4*flushAt {
		c.out = make([]byte, 0, readChunk) // give back a big reply's memory
	} else {
		c.out = c.out[:0]
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

// kill closes the connection from another goroutine (CLIENT KILL).
func (c *client) kill() {
	c.killed.Store(true)
	if c.lp != nil {
		c.lp.post(loopMsg{kind: msgKill, c: c})
		return
	}
	c.conn.Close()
}

func (c *client) cleanup() {
	if c.watch.Watching() || c.flags.Load()&cfBlocked != 0 {
		tx := c.s.ks.Begin()
		tx.Unwatch(&c.watch)
		tx.Cancel(c.waiter)
		tx.End()
	}
	if c.flags.Load()&cfMonitor != 0 {
		c.s.removeMonitor(c)
	}
	c.conn.Close()
	c.s.removeClient(c)
}

// abandonTx releases the keyspace lock held by a handler that panicked,
// so one bad command costs its client the connection, not every client the
// server. The Tx's half-done effects stay: they are already in the log.
func (c *client) abandonTx() {
	if c.tx == nil {
		return
	}
	tx := c.tx
	c.tx, c.inExec = nil, false
	defer func() {
		if r := recover(); r != nil {
			c.s.log.Error("panic ending the transaction of a panicked handler", "client", c.id, "panic", r)
		}
	}()
	tx.End()
}

// truncate is C's "%.*s" with precision n: at most n bytes, and nothing
// from the first NUL on ("a\x00b" quotes as 'a', as in Redis's errors).
func truncate(b []byte, n int) string {
	b = cString(b)
	if len(b) > n {
		b = b[:n]
	}
	return string(b)
}

// dispatch runs one command: lookup, arity, the checks Redis's
// processCommand makes in the same order, queueing inside MULTI, and then
// the handler, inside a keyspace Tx unless the command needs none.
func (c *client) dispatch(args [][]byte) {
	cmd := lookup(args[0])
	if cmd != nil && cmd.sub != nil && len(args) >= 2 {
		sub := cmd.lookupSub(args[1])
		if sub == nil {
			c.reject(nil, "ERR unknown subcommand '"+truncate(args[1], 128)+"'. Try "+strings.ToUpper(cmd.name)+" HELP.")
			return
		}
		cmd = sub
	}
	if cmd == nil {
		// Redis: for each arg while len(args) < 128: "'%.*s' " with
		// 128-len(args) as the precision.
		var sb strings.Builder
		for _, a := range args[1:] {
			n := sb.Len()
			if n >= 128 {
				break
			}
			sb.WriteByte('\'')
			sb.WriteString(truncate(a, 128-n))
			sb.WriteString("' ")
		}
		c.reject(nil, "ERR unknown command '"+truncate(args[0], 128)+"', with args beginning with: "+sb.String())
		return
	}
	if !cmd.checkArity(len(args)) {
		c.reject(cmd, errArity(cmd.name))
		return
	}
	if cmd.flags&flagNoAuth == 0 && c.authRequired() {
		c.reject(cmd, msgNoAuth)
		return
	}
	queueing := c.multi && cmd.flags&flagNoMulti == 0
	if c.s.ks.MaxMemory() > 0 && c.deniedOnOOM(cmd) && c.s.ks.OverLimit() {
		c.reject(cmd, msgOOM)
		return
	}
	if cmd.flags&flagDenyOOM != 0 || (cmd.name == "exec" && c.multiOOM) {
		if err := c.s.ks.LogErr(); err != nil {
			c.reject(cmd, msgMisconfPrefix+rootCause(err))
			return
		}
	}
	if c.s.loading.Load() && cmd.flags&flagLoading == 0 {
		c.reject(cmd, msgLoading)
		return
	}
	if c.s.admin.pausing.Load() {
		if c.lp != nil {
			if _, _, paused := c.pausedFor(cmd); paused {
				// The loop must go on serving the others (one of them
				// may send CLIENT UNPAUSE): wait on a goroutine, then
				// run the command from a copy of its arguments.
				cp := copyArgs(args)
				c.lp.suspend(c, func(stop <-chan struct{}) { c.waitUnpaused(cmd, stop) },
					func() { c.dispatch(cp) })
				return
			}
		} else if !c.awaitPause(cmd) {
			return
		}
	}
	if queueing {
		c.queue(cmd, args)
		return
	}
	c.call(cmd, args)
}

// deniedOnOOM reports whether cmd is refused while used memory is past
// maxmemory. As in Redis 7.0's processCommand: commands that may add data
// (denyoom); EXEC of a transaction that queued one; and inside MULTI every
// command but EXEC, DISCARD, QUIT and RESET, pops included, because
// queueing takes memory without bound (and MULTI or WATCH there get -OOM
// rather than their own errors). Outside MULTI, pops, deletes and moves
// keep working, so consumers can drain a full server.
func (c *client) deniedOnOOM(cmd *command) bool {
	switch {
	case cmd.flags&flagDenyOOM != 0:
		return true
	case cmd.name == "exec":
		return c.multiOOM
	case c.multi:
		return cmd.name != "discard" && cmd.name != "quit" && cmd.name != "reset"
	}
	return false
}

// reject refuses a command before it runs, counting it as Redis does, and
// spoils an open MULTI. A refused EXEC discards the transaction and says
// why, as Redis's rejectCommand does (execCommandAbort): "EXECABORT
// Transaction discarded because of: OOM command not allowed ...".
func (c *client) reject(cmd *command, msg string) {
	if cmd != nil {
		cmd.stats.rejected.Add(1)
	}
	c.s.stats.errorReplies.Add(1)
	if cmd != nil && cmd.fn != nil && cmd.name == "exec" {
		// Redis's execCommandAbort: a refused EXEC discards the
		// transaction (and the watched keys), in MULTI or not, and says
		// why without the ERR code of the refusal.
		c.endMulti()
		c.errorReply("EXECABORT Transaction discarded because of: " + strings.TrimPrefix(msg, "ERR "))
		return
	}
	c.errorReply(msg)
	if c.multi {
		c.multiDirty = true
	}
}

// call runs a command that passed the checks.
func (c *client) call(cmd *command, args [][]byte) {
	start := monoNow()
	c.failed = false
	if cmd.flags&flagNoTx != 0 || c.tx != nil {
		cmd.fn(c, args)
	} else {
		c.tx = c.s.ks.Begin()
		cmd.fn(c, args)
		if t := c.tx.End(); t != 0 {
			c.ticket = t
		}
		c.tx = nil
	}
	// As Redis 7.0's call(): MONITOR sees a command once it ran, so with
	// its secrets redacted by the handler (redactArg), in the database it
	// left selected, and after the commands of an EXEC; admin commands
	// are not shown at all.
	if c.s.monitors.Load() > 0 && cmd.flags&(flagNoMonitor|flagAdmin) == 0 {
		c.s.feedMonitors(c, args)
	}
	c.account(cmd, args, start)
}

// account updates the statistics after a command ran.
func (c *client) account(cmd *command, args [][]byte, start int64) {
	end := monoNow()
	dur := time.Duration(end - start)
	cmd.stats.calls.Add(1)
	cmd.stats.usec.Add(dur.Microseconds())
	if c.failed {
		cmd.stats.failed.Add(1)
		c.s.stats.errorReplies.Add(1)
	}
	c.s.stats.commands.Add(1)
	c.lastCmd.Store(cmd)
	c.lastActive.Store(end)
	if t := c.s.settings.slowerThan.Load(); t >= 0 && dur.Microseconds() >= t && cmd.flags&(flagBlocking|flagNoSlowlog) == 0 {
		c.s.slowlog.add(c, args, monoTime(start), dur, int(c.s.settings.slowlogLen.Load()))
	}
}

// copyArgs copies arguments out of the read buffer into one allocation.
func copyArgs(args [][]byte) [][]byte {
	size := 0
	for _, a := range args {
		size += len(a)
	}
	buf := make([]byte, 0, size)
	cp := make([][]byte, len(args))
	for i, a := range args {
		buf = append(buf, a...)
		cp[i] = buf[len(buf)-len(a) : len(buf) : len(buf)]
	}
	return cp
}

// queue stores a command for EXEC, copying its arguments out of the read
// buffer into the client's arenas, which the next transaction reuses (a
// grown arena leaves earlier arguments in the old array, still valid).
func (c *client) queue(cmd *command, args [][]byte) {
	start := len(c.queuedArgs)
	for _, a := range args {
		c.queuedBuf = append(c.queuedBuf, a...)
		n := len(c.queuedBuf)
		c.queuedArgs = append(c.queuedArgs, c.queuedBuf[n-len(a):n:n])
	}
	c.queued = append(c.queued, queuedCmd{cmd, c.queuedArgs[start:len(c.queuedArgs):len(c.queuedArgs)]})
	c.multiLen.Store(int32(len(c.queued)))
	if cmd.flags&flagDenyOOM != 0 {
		c.multiOOM = true
	}
	c.simple("QUEUED")
}

// selectDB switches the client's database.
func (c *client) selectDB(i int) {
	c.db = i
	c.sharedDB.Store(int32(i))
}

// isTimeout reports a deadline error (interrupt, idle timeout).
func isTimeout(err error) bool {
	return errors.Is(err, os.ErrDeadlineExceeded)
}
