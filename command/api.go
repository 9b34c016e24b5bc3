package command

import (
	"strings"

	"mullet/queue"
)

// A Handler runs one command: it reads args (the command's name first)
// and writes its reply through the session. It runs inside a keyspace
// transaction (Session.Tx) unless its Spec says NoTx.
type Handler func(c *Session, args [][]byte)

// Spec registers a command from outside the package: a new family, or a
// test's own command. Families inside the package register their full
// description (docs, key positions) with register.
type Spec struct {
	Name  string // lower case
	Arity int    // Redis convention: N exactly, -N at least N (name included)
	Write bool   // changes data: logged, refused while paused for writes
	NoTx  bool   // the handler does not use the keyspace: runs without the lock
	Fn    Handler
}

// Register adds a command to the table of every Core and returns the
// function that removes it again. Like http.ServeMux, a duplicate name is
// a programming error and panics. Register before Cores run commands.
func Register(sp Spec) (unregister func()) {
	c := &command{name: strings.ToLower(sp.Name), fn: sp.Fn, arity: sp.Arity, group: "server", since: "0"}
	if sp.Write {
		c.flags |= flagWrite
	}
	if sp.NoTx {
		c.flags |= flagNoTx
	}
	register(c)
	return func() { delete(commands, c.name) }
}

// Info describes a registered command, for tests and documentation.
type Info struct {
	Name                    string // lower case, "client|list" for a subcommand
	Arity                   int
	FirstKey, LastKey, Step int
	Write, DenyOOM          bool
	Subcommands             []Info // sorted by name
}

// Commands returns the top-level commands, sorted by name.
func Commands() []Info {
	var out []Info
	for _, c := range sortedCommands() {
		out = append(out, infoOf(c))
	}
	return out
}

// Lookup returns the command or subcommand ("client|list") named name.
func Lookup(name string) (Info, bool) {
	name = strings.ToLower(name)
	parent, sub, ok := strings.Cut(name, "|")
	c := commands[parent]
	if c != nil && ok {
		c = c.sub[sub]
	}
	if c == nil {
		return Info{}, false
	}
	return infoOf(c), true
}

func infoOf(c *command) Info {
	in := Info{Name: c.name, Arity: c.arity, FirstKey: c.firstKey, LastKey: c.lastKey, Step: c.step,
		Write: c.flags&flagWrite != 0, DenyOOM: c.flags&flagDenyOOM != 0}
	for _, s := range sortedSubcommands(c) {
		in.Subcommands = append(in.Subcommands, infoOf(s))
	}
	return in
}

// Tx is the keyspace transaction the running handler may use (nil for a
// NoTx command outside EXEC).
func (c *Session) Tx() *queue.Tx { return c.tx }

// Writer is where the session's replies go.
func (c *Session) Writer() Writer { return c.w }
