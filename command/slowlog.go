package command

import (
	"strconv"
	"strings"
	"sync"
	"time"
)

func init() {
	register(&command{name: "slowlog", arity: -2, flags: flagNoTx | flagAdmin | flagLoading | flagStale,
		group: "server", since: "2.2.12", summary: "A container for slow log commands", complexity: "Depends on subcommand."})
	subcommands("slowlog",
		&command{name: "get", fn: cmdSlowlogGet, arity: -2, flags: flagNoTx | flagAdmin | flagLoading | flagStale,
			since: "2.2.12", summary: "Get the slow log's entries", complexity: "O(N) where N is the number of entries returned"},
		&command{name: "len", fn: cmdSlowlogLen, arity: 2, flags: flagNoTx | flagAdmin | flagLoading | flagStale,
			since: "2.2.12", summary: "Get the slow log's length", complexity: "O(1)"},
		&command{name: "reset", fn: cmdSlowlogReset, arity: 2, flags: flagNoTx | flagAdmin | flagLoading | flagStale,
			since: "2.2.12", summary: "Clear all entries from the slow log", complexity: "O(N) where N is the number of entries in the slowlog"},
		&command{name: "help", fn: cmdSlowlogHelp, arity: 2, flags: flagNoTx | flagLoading | flagStale,
			since: "6.2.0", summary: "Show helpful text about the different subcommands", complexity: "O(1)"},
	)
}

// Redis's SLOWLOG_ENTRY_MAX_ARGC and SLOWLOG_ENTRY_MAX_STRING.
const (
	slowlogMaxArgc   = 32
	slowlogMaxString = 128
)

type slowEntry struct {
	id         int64
	at         int64 // unix seconds
	usec       int64
	args       []string
	addr, name string
}

// slowlog keeps the newest entries first, like Redis's list.
type slowlog struct {
	mu      sync.Mutex
	entries []slowEntry
	nextID  int64
}

func (l *slowlog) add(c *Session, args [][]byte, start time.Time, dur time.Duration, maxLen int) {
	n := min(len(args), slowlogMaxArgc)
	e := slowEntry{at: start.Unix(), usec: dur.Microseconds(), addr: c.addr}
	c.info.mu.Lock()
	e.name = c.info.name
	c.info.mu.Unlock()
	for i := 0; i < n; i++ {
		if i == slowlogMaxArgc-1 && len(args) > slowlogMaxArgc {
			e.args = append(e.args, "... ("+strconv.Itoa(len(args)-slowlogMaxArgc+1)+" more arguments)")
			break
		}
		a := args[i]
		if len(a) > slowlogMaxString {
			e.args = append(e.args, string(a[:slowlogMaxString])+"... ("+strconv.Itoa(len(a)-slowlogMaxString)+" more bytes)")
		} else {
			e.args = append(e.args, string(a))
		}
	}
	l.mu.Lock()
	e.id = l.nextID
	l.nextID++
	l.entries = append([]slowEntry{e}, l.entries...)
	if len(l.entries) > maxLen {
		l.entries = l.entries[:max(maxLen, 0)]
	}
	l.mu.Unlock()
}

func (l *slowlog) trim(maxLen int) {
	l.mu.Lock()
	if len(l.entries) > maxLen {
		l.entries = l.entries[:max(maxLen, 0)]
	}
	l.mu.Unlock()
}

func cmdSlowlogGet(c *Session, args [][]byte) {
	count := int64(10)
	if len(args) > 3 {
		c.errorReply(errArity("slowlog|get"))
		return
	}
	if len(args) == 3 {
		n, ok := parseInt(args[2])
		if !ok || n < -1 {
			c.errorReply("ERR count should be greater than or equal to -1")
			return
		}
		count = n
	}
	l := &c.core.slowlog
	l.mu.Lock()
	entries := l.entries
	if count >= 0 && int64(len(entries)) > count {
		entries = entries[:count]
	}
	entries = append([]slowEntry(nil), entries...)
	l.mu.Unlock()
	c.array(len(entries))
	for _, e := range entries {
		c.array(6)
		c.int(e.id)
		c.int(e.at)
		c.int(e.usec)
		c.array(len(e.args))
		for _, a := range e.args {
			c.bulkString(a)
		}
		c.bulkString(e.addr)
		c.bulkString(e.name)
	}
}

func cmdSlowlogLen(c *Session, args [][]byte) {
	c.core.slowlog.mu.Lock()
	n := len(c.core.slowlog.entries)
	c.core.slowlog.mu.Unlock()
	c.int(int64(n))
}

func cmdSlowlogReset(c *Session, args [][]byte) {
	c.core.slowlog.mu.Lock()
	c.core.slowlog.entries = nil
	c.core.slowlog.mu.Unlock()
	c.ok()
}

func cmdSlowlogHelp(c *Session, args [][]byte) {
	c.help("SLOWLOG", []string{
		"GET [<count>]",
		"    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
		"    Entries are made of:",
		"    id, timestamp, time in microseconds, arguments array, client IP and port,",
		"    client name",
		"LEN",
		"    Return the length of the slowlog.",
		"RESET",
		"    Reset the slowlog.",
	})
}

// help writes a HELP reply as Redis's addReplyHelp does.
func (c *Session) help(cmd string, lines []string) {
	c.array(len(lines) + 3)
	c.simple(strings.ToUpper(cmd) + " <subcommand> [<arg> [value] [opt] ...]. Subcommands are:")
	for _, l := range lines {
		c.simple(l)
	}
	c.simple("HELP")
	c.simple("    Prints this help.")
}
