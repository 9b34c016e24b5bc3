package command

import (
	"strconv"
	"time"

	"mullet/internal/sdsargs"
)

func init() {
	register(&command{name: "monitor", fn: cmdMonitor, arity: 1, flags: flagNoTx | flagAdmin | flagNoScript | flagLoading | flagStale,
		group: "server", since: "1.0.0", summary: "Listen for all requests received by the server in real time", complexity: ""})
}

func cmdMonitor(c *Session, args [][]byte) {
	if c.multi {
		c.errorReply("ERR MONITOR isn't allowed inside a transaction")
		return
	}
	if c.flags.Load()&FlagMonitor != 0 {
		c.ok()
		return
	}
	c.flags.Or(FlagMonitor)
	c.conn.Monitor(true)
	c.ok()
}

// redacted replaces a secret argument in what MONITOR and SLOWLOG show.
var redacted = []byte("(redacted)")

// redactArg hides args[i] from MONITOR and SLOWLOG, as Redis 7.0's
// redactClientCommandArgument does: the handler calls it once it has
// parsed the secret (and read it: args[i] no longer holds it), and call
// feeds the monitors and the slow log with what args then hold. Redis
// redacts only what the handler reached, so a command refused before it
// parsed its secret (AUTH a b c: a syntax error) shows it, as in Redis.
func redactArg(args [][]byte, i int) {
	args[i] = redacted
}

// feedMonitors sends a command line to every MONITOR client, in Redis's
// format: +<unix time with microseconds> [<db> <addr>] "arg" "arg" ...
func (s *Core) feedMonitors(c *Session, args [][]byte) {
	now := time.Now()
	line := make([]byte, 0, 64)
	line = append(line, '+')
	line = strconv.AppendInt(line, now.Unix(), 10)
	line = append(line, '.')
	us := now.Nanosecond() / 1000
	for d := 100000; d > 1; d /= 10 {
		if us < d {
			line = append(line, '0')
		}
	}
	line = strconv.AppendInt(line, int64(us), 10)
	line = append(line, " ["...)
	line = strconv.AppendInt(line, int64(c.db), 10)
	line = append(line, ' ')
	line = append(line, c.addr...)
	line = append(line, "] "...)
	for i, a := range args {
		if i > 0 {
			line = append(line, ' ')
		}
		line = sdsargs.AppendRepr(line, a)
	}
	line = append(line, "\r\n"...)
	s.host.FeedMonitors(c, line)
}
