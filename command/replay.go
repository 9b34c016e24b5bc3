package command

import "fmt"

// Replay returns a function that runs one command read back from the
// append-only file, as Redis's fake AOF client does: no replies, and none
// of the checks for clients (authentication, memory, loading). SELECT,
// MULTI and EXEC work as for a client. Call it while the core is loading
// and the keyspace has no log yet, so replayed commands are not written
// again. It must not be used concurrently.
//
// Replay is a front end like a RESP connection: its session has a
// transport that has nothing to wait for or close (replayConn) and a
// Writer that drops the replies.
func (s *Core) Replay() func(argv [][]byte) error {
	c := s.NewSession(replayConn{}, Discard{}, 0, "aof", "")
	c.authed = true
	return func(argv [][]byte) error {
		if len(argv) == 0 {
			return nil
		}
		cmd := lookup(argv[0])
		if cmd != nil && cmd.sub != nil && len(argv) >= 2 {
			cmd = cmd.lookupSub(argv[1])
		}
		if cmd == nil {
			return fmt.Errorf("unknown command '%s' reading the append only file", argv[0])
		}
		if !cmd.checkArity(len(argv)) {
			return fmt.Errorf("wrong number of arguments for '%s' reading the append only file", cmd.name)
		}
		if c.multi && cmd.flags&flagNoMulti == 0 {
			c.queue(cmd, argv)
		} else {
			c.replayCall(cmd, argv)
		}
		if c.TakeBlock().Active {
			// Blocking commands are never logged; if one is, it acts as
			// its non-blocking form.
			c.CancelBlock()
		}
		c.ticket = 0
		return nil
	}
}

// replayCall runs a replayed command as Redis's loader does (cmd->proc on
// the fake client, not call()): no statistics, slowlog or MONITOR feed.
// Those took two clock reads per command, a third of the loading time
// where reading the clock is slow (190 ns on our CI VMs).
func (c *Session) replayCall(cmd *command, args [][]byte) {
	c.failed = false
	if cmd.flags&flagNoTx != 0 || c.tx != nil {
		cmd.fn(c, args)
		return
	}
	c.tx = c.core.ks.Begin()
	cmd.fn(c, args)
	c.tx.End()
	c.tx = nil
}

// replayConn is the transport of the replay session: nothing waits
// (a CLIENT PAUSE or WAITAOF in the file answers at once), nothing closes.
type replayConn struct{}

func (replayConn) Suspend(wait func(stop <-chan struct{}), then func()) {
	stop := make(chan struct{})
	close(stop)
	wait(stop)
	then()
}
func (replayConn) Kill()                                     {}
func (replayConn) Local() bool                               { return true }
func (replayConn) Buffers() (qbuf, qbufSize, rbs, rbp int64) { return 0, 0, 0, 0 }
func (replayConn) FD() int                                   { return -1 }
func (replayConn) Monitor(bool)                              {}
