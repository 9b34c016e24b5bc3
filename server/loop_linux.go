//go:build linux

package server

import (
	"errors"
	"net"
	"os"
	"runtime"
	"runtime/debug"
	"slices"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"mullet/command"
)

// A loop serves plain-TCP clients the way Redis's event loop does, instead
// of one goroutine per connection: it waits for readiness on many sockets
// at once (epoll), reads each ready socket once, runs the commands, then,
// once per round, waits for the log to hold every write of the round and
// writes every reply. Per request that is one read and one write system
// call and no goroutine switch; a goroutine per connection pays a third
// read that finds nothing (EAGAIN) before it parks, two switches, and a
// scheduler wake-up (docs/durability.md, "The event loops", has the
// figures).
//
// The loop never blocks the process: its epoll descriptor is itself
// watched by Go's netpoller, so between rounds the loop's goroutine parks
// like any other and the threads stay free for the AOF writer and the
// consumer.
//
// Every field is owned by the loop's goroutine except those under mu,
// through which other goroutines post messages: a blocked client was
// served or timed out, a client is killed, a MONITOR line, shutdown.
type loop struct {
	s        *Server
	ep       int      // epoll descriptor
	epf      *os.File // ep, registered with Go's netpoller
	efd      int      // eventfd that wakes the loop for posted messages
	clients  map[int]*client
	events   []unix.EpollEvent
	pending  []*client // clients with replies to write this round
	again    []*client // clients with unprocessed input left in their buffer
	awaiting []*client // replies waiting for an fdatasync (appendfsync always)
	done     chan struct{}

	mu     sync.Mutex // guards inbox, posted, awake, stop
	inbox  []loopMsg
	posted bool // an eventfd write is outstanding
	awake  bool // the loop will look at inbox before it waits again
	stop   bool
}

type msgKind uint8

const (
	msgAdd     msgKind = iota // a new client
	msgWake                   // a blocked client's wait ended (served, unblocked)
	msgTimeout                // a blocked client's timeout fired
	msgKill                   // CLIENT KILL
	msgMonitor                // a line for a MONITOR client
	msgCron                   // once a second: idle timeouts
	msgStop                   // shutdown
	msgResume                 // a suspended handler's wait is over
	msgDurable                // the log holds writes up to gen (or failed: err)
)

type loopMsg struct {
	kind msgKind
	c    *client
	gen  uint64 // the block a timeout or resume belongs to
	line []byte
	fn   func() // msgResume: what the handler does next
	err  error  // msgDurable: the log failed
}

// busyWaitMs is how long a loop that just served requests waits for more
// inside epoll_wait before it parks (milliseconds).
const busyWaitMs = 1

// takeOver prepares a new plain-TCP client for an event loop, starting the
// loops on first use (one per thread running Go code): the loop gets its
// own descriptor for the socket. It reports false when the client must be
// served by its own goroutine instead. It runs before the client is
// registered, so nothing else sees it half set up; start hands it over.
func (s *Server) takeOver(c *client) bool {
	tc, ok := c.conn.(*net.TCPConn)
	if s.cfg.GoroutinePerConn || !ok {
		return false
	}
	s.loopsOnce.Do(func() {
		for i := 0; i < runtime.GOMAXPROCS(0); i++ {
			l, err := newLoop(s)
			if err != nil {
				s.log.Error("no event loop; serving clients with goroutines", "err", err)
				break
			}
			s.loops = append(s.loops, l)
			go l.run()
		}
		if len(s.loops) > 0 {
			s.loopCronWG.Go(s.loopCron)
		}
	})
	if len(s.loops) == 0 {
		return false
	}
	fd, err := dupSocket(tc)
	if err != nil {
		s.log.Error("event loop cannot take a socket; serving it with a goroutine", "err", err)
		return false
	}
	l := s.loops[s.nextLoop.Add(1)%uint64(len(s.loops))]
	c.lp, c.fd = l, fd
	c.sess.Waiter().Notify = func() { l.post(loopMsg{kind: msgWake, c: c}) }
	return true
}

// start gives a client prepared by takeOver to its loop.
func (c *client) start() { c.lp.post(loopMsg{kind: msgAdd, c: c}) }

// stopLoops closes every loop's clients and stops the loops. Shutdown
// calls it once done is closed.
func (s *Server) stopLoops() {
	s.loopCronWG.Wait()
	for _, l := range s.loops {
		l.shutdown()
	}
}

// loopCron asks every loop, once a second, for its periodic work (idle
// timeouts): one ticker for all the loops, which stops at shutdown.
func (s *Server) loopCron() {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			for _, l := range s.loops {
				l.post(loopMsg{kind: msgCron})
			}
		case <-s.done:
			return
		}
	}
}

func newLoop(s *Server) (*loop, error) {
	ep, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, err
	}
	efd, err := unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC)
	if err != nil {
		unix.Close(ep)
		return nil, err
	}
	if err := unix.EpollCtl(ep, unix.EPOLL_CTL_ADD, efd, &unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(efd)}); err != nil {
		unix.Close(ep)
		unix.Close(efd)
		return nil, err
	}
	if err := unix.SetNonblock(ep, true); err != nil {
		unix.Close(ep)
		unix.Close(efd)
		return nil, err
	}
	l := &loop{
		s:       s,
		ep:      ep,
		epf:     os.NewFile(uintptr(ep), "epoll"),
		efd:     efd,
		clients: make(map[int]*client),
		events:  make([]unix.EpollEvent, 256),
		done:    make(chan struct{}),
	}
	return l, nil
}

// post hands a message to the loop from any goroutine. It may be called
// with the keyspace lock held (a waiter's notify), so it only takes the
// inbox lock, and writes the eventfd only when the loop is not already due
// to look: not while a write is outstanding, nor while the loop is awake
// (it checks its inbox before it waits again; see sleep). A BRPOP served
// by a push on the same loop, the common case, so costs no eventfd write
// under the keyspace lock, no read and no extra round.
func (l *loop) post(m loopMsg) {
	l.mu.Lock()
	l.inbox = append(l.inbox, m)
	wake := !l.posted && !l.awake
	l.posted = l.posted || wake
	l.mu.Unlock()
	if wake {
		var one = [8]byte{1}
		unix.Write(l.efd, one[:])
	}
}

// run is the loop's goroutine.
func (l *loop) run() {
	defer close(l.done)
	defer unix.Close(l.efd)
	defer l.epf.Close()
	rc, err := l.epf.SyscallConn()
	if err != nil {
		l.s.log.Error("event loop cannot watch its epoll descriptor", "err", err)
		return
	}
	busy := false
	for {
		var n int
		// After a busy round, wait for the next events in epoll_wait
		// itself, for up to busyWaitMs, as Redis's loop does: at load they
		// come within microseconds, and parking in Go's netpoller costs
		// two more epoll_waits and a trip through the scheduler per round.
		// The thread sits in the kernel meanwhile; Go's sysmon
		// hands its P to other goroutines (the AOF writer, the consumer)
		// if they need it. An idle loop parks in the netpoller instead,
		// using no thread at all.
		// Not while replies wait for an fdatasync: the log's goroutines
		// need a thread to finish it and tell us, and a thread parked in
		// epoll_wait holds one until Go's sysmon takes it back.
		// Messages posted while the loop was awake wrote no eventfd (see
		// post): they are handled now, without waiting.
		waited := l.sleep()
		if waited && busy && len(l.awaiting) == 0 {
			if n, err = unix.EpollWait(l.ep, l.events, busyWaitMs); n < 0 {
				n = 0
			}
		}
		if waited && n == 0 {
			err = rc.Read(func(uintptr) bool {
				n, err = unix.EpollWait(l.ep, l.events, 0)
				return n > 0 || (err != nil && err != unix.EINTR)
			})
		}
		busy = n > 0 || !waited
		l.wake()
		if err != nil && !errors.Is(err, unix.EINTR) {
			l.s.log.Error("event loop failed", "err", err)
			l.closeAll()
			return
		}
		for i := 0; i < n; i++ {
			ev := l.events[i]
			fd := int(ev.Fd)
			if fd == l.efd {
				var b [8]byte
				unix.Read(l.efd, b[:])
				continue
			}
			c := l.clients[fd]
			if c == nil {
				continue
			}
			if ev.Events&unix.EPOLLOUT != 0 {
				l.writeMore(c)
			}
			// writeMore may have closed c, and its descriptor number may
			// already belong to a new client.
			if ev.Events&(unix.EPOLLIN|unix.EPOLLHUP|unix.EPOLLERR|unix.EPOLLRDHUP) != 0 && l.clients[fd] == c {
				l.readable(c)
			}
		}
		if l.drainInbox() {
			l.closeAll()
			return
		}
		l.endRound()
		if len(l.awaiting) > 0 {
			// Replies wait for an fdatasync (appendfsync always): let the
			// AOF writer, woken by this round's appends, write them and
			// start the fdatasync now, rather than after the next round
			// or whenever the loop runs out of events (GOMAXPROCS is
			// usually 1, and a busy loop finds events every time).
			runtime.Gosched()
		}
	}
}

// sleep reports whether the loop may wait for events: no message came
// since it drained its inbox. From then on a post writes the eventfd.
func (l *loop) sleep() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.inbox) > 0 {
		return false
	}
	l.awake = false
	return true
}

// wake marks the loop awake: it drains its inbox before it waits again,
// so a post need not write the eventfd.
func (l *loop) wake() {
	l.mu.Lock()
	l.awake = true
	l.mu.Unlock()
}

// drainInbox handles posted messages; it reports whether to stop.
func (l *loop) drainInbox() bool {
	l.mu.Lock()
	msgs := l.inbox
	l.inbox = nil
	l.posted = false
	stop := l.stop
	l.mu.Unlock()
	for _, m := range msgs {
		c := m.c
		switch m.kind {
		case msgAdd:
			if err := unix.EpollCtl(l.ep, unix.EPOLL_CTL_ADD, c.fd,
				&unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLRDHUP, Fd: int32(c.fd)}); err != nil {
				l.s.log.Error("event loop cannot watch a client", "client", c.id, "err", err)
				unix.Close(c.fd)
				c.cleanup()
				continue
			}
			l.clients[c.fd] = c
		case msgWake:
			if l.clients[c.fd] == c && c.waiting {
				l.guard(c, func() { l.unblocked(c, false) })
			}
		case msgTimeout:
			if l.clients[c.fd] == c && c.waiting && c.blockGen == m.gen {
				l.guard(c, func() { l.unblocked(c, true) })
			}
		case msgKill:
			if l.clients[c.fd] == c {
				l.close(c)
			}
		case msgMonitor:
			if l.clients[c.fd] == c {
				if len(c.wpend) > monitorMaxPending {
					// The loop's form of monitorBacklog (monitor.go).
					l.s.log.Warn("disconnecting MONITOR client that fell behind", "client", c.id, "addr", c.addr)
					l.close(c)
					continue
				}
				c.rw.Buf = append(c.rw.Buf, m.line...)
				l.schedule(c)
			}
		case msgResume:
			if l.clients[c.fd] == c && c.waiting && c.blockGen == m.gen {
				l.guard(c, func() { l.resume(c, m.fn) })
			}
		case msgDurable:
			l.durable(m.gen, m.err)
		case msgCron:
			l.cron()
		}
	}
	return stop
}

// guard runs fn, which may run a handler, closing c if it panics.
func (l *loop) guard(c *client, fn func()) {
	defer func() {
		if r := recover(); r != nil {
			c.s.log.Error("panic serving client", "client", c.id, "addr", c.addr, "panic", r, "stack", string(debug.Stack()))
			c.s.core.Stats.UnexpectedErr.Add(1)
			c.sess.AbandonTx()
			c.rw.Buf = c.rw.Buf[:0]
			l.close(c)
		}
	}()
	fn()
}

// readable reads what one socket has (one read, as Redis does per event)
// and runs the complete commands.
func (l *loop) readable(c *client) {
	buf, err := c.rd.room()
	if err != nil {
		l.s.log.Warn("closing client that reached max query buffer length", "client", c.id, "addr", c.addr,
			"qbuf", c.rd.pending())
		c.s.core.Stats.QueryLimited.Add(1)
		l.close(c)
		return
	}
	n, err := unix.Read(c.fd, buf)
	if n > 0 {
		c.rd.w += n
		c.s.core.Stats.NetIn.Add(int64(n))
	}
	if n == 0 || (err != nil && err != unix.EAGAIN && err != unix.EINTR) {
		l.close(c)
		return
	}
	if n < 0 {
		return
	}
	l.process(c)
}

// process runs the complete commands in c's buffer, stopping when one
// blocks or the client must close. A handler that panics costs its client
// the connection, logged with its stack; the loop and its other clients
// carry on, as with a goroutine per connection (net/http's rule).
func (l *loop) process(c *client) {
	defer func() {
		if r := recover(); r != nil {
			c.s.log.Error("panic serving client", "client", c.id, "addr", c.addr, "panic", r, "stack", string(debug.Stack()))
			c.s.core.Stats.UnexpectedErr.Add(1)
			c.sess.AbandonTx()
			c.rw.Buf = c.rw.Buf[:0]
			c.sess.SetCloseAfterReply()
			l.close(c)
		}
	}()
	l.processCommands(c)
}

func (l *loop) processCommands(c *client) {
	if c.waiting || c.durableWait || c.sess.Flags()&command.FlagMonitor != 0 || c.sess.CloseAfterReply() {
		return
	}
	if len(c.wpend) > 0 {
		// Replies the socket has not taken yet: run no more of this
		// client's commands until it reads them (writeMore resumes it),
		// as a connection goroutine blocked in Write does. A client that
		// pipelines and never reads then holds one batch of replies, not
		// an output-buffer limit's worth. A reply already built (a wait
		// that ended) still goes out.
		l.schedule(c)
		return
	}
	c.loadLimits()
	for {
		args, err := c.nextCommand()
		if err != nil {
			c.sess.SetCloseAfterReply()
			break
		}
		if args == nil {
			break
		}
		mark, flushes := len(c.rw.Buf), c.flushes
		c.sess.Dispatch(args)
		if c.rw.Limited {
			c.closeOverLimit("hard", c.rw.Peak)
			l.close(c)
			return
		}
		if req := c.sess.TakeBlock(); req.Active {
			l.block(c, req)
			break
		}
		if c.waiting {
			break // suspended (WAITAOF, CLIENT PAUSE): resumes on msgResume
		}
		if c.sess.RepliesOff() {
			c.discardReply(mark, flushes)
		}
		if c.sess.CloseAfterReply() || c.sess.Flags()&command.FlagMonitor != 0 {
			break
		}
		if len(c.rw.Buf) >= flushAt {
			// Write what we have this round and come back for the rest:
			// a long pipeline does not hold all its replies in memory.
			l.again = append(l.again, c)
			break
		}
	}
	l.schedule(c)
}

// schedule queues c's replies for the end of the round.
func (l *loop) schedule(c *client) {
	if !c.scheduled && (len(c.rw.Buf) > 0 || c.sess.CloseAfterReply()) {
		c.scheduled = true
		l.pending = append(l.pending, c)
	}
}

// endRound makes the round's writes durable as the fsync policy promises,
// with one wait for the whole round (group commit, as Redis writes its AOF
// buffer once before replying to everyone), then writes every reply.
func (l *loop) endRound() {
	for len(l.pending) > 0 {
		var t uint64
		for _, c := range l.pending {
			t = max(t, c.sess.Ticket())
		}
		var werr error
		durable := true
		if t != 0 {
			if l.s.ks.WaitSyncs() {
				// Under appendfsync always the wait is an fdatasync
				// (hundreds of microseconds): rather than sit through it,
				// the loop goes on serving everyone else, whose writes
				// join the next fdatasync, and these replies go out when
				// the log says this one is done (msgDurable). Redis's
				// loop blocks here; group commit across rounds is why
				// always keeps most of everysec's throughput.
				done, err := l.s.ks.Notify(t, func(err error) {
					l.post(loopMsg{kind: msgDurable, gen: t, err: err})
				})
				durable, werr = done, err
			} else {
				werr = l.s.ks.Wait(t)
			}
		}
		// Newest first, as Redis's clients_pending_write list (added at
		// its head): a client a push just served is written before the
		// pusher, whose reply nobody is waiting on as keenly: one write(2)
		// costs several microseconds, and the served client's wake-up
		// should not wait for it.
		pending := l.pending
		l.pending = nil
		for _, c := range slices.Backward(pending) {
			c.scheduled = false
			if l.clients[c.fd] != c {
				continue
			}
			if !durable && c.sess.Ticket() != 0 {
				// Its replies wait for the fdatasync, and so does the
				// rest of its input: replies stay in order.
				c.durableWait = true
				l.awaiting = append(l.awaiting, c)
				continue
			}
			l.release(c, werr)
		}
		again := l.again
		l.again = nil
		for _, c := range again {
			if l.clients[c.fd] == c {
				l.process(c)
			}
		}
	}
}

// release writes c's replies now that the writes they acknowledge are as
// durable as the policy promises, or closes c without them if the log
// failed: nothing that failed is acknowledged.
func (l *loop) release(c *client, werr error) {
	if werr != nil && c.sess.Ticket() != 0 {
		c.s.log.Error("closing client: its writes could not be logged", "client", c.id, "err", werr)
		c.rw.Buf = c.rw.Buf[:0]
		l.close(c)
		return
	}
	c.sess.TakeTicket() // remembered for WAITAOF
	l.writeOut(c)
}

// durable handles msgDurable: the log holds every write up to ticket t
// (or failed), so the clients whose replies waited for it get them, and go
// on with their input.
func (l *loop) durable(t uint64, err error) {
	keep := l.awaiting[:0]
	var ready []*client
	for _, c := range l.awaiting {
		switch {
		case l.clients[c.fd] != c:
		case c.sess.Ticket() <= t:
			ready = append(ready, c)
		default:
			keep = append(keep, c)
		}
	}
	clear(l.awaiting[len(keep):])
	l.awaiting = keep
	for _, c := range ready {
		c.durableWait = false
		l.release(c, err)
		if l.clients[c.fd] == c {
			l.process(c)
		}
	}
}

// writeOut writes c's replies without blocking; what the socket does not
// take waits for EPOLLOUT.
func (l *loop) writeOut(c *client) {
	c.flushes++ // replies marked before this are gone (CLIENT REPLY)
	if len(c.wpend) > 0 {
		c.wpend = append(c.wpend, c.rw.Buf...)
		c.rw.Buf = c.rw.Buf[:0]
		l.checkOutputLimit(c)
		return
	}
	b := c.rw.Buf
	for len(b) > 0 {
		n, err := unix.Write(c.fd, b)
		if n > 0 {
			c.s.core.Stats.NetOut.Add(int64(n))
			b = b[n:]
			continue
		}
		if err == unix.EAGAIN {
			c.wpend = append(c.wpend[:0], b...)
			unix.EpollCtl(l.ep, unix.EPOLL_CTL_MOD, c.fd,
				&unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLRDHUP | unix.EPOLLOUT, Fd: int32(c.fd)})
			break
		}
		if err == unix.EINTR {
			continue
		}
		l.close(c)
		return
	}
	if cap(c.rw.Buf) > 4*flushAt {
		c.rw.Buf = make([]byte, 0, readChunk)
	} else {
		c.rw.Buf = c.rw.Buf[:0]
	}
	if len(c.wpend) == 0 && (c.sess.CloseAfterReply() || c.sess.Killed()) {
		l.close(c)
		return
	}
	l.checkOutputLimit(c)
}

// writeMore continues a write the socket could not take at once.
func (l *loop) writeMore(c *client) {
	for len(c.wpend) > 0 {
		n, err := unix.Write(c.fd, c.wpend)
		if n > 0 {
			c.s.core.Stats.NetOut.Add(int64(n))
			c.wpend = c.wpend[n:]
			continue
		}
		if err == unix.EAGAIN {
			return
		}
		if err == unix.EINTR {
			continue
		}
		l.close(c)
		return
	}
	c.wpend = nil
	unix.EpollCtl(l.ep, unix.EPOLL_CTL_MOD, c.fd,
		&unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLRDHUP, Fd: int32(c.fd)})
	if c.sess.CloseAfterReply() {
		l.close(c)
		return
	}
	l.process(c)
}

// checkOutputLimit closes a client whose unwritten replies grew past the
// output buffer limit (limits.go): a client that never reads cannot grow
// the server.
func (l *loop) checkOutputLimit(c *client) {
	if len(c.wpend) == 0 && c.softSince.IsZero() {
		return
	}
	if kind := c.overOutputLimit(len(c.wpend), time.Now()); kind != "" {
		c.closeOverLimit(kind, len(c.wpend))
		l.close(c)
	}
}

// block arms the wait the handler registered: the keyspace's notify posts
// msgWake when it ends, a timer posts msgTimeout.
func (l *loop) block(c *client, req command.BlockRequest) {
	c.waiting = true
	c.blockGen++
	c.sess.SetFlag(command.FlagBlocked, true)
	if req.Timeout > 0 {
		gen := c.blockGen
		c.blockTimer = time.AfterFunc(req.Timeout, func() {
			l.post(loopMsg{kind: msgTimeout, c: c, gen: gen})
		})
	}
	// The waiter may have been served between the handler's Tx and now;
	// its notify posted msgWake, which the inbox delivers this round.
}

// unblocked ends a client's wait: served or unblocked (timeout false), or
// its timer fired. It writes the reply and goes on with buffered input.
func (l *loop) unblocked(c *client, timeout bool) {
	if c.blockTimer != nil {
		c.blockTimer.Stop()
		c.blockTimer = nil
	}
	served := true
	if timeout {
		served = c.sess.CancelBlock()
	}
	c.waiting = false
	c.sess.SetFlag(command.FlagBlocked, false)
	mark, flushes := len(c.rw.Buf), c.flushes
	if served {
		c.sess.ReplyServed()
	} else {
		c.sess.ReplyTimeout()
	}
	if c.sess.RepliesOff() {
		c.discardReply(mark, flushes)
	}
	l.process(c)
}

// suspend parks c, whose handler must wait for something other than a
// key (WAITAOF's fsync, CLIENT PAUSE), without stopping the loop: wait runs
// in a goroutine of its own and must return soon after stop is closed
// (the client left, the server stops); then finish runs on the loop, with
// the client as the handler left it, and c's input resumes. finish is not
// called if the client is gone.
func (l *loop) suspend(c *client, wait func(stop <-chan struct{}), finish func()) {
	c.waiting = true
	c.blockGen++
	gen := c.blockGen
	stop := make(chan struct{})
	c.suspendStop = stop
	c.sess.SetFlag(command.FlagBlocked, true)
	c.s.core.NoteSuspended(true) // counted in blocked_clients, as in Redis
	go func() {
		wait(stop)
		l.post(loopMsg{kind: msgResume, c: c, gen: gen, fn: finish})
	}()
}

// resume ends a suspension.
func (l *loop) resume(c *client, finish func()) {
	c.waiting = false
	c.suspendStop = nil
	c.s.core.NoteSuspended(false)
	c.sess.SetFlag(command.FlagBlocked, false)
	mark, flushes := len(c.rw.Buf), c.flushes
	finish()
	if c.sess.RepliesOff() {
		c.discardReply(mark, flushes)
	}
	if req := c.sess.TakeBlock(); req.Active {
		l.block(c, req)
	}
	l.schedule(c)
	if !c.waiting {
		l.process(c)
	}
}

// close ends a client: it leaves the epoll set, its socket is closed, and
// it leaves no trace in the keyspace (a served wait's items go back).
func (l *loop) close(c *client) {
	if l.clients[c.fd] != c {
		return
	}
	delete(l.clients, c.fd)
	unix.EpollCtl(l.ep, unix.EPOLL_CTL_DEL, c.fd, nil)
	if c.blockTimer != nil {
		c.blockTimer.Stop()
		c.blockTimer = nil
	}
	if c.waiting {
		if c.suspendStop != nil {
			close(c.suspendStop) // the waiting goroutine returns; its resume is dropped
			c.suspendStop = nil
			c.s.core.NoteSuspended(false)
		} else if c.sess.CancelBlock() {
			c.sess.ReturnItems()
		}
		c.waiting = false
		c.sess.SetFlag(command.FlagBlocked, false)
	}
	unix.Close(c.fd)
	c.cleanup()
}

// closeAll closes every client (shutdown).
func (l *loop) closeAll() {
	l.endRound() // replies already built go out first
	if len(l.awaiting) > 0 {
		// At shutdown, wait for the fdatasync those replies need rather
		// than leave their clients guessing.
		var t uint64
		for _, c := range l.awaiting {
			t = max(t, c.sess.Ticket())
		}
		l.durable(t, l.s.ks.Wait(t))
		l.endRound()
	}
	for _, c := range l.clients {
		l.close(c)
	}
}

// cron closes clients idle past the timeout directive (not blocked ones,
// nor monitors), and clients whose replies have waited above the soft
// output limit too long, once a second.
func (l *loop) cron() {
	for _, c := range l.clients {
		l.checkOutputLimit(c)
	}
	t := l.s.cur().IdleTimeout
	if t <= 0 {
		return
	}
	limit := command.MonoNow() - int64(t)
	for _, c := range l.clients {
		if c.waiting || c.sess.Flags()&command.FlagMonitor != 0 {
			continue
		}
		if c.sess.LastActive() < limit {
			l.close(c)
		}
	}
}

// shutdown asks the loop to close its clients and stop, and waits.
func (l *loop) shutdown() {
	l.mu.Lock()
	l.stop = true
	l.mu.Unlock()
	l.post(loopMsg{kind: msgCron})
	<-l.done
}

// dupSocket gives the loop its own descriptor for a TCP connection's
// socket, non-blocking, and closes the net.Conn.
func dupSocket(conn *net.TCPConn) (int, error) {
	rc, err := conn.SyscallConn()
	if err != nil {
		return -1, err
	}
	fd := -1
	var derr error
	if err := rc.Control(func(s uintptr) { fd, derr = unix.Dup(int(s)) }); err != nil {
		return -1, err
	}
	if derr != nil {
		return -1, derr
	}
	if err := unix.SetNonblock(fd, true); err != nil {
		unix.Close(fd)
		return -1, err
	}
	conn.Close()
	return fd, nil
}

func closeFD(fd int) { unix.Close(fd) }

func writeFD(fd int, s string) { unix.Write(fd, []byte(s)) }
