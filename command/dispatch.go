package command

import (
	"strings"
	"time"
)

// truncate is C's "%.*s" with precision n: at most n bytes, and nothing
// from the first NUL on ("a\x00b" quotes as 'a', as in Redis's errors).
func truncate(b []byte, n int) string {
	b = cString(b)
	if len(b) > n {
		b = b[:n]
	}
	return string(b)
}

// Dispatch runs one command: lookup, arity, the checks Redis's
// processCommand makes in the same order, queueing inside MULTI, and then
// the handler, inside a keyspace Tx unless the command needs none.
func (c *Session) Dispatch(args [][]byte) {
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
	if c.core.ks.MaxMemory() > 0 && c.deniedOnOOM(cmd) && c.core.ks.OverLimit() {
		c.reject(cmd, msgOOM)
		return
	}
	if cmd.flags&flagDenyOOM != 0 || (cmd.name == "exec" && c.multiOOM) {
		if err := c.core.ks.LogErr(); err != nil {
			c.reject(cmd, msgMisconfPrefix+rootCause(err))
			return
		}
	}
	if c.core.loading.Load() && cmd.flags&flagLoading == 0 {
		c.reject(cmd, msgLoading)
		return
	}
	if c.core.admin.pausing.Load() {
		if _, _, paused := c.pausedFor(cmd); paused {
			// The transport goes on serving the others (one of them may
			// send CLIENT UNPAUSE) while this one waits; then the command
			// runs from a copy of its arguments.
			cp := copyArgs(args)
			c.conn.Suspend(func(stop <-chan struct{}) { c.waitUnpaused(cmd, stop) },
				func() { c.Dispatch(cp) })
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
func (c *Session) deniedOnOOM(cmd *command) bool {
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
func (c *Session) reject(cmd *command, msg string) {
	if cmd != nil {
		c.core.statsOf(cmd).rejected.Add(1)
	}
	c.core.Stats.ErrorReplies.Add(1)
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
func (c *Session) call(cmd *command, args [][]byte) {
	start := MonoNow()
	c.failed = false
	if cmd.flags&flagNoTx != 0 || c.tx != nil {
		cmd.fn(c, args)
	} else {
		c.tx = c.core.ks.Begin()
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
	if c.core.monitors.Load() > 0 && cmd.flags&(flagNoMonitor|flagAdmin) == 0 {
		c.core.feedMonitors(c, args)
	}
	c.account(cmd, args, start)
}

// account updates the statistics after a command ran.
func (c *Session) account(cmd *command, args [][]byte, start int64) {
	end := MonoNow()
	dur := time.Duration(end - start)
	st := c.core.statsOf(cmd)
	st.calls.Add(1)
	st.usec.Add(dur.Microseconds())
	if c.failed {
		st.failed.Add(1)
		c.core.Stats.ErrorReplies.Add(1)
	}
	c.core.Stats.Commands.Add(1)
	c.lastCmd.Store(cmd)
	c.lastActive.Store(end)
	if t := c.core.settings.slowerThan.Load(); t >= 0 && dur.Microseconds() >= t && cmd.flags&(flagBlocking|flagNoSlowlog) == 0 {
		c.core.slowlog.add(c, args, monoTime(start), dur, int(c.core.settings.slowlogLen.Load()))
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
func (c *Session) queue(cmd *command, args [][]byte) {
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
func (c *Session) selectDB(i int) {
	c.db = i
	c.sharedDB.Store(int32(i))
}
