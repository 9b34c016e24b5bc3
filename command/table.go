package command

import (
	"sort"
	"strings"
	"sync/atomic"
)

// cmdFlags are the command properties the dispatcher acts on, named after
// Redis's command flags.
type cmdFlags uint32

const (
	flagWrite    cmdFlags = 1 << iota // changes data (logged)
	flagReadonly                      // reads data only
	flagDenyOOM                       // may add data: refused past maxmemory and while the AOF fails
	flagAdmin                         // administrative
	flagPubsub
	flagNoScript
	flagBlocking // may block the client
	flagLoading  // allowed while loading the AOF
	flagStale
	flagNoAuth  // allowed before AUTH
	flagFast    // O(1) or O(log N)
	flagNoTx    // the handler does not use the keyspace: run it without the lock
	flagNoMulti // runs even inside MULTI instead of being queued
	// Left out of MONITOR (Redis's skip_monitor; admin commands are too).
	flagNoMonitor
	flagAllowBusy
	// Left out of SLOWLOG (Redis's skip_slowlog: EXEC, whose commands are
	// logged one by one).
	flagNoSlowlog
)

var flagNames = []struct {
	f    cmdFlags
	name string
}{
	{flagWrite, "write"}, {flagReadonly, "readonly"}, {flagDenyOOM, "denyoom"},
	{flagAdmin, "admin"}, {flagPubsub, "pubsub"}, {flagNoScript, "noscript"},
	{flagBlocking, "blocking"}, {flagLoading, "loading"}, {flagStale, "stale"},
	{flagNoAuth, "no_auth"}, {flagFast, "fast"}, {flagAllowBusy, "allow_busy"},
}

// A command is one entry of the command table.
type command struct {
	name  string // lower case, "client|list" for subcommands
	fn    func(c *Session, args [][]byte)
	arity int // Redis convention: N exactly, -N at least N (name included)
	flags cmdFlags

	// Key positions, for COMMAND INFO and COMMAND GETKEYS.
	firstKey, lastKey, step int

	group      string // "list", "string", "generic", "connection", "server", "transactions"
	summary    string
	since      string
	complexity string

	sub map[string]*command // subcommands (CLIENT LIST, CONFIG GET, ...)

	idx int // index of its statistics in Core.stats
}

// cmdStats are the commandstats counters of one command in one Core.
// They are atomics because every connection updates them.
type cmdStats struct {
	calls    atomic.Int64
	usec     atomic.Int64
	rejected atomic.Int64
	failed   atomic.Int64
}

// commands is the command table, filled by the family files' init
// functions through register, one family per file. It is fixed once the
// package is initialized; what changes (the statistics) is per Core.
var commands = map[string]*command{}

// byIndex lists every command and subcommand by idx.
var byIndex []*command

func index(c *command) {
	c.idx = len(byIndex)
	byIndex = append(byIndex, c)
}

// register adds cmds to the table. Like http.ServeMux, a duplicate is a
// programming error and panics.
func register(cmds ...*command) {
	for _, c := range cmds {
		if _, dup := commands[c.name]; dup {
			panic("command: multiple registrations for " + c.name)
		}
		commands[c.name] = c
		index(c)
	}
}

// subcommands attaches subcommands to a container command (CLIENT, CONFIG).
func subcommands(parent string, subs ...*command) {
	p := commands[parent]
	if p.sub == nil {
		p.sub = map[string]*command{}
	}
	for _, s := range subs {
		s.name = parent + "|" + s.name
		if s.group == "" {
			s.group = p.group
		}
		p.sub[s.name[len(parent)+1:]] = s
		index(s)
	}
}

// lookup finds a command by name, case-insensitively, without allocating
// for names of up to 32 bytes.
func lookup(name []byte) *command {
	var buf [32]byte
	if len(name) > len(buf) {
		return commands[strings.ToLower(string(name))]
	}
	for i, c := range name {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		buf[i] = c
	}
	return commands[string(buf[:len(name)])]
}

// lookupSub finds a subcommand of cmd.
func (cmd *command) lookupSub(name []byte) *command {
	if cmd.sub == nil {
		return nil
	}
	return cmd.sub[strings.ToLower(string(name))]
}

// checkArity reports whether n arguments (the name included) suit cmd.
func (cmd *command) checkArity(n int) bool {
	if cmd.arity >= 0 {
		return n == cmd.arity
	}
	return n >= -cmd.arity
}

// sortedCommands returns the top-level commands by name.
func sortedCommands() []*command {
	out := make([]*command, 0, len(commands))
	for _, c := range commands {
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}

// aclCategories derives Redis's ACL categories from flags and group.
func (cmd *command) aclCategories() []string {
	var cats []string
	add := func(s string) { cats = append(cats, s) }
	if cmd.flags&flagWrite != 0 {
		add("@write")
	}
	if cmd.flags&flagReadonly != 0 {
		add("@read")
	}
	if cmd.flags&flagAdmin != 0 {
		add("@admin")
		add("@dangerous")
	}
	switch cmd.group {
	case "list":
		add("@list")
	case "string":
		add("@string")
	case "generic":
		add("@keyspace")
	case "connection":
		add("@connection")
	case "transactions":
		add("@transaction")
	}
	if cmd.flags&flagFast != 0 {
		add("@fast")
	} else {
		add("@slow")
	}
	if cmd.flags&flagBlocking != 0 {
		add("@blocking")
	}
	return cats
}
