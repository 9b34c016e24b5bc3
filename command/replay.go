package server

import (
	"fmt"
	"time"

	"mullet/queue"
)

// Replay returns a function that runs one command read back from the
// append-only file, as Redis's fake AOF client does: no replies, and none
// of the checks for clients (authentication, memory, loading). SELECT,
// MULTI and EXEC work as for a client. Call it while the server is
// loading and the keyspace has no log yet, so replayed commands are not
// written again. It must not be used concurrently.
func (s *Server) Replay() func(argv [][]byte) error {
	c := &client{
		s:       s,
		resp:    2,
		authed:  true,
		waiter:  queue.NewWaiter(),
		addr:    "aof",
		created: time.Now(),
	}
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
		if c.block.active {
			// Blocking commands are never logged; if one is, it acts as
			// its non-blocking form.
			tx := s.ks.Begin()
			tx.Cancel(c.waiter)
			tx.End()
			c.block = blockReq{}
		}
		c.out = c.out[:0]
		c.ticket = 0
		return nil
	}
}

// replayCall runs a replayed command as Redis's loader does (cmd->proc on
// the fake client, not call()): no statistics, slowlog or MONITOR feed.
// Those took two clock reads per command, a third of the loading time
// where reading the clock is slow (190 ns on our CI VMs).
func (c *client) replayCall(cmd *command, args [][]byte) {
	c.failed = false
	if cmd.flags&flagNoTx != 0 || c.tx != nil {
		cmd.fn(c, args)
		return
	}
	c.tx = c.s.ks.Begin()
	cmd.fn(c, args)
	c.tx.End()
	c.tx = nil
}
