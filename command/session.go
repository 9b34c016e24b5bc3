package command

import (
	"sync"
	"sync/atomic"
	"time"

	"mullet/queue"
)

// A Session is one caller's state while it runs commands: the selected
// database, MULTI/WATCH, authentication, protocol version, name, a
// blocking request. Handlers see a Session and write replies through its
// Writer; the transport behind it (a RESP connection, AOF replay, later an
// HTTP request or a script) is reached only through Conn. A session runs
// one command at a time: only the goroutine running it touches the fields
// above "shared".
type Session struct {
	core *Core
	conn Conn
	w    Writer
	id   int64

	tx          *queue.Tx // the keyspace transaction the running handler may use
	ticket      uint64    // log ticket covering the replies written since the last TakeTicket
	db          int
	resp        int // 2 or 3
	authed      bool
	failed      bool // the running command replied with an error
	closeAfter  bool // close the connection once the reply is written (QUIT, SHUTDOWN)
	argvScratch [][]byte
	lastTicket  uint64    // log ticket of the session's last write, for WAITAOF
	replyMode   replyMode // CLIENT REPLY

	// MULTI/EXEC.
	multi      bool
	multiDirty bool
	multiOOM   bool // a queued command may add data
	queued     []queuedCmd
	queuedBuf  []byte   // arena for the queued commands' argument bytes
	queuedArgs [][]byte // arena for their argument slices
	inExec     bool
	watch      queue.Watch

	// Blocking: the handler of a blocking command registers waiter and
	// fills block; the transport waits once the command's Tx has ended.
	waiter    *queue.Waiter
	block     BlockRequest
	blockKind blockKind // reply shape of the last blocking request

	// shared: read by other goroutines (CLIENT LIST, KILL, UNBLOCK, INFO).
	addr, laddr string
	created     time.Time
	info        clientInfo
	lastCmd     atomic.Pointer[command]
	lastActive  atomic.Int64 // MonoNow() at its last command
	sharedDB    atomic.Int32
	flags       atomic.Uint32 // Flag bits
	killed      atomic.Bool
	qbuf        atomic.Int64
	multiLen    atomic.Int32 // commands queued in MULTI
}

// Conn is what a session needs from its transport. A front end that
// cannot do something (an HTTP request cannot be suspended for long, AOF
// replay has no socket) implements it as the closest meaningful thing.
type Conn interface {
	// Suspend holds the session's reply, and its further input, until
	// wait returns, then runs then to write the reply. wait runs on a
	// goroutine of its own; stop is closed when the session goes away or
	// the server stops. Replies already written go out first. Used by
	// WAITAOF and CLIENT PAUSE.
	Suspend(wait func(stop <-chan struct{}), then func())
	// Kill closes the connection from another goroutine (CLIENT KILL).
	Kill()
	// Local reports whether the peer is on this host (loopback or a Unix
	// socket): protected configuration and DEBUG allow only those.
	Local() bool
	// Buffers returns, for the session's own CLIENT LIST line, the query
	// buffer's pending bytes and size, and the reply buffer's size and
	// pending bytes.
	Buffers() (qbuf, qbufSize, rbs, rbp int64)
	// FD is the socket's descriptor, for CLIENT LIST (-1: none).
	FD() int
	// Monitor makes the connection a MONITOR client (on) or a normal one.
	Monitor(on bool)
}

// clientInfo holds the names a client sets for itself.
type clientInfo struct {
	mu      sync.Mutex
	name    string
	libName string
	libVer  string
}

// Session flags, shown by CLIENT LIST.
const (
	FlagBlocked uint32 = 1 << iota
	FlagMulti
	FlagMonitor
	FlagResp3   // the client chose RESP3 with HELLO
	FlagNoEvict // CLIENT NO-EVICT ON
	FlagNoTouch // CLIENT NO-TOUCH ON
)

type queuedCmd struct {
	cmd  *command
	args [][]byte
}

// NewSession starts a session of core with transport conn and reply
// writer w. The RESP writer, when w is one, follows the protocol HELLO
// picks. id identifies it in CLIENT LIST; addr and laddr are its peer's
// and its own address.
func (s *Core) NewSession(conn Conn, w Writer, id int64, addr, laddr string) *Session {
	c := &Session{
		core:    s,
		conn:    conn,
		w:       w,
		id:      id,
		resp:    2,
		waiter:  queue.NewWaiter(),
		addr:    addr,
		laddr:   laddr,
		created: time.Now(),
	}
	c.authed = !s.AuthRequired()
	c.lastActive.Store(MonoNow())
	return c
}

// ID returns the session's id.
func (c *Session) ID() int64 { return c.id }

// Addr returns the peer's address.
func (c *Session) Addr() string { return c.addr }

// DB returns the selected database.
func (c *Session) DB() int { return c.db }

// AuthRequired reports whether the session must authenticate before
// running commands. As in Redis, that is only while a password is set: a
// client that connected while one was set needs no AUTH once CONFIG SET
// requirepass "" removes it, and one that connected without keeps its
// access when a password is added.
func (c *Session) AuthRequired() bool {
	return !c.authed && *c.core.settings.requirepass.Load() != ""
}

// TakeTicket returns the log ticket the replies written since the last
// call acknowledge (0: none), remembering it for WAITAOF.
func (c *Session) TakeTicket() uint64 {
	t := c.ticket
	if t != 0 {
		c.lastTicket = t
		c.ticket = 0
	}
	return t
}

// Ticket returns the pending log ticket without taking it.
func (c *Session) Ticket() uint64 { return c.ticket }

// CloseAfterReply reports whether the connection closes once the replies
// are written (QUIT, SHUTDOWN, a WAITAOF whose client left).
func (c *Session) CloseAfterReply() bool { return c.closeAfter }

// SetCloseAfterReply asks the transport to close after the replies.
func (c *Session) SetCloseAfterReply() { c.closeAfter = true }

// Flags returns the session's Flag bits.
func (c *Session) Flags() uint32 { return c.flags.Load() }

// SetFlag sets or clears Flag bits.
func (c *Session) SetFlag(f uint32, on bool) {
	if on {
		c.flags.Or(f)
	} else {
		c.flags.And(^f)
	}
}

// Killed reports whether CLIENT KILL closed the session.
func (c *Session) Killed() bool { return c.killed.Load() }

// MarkKilled records that the session was killed.
func (c *Session) MarkKilled() { c.killed.Store(true) }

// SetQueryBuffer records the bytes of an unfinished request, for CLIENT
// LIST and INFO.
func (c *Session) SetQueryBuffer(n int) { c.qbuf.Store(int64(n)) }

// LastActive is the monotonic time (MonoNow) of its last command.
func (c *Session) LastActive() int64 { return c.lastActive.Load() }

// Close releases what the session holds in the keyspace (watched keys, a
// blocking wait) when its client leaves.
func (c *Session) Close() {
	if c.watch.Watching() || c.flags.Load()&FlagBlocked != 0 {
		tx := c.core.ks.Begin()
		tx.Unwatch(&c.watch)
		tx.Cancel(c.waiter)
		tx.End()
	}
}

// AbandonTx releases the keyspace lock held by a handler that panicked,
// so one bad command costs its client the connection, not every client the
// server. The Tx's half-done effects stay: they are already in the log.
func (c *Session) AbandonTx() {
	if c.tx == nil {
		return
	}
	tx := c.tx
	c.tx, c.inExec = nil, false
	defer func() {
		if r := recover(); r != nil {
			c.core.log.Error("panic ending the transaction of a panicked handler", "client", c.id, "panic", r)
		}
	}()
	tx.End()
}

// ShrinkScratch gives back the memory of a big reply's item slice (LRANGE
// of a million items keeps 24 MB of slice headers otherwise) once the
// replies are written.
func (c *Session) ShrinkScratch() {
	if cap(c.argvScratch) > 4096 {
		c.argvScratch = nil
	}
}

// over reports whether the reply passed the transport's output limit:
// the rest of it is dropped anyway.
func (c *Session) over() bool {
	r, ok := c.w.(*RESP)
	return ok && r.Limited
}

// kill closes the session's connection from another session (CLIENT KILL).
func (c *Session) kill() {
	c.killed.Store(true)
	c.conn.Kill()
}

// ReplyError writes an error reply for the transport (a protocol error),
// counted as the commands' error replies are.
func (c *Session) ReplyError(msg string) { c.errorReply(msg) }
