package command

func init() {
	register(
		&command{name: "multi", fn: cmdMulti, arity: 1, flags: flagNoTx | flagNoMulti | flagNoScript | flagLoading | flagStale | flagFast | flagAllowBusy,
			group: "transactions", since: "1.2.0", summary: "Mark the start of a transaction block", complexity: "O(1)"},
		&command{name: "exec", fn: cmdExec, arity: 1, flags: flagNoTx | flagNoMulti | flagNoScript | flagLoading | flagStale | flagNoSlowlog,
			group: "transactions", since: "1.2.0", summary: "Execute all commands issued after MULTI", complexity: "Depends on commands in the transaction"},
		&command{name: "discard", fn: cmdDiscard, arity: 1, flags: flagNoTx | flagNoMulti | flagNoScript | flagLoading | flagStale | flagFast | flagAllowBusy,
			group: "transactions", since: "2.0.0", summary: "Discard all commands issued after MULTI", complexity: "O(N), when N is the number of queued commands"},
		&command{name: "watch", fn: cmdWatch, arity: -2, flags: flagNoMulti | flagNoScript | flagLoading | flagStale | flagFast | flagAllowBusy, firstKey: 1, lastKey: -1, step: 1,
			group: "transactions", since: "2.2.0", summary: "Watch the given keys to determine execution of the MULTI/EXEC block", complexity: "O(1) for every key."},
		&command{name: "unwatch", fn: cmdUnwatch, arity: 1, flags: flagNoScript | flagLoading | flagStale | flagFast | flagAllowBusy,
			group: "transactions", since: "2.2.0", summary: "Forget about all watched keys", complexity: "O(1)"},
	)
}

func cmdMulti(c *Session, args [][]byte) {
	if c.multi {
		c.errorReply(msgMultiNested)
		return
	}
	c.multi = true
	c.flags.Or(FlagMulti)
	c.ok()
}

// endMulti leaves MULTI state and forgets watched keys (tx may be nil).
func (c *Session) endMulti() {
	c.multi, c.multiDirty, c.multiOOM = false, false, false
	clear(c.queued)
	c.queued = c.queued[:0]
	c.multiLen.Store(0)
	clear(c.queuedArgs)
	c.queuedArgs = c.queuedArgs[:0]
	if cap(c.queuedBuf) > 64<<10 {
		c.queuedBuf = nil // give back a big transaction's memory
	} else {
		c.queuedBuf = c.queuedBuf[:0]
	}
	if cap(c.queuedArgs) > 4096 {
		c.queuedArgs = nil
	}
	c.flags.And(^FlagMulti)
	if c.watch.Watching() {
		if c.tx != nil {
			c.tx.Unwatch(&c.watch)
		} else {
			tx := c.core.ks.Begin()
			tx.Unwatch(&c.watch)
			tx.End()
		}
	}
}

func cmdDiscard(c *Session, args [][]byte) {
	if !c.multi {
		c.errorReply(msgDiscardNoMult)
		return
	}
	c.endMulti()
	c.ok()
}

// cmdExec runs the queued commands in one keyspace Tx, so no other client
// sees them half done and the log gets them between MULTI and EXEC.
func cmdExec(c *Session, args [][]byte) {
	if !c.multi {
		c.errorReply(msgExecNoMulti)
		return
	}
	if c.multiDirty {
		c.errorReply(msgExecAbort)
		c.endMulti()
		return
	}
	c.tx = c.core.ks.Begin()
	if c.tx.Dirty(&c.watch) {
		c.endMulti()
		c.nullArray()
		c.tx.End()
		c.tx = nil
		return
	}
	c.tx.Atomic()
	c.inExec = true
	c.array(len(c.queued))
	for _, q := range c.queued {
		c.call(q.cmd, q.args)
	}
	c.inExec = false
	c.endMulti()
	if t := c.tx.End(); t != 0 {
		c.ticket = t
	}
	c.tx = nil
}

func cmdWatch(c *Session, args [][]byte) {
	if c.multi {
		c.errorReply(msgWatchInMulti)
		return
	}
	for _, k := range args[1:] {
		c.tx.Watch(&c.watch, c.db, k)
	}
	c.ok()
}

func cmdUnwatch(c *Session, args [][]byte) {
	c.tx.Unwatch(&c.watch)
	c.ok()
}
