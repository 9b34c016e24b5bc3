package command

import (
	"strings"

	"mullet/queue"
)

// COMMAND and its subcommands, in Redis 7.0's reply formats. What they
// say about a command beyond its registration comes from
// cmd_command_meta.go.

func init() {
	const std = flagNoTx | flagLoading | flagStale
	register(&command{name: "command", fn: cmdCommand, arity: -1, flags: std,
		group: "server", since: "2.8.13", summary: "Get array of Redis command details", complexity: "O(N) where N is the total number of Redis commands"})
	subcommands("command",
		&command{name: "count", fn: cmdCommandCount, arity: 2, flags: std,
			since: "2.8.13", summary: "Get total number of Redis commands", complexity: "O(1)"},
		&command{name: "docs", fn: cmdCommandDocs, arity: -2, flags: std,
			since: "7.0.0", summary: "Get array of specific Redis command documentation", complexity: "O(N) where N is the number of commands to look up"},
		&command{name: "getkeys", fn: cmdCommandGetKeys, arity: -4, flags: std,
			since: "2.8.13", summary: "Extract keys given a full Redis command", complexity: "O(N) where N is the number of arguments to the command"},
		&command{name: "getkeysandflags", fn: cmdCommandGetKeys, arity: -4, flags: std,
			since: "7.0.0", summary: "Extract keys and access flags given a full Redis command", complexity: "O(N) where N is the number of arguments to the command"},
		&command{name: "info", fn: cmdCommandInfo, arity: -2, flags: std,
			since: "2.8.13", summary: "Get array of specific Redis command details, or all when no argument is given.", complexity: "O(N) where N is the number of commands to look up"},
		&command{name: "list", fn: cmdCommandList, arity: -2, flags: std,
			since: "7.0.0", summary: "Get an array of Redis command names", complexity: "O(N) where N is the total number of Redis commands"},
		&command{name: "help", fn: cmdCommandHelp, arity: 2, flags: std,
			since: "5.0.0", summary: "Show helpful text about the different subcommands", complexity: "O(1)"},
	)
}

// cmdCommand is COMMAND with no subcommand: every command's INFO entry.
func cmdCommand(c *Session, args [][]byte) {
	all := sortedCommands()
	c.array(len(all))
	for _, cmd := range all {
		c.commandInfo(cmd)
	}
}

func cmdCommandCount(c *Session, args [][]byte) { c.int(int64(len(commands))) }

// findCommand looks a command up by full name: "lpush" or "client|list".
func findCommand(name string) *command {
	name = strings.ToLower(name)
	parent, sub, isSub := strings.Cut(name, "|")
	cmd := commands[parent]
	if cmd == nil || !isSub {
		return cmd
	}
	return cmd.sub[sub]
}

// cmdCommandInfo answers the INFO entry of each named command, null for
// unknown names, or of every command when none is named.
func cmdCommandInfo(c *Session, args [][]byte) {
	if len(args) == 2 {
		cmdCommand(c, args)
		return
	}
	c.array(len(args) - 2)
	for _, a := range args[2:] {
		if cmd := findCommand(string(a)); cmd != nil {
			c.commandInfo(cmd)
		} else {
			c.null()
		}
	}
}

// commandInfo writes a COMMAND INFO entry: name, arity, flags, first key,
// last key, step, ACL categories, tips, key specs, subcommands.
func (c *Session) commandInfo(cmd *command) {
	meta := metaOf(cmd)
	c.array(10)
	c.bulkString(cmd.name)
	c.int(int64(cmd.arity))
	c.writeRV(meta.flags)
	c.int(int64(cmd.firstKey))
	c.int(int64(cmd.lastKey))
	c.int(int64(cmd.step))
	c.writeRV(meta.acl)
	c.writeRV(meta.tips)
	c.writeRV(meta.specs)
	if len(cmd.sub) == 0 {
		c.setLen(0) // Redis 7.0 answers an empty set here, an array when there are some
		return
	}
	subs := sortedSubcommands(cmd)
	c.array(len(subs))
	for _, sub := range subs {
		c.commandInfo(sub)
	}
}

// cmdCommandDocs answers a map of the named commands' documentation
// (unknown names are left out), or of every command when none is named.
// redis-cli asks for all of it when it starts.
func cmdCommandDocs(c *Session, args [][]byte) {
	var list []*command
	if len(args) == 2 {
		list = sortedCommands()
	} else {
		for _, a := range args[2:] {
			if cmd := findCommand(string(a)); cmd != nil {
				list = append(list, cmd)
			}
		}
	}
	c.mapLen(len(list))
	for _, cmd := range list {
		c.bulkString(cmd.name)
		c.commandDocs(cmd)
	}
}

func (c *Session) commandDocs(cmd *command) {
	meta := metaOf(cmd)
	n := len(meta.docs) / 2
	if len(cmd.sub) > 0 {
		n++
	}
	c.mapLen(n)
	for _, v := range meta.docs {
		c.writeRV(v)
	}
	if len(cmd.sub) > 0 {
		c.bulkString("subcommands")
		subs := sortedSubcommands(cmd)
		c.mapLen(len(subs))
		for _, sub := range subs {
			c.bulkString(sub.name)
			c.commandDocs(sub)
		}
	}
}

// cmdCommandList answers every command and subcommand name, or those
// matching FILTERBY MODULE name (none: there are no modules), ACLCAT
// category or PATTERN glob.
func cmdCommandList(c *Session, args [][]byte) {
	match := func(*command) bool { return true }
	switch {
	case len(args) == 2:
	case len(args) == 5 && strings.EqualFold(string(args[2]), "filterby"):
		val := args[4]
		switch strings.ToLower(string(args[3])) {
		case "module":
			match = func(*command) bool { return false }
		case "aclcat":
			cat := "@" + strings.ToLower(string(val))
			match = func(cmd *command) bool {
				for _, a := range metaOf(cmd).acl.Elems {
					if a.Str == cat {
						return true
					}
				}
				return false
			}
		case "pattern":
			match = func(cmd *command) bool { return queue.GlobMatch(val, []byte(cmd.name), true) }
		default:
			c.errorReply(msgSyntax)
			return
		}
	default:
		c.errorReply(msgSyntax)
		return
	}
	var names []string
	for _, cmd := range sortedCommands() {
		if match(cmd) {
			names = append(names, cmd.name)
		}
		for _, sub := range sortedSubcommands(cmd) {
			if match(sub) {
				names = append(names, sub.name)
			}
		}
	}
	c.array(len(names))
	for _, n := range names {
		c.bulkString(n)
	}
}

// cmdCommandGetKeys is COMMAND GETKEYS and GETKEYSANDFLAGS: the keys of a
// full command line, found with its key specs as Redis 7.0 finds them, and
// with GETKEYSANDFLAGS the flags of the spec that found each.
func cmdCommandGetKeys(c *Session, args [][]byte) {
	withFlags := strings.EqualFold(string(args[1]), "getkeysandflags")
	line := args[2:]
	cmd := lookup(line[0])
	if cmd != nil && cmd.sub != nil {
		cmd = nil
		if len(line) >= 2 {
			cmd = commands[strings.ToLower(string(line[0]))].lookupSub(line[1])
		}
	}
	if cmd == nil {
		c.errorReply("ERR Invalid command specified")
		return
	}
	meta := metaOf(cmd)
	if len(meta.keySpecs) == 0 {
		c.errorReply("ERR The command has no key arguments")
		return
	}
	if !cmd.checkArity(len(line)) {
		c.errorReply("ERR Invalid number of arguments specified for command")
		return
	}
	pos, flags, ok := meta.keyPositions(line)
	if cmd.name == "sort" || cmd.name == "sort_ro" {
		// SORT's BY/GET and STORE key specs are "unknown", so Redis
		// asks its getkeys procs instead.
		ok = true
		pos, flags = sortKeyPositions(line, cmd.name == "sort_ro", meta.keySpecs[0].flags.Kind)
	}
	if !ok || len(pos) == 0 {
		if hasFlag(meta.flags, "no_mandatory_keys") {
			c.array(0)
			return
		}
		c.errorReply("ERR Invalid arguments specified for command")
		return
	}
	if cmd.name == "set" && len(flags) == 1 {
		// SET's key spec has variable_flags, so Redis asks its
		// setGetKeys instead, whose flags depend on a GET option.
		flags[0] = setKeyFlags(line, flags[0].Kind)
	}
	c.array(len(pos))
	for i, p := range pos {
		if withFlags {
			c.array(2)
			c.bulk(line[p])
			c.writeRV(flags[i])
		} else {
			c.bulk(line[p])
		}
	}
}

// sortKeyPositions is Redis 7.0's sortGetKeys (sortROGetKeys for
// SORT_RO): the sorted key, RO access, and the key after the last STORE,
// OW update, scanning options as Redis does (LIMIT skips two arguments,
// GET and BY one, anything else none; names compare as C strings).
func sortKeyPositions(line [][]byte, readonly bool, kind byte) ([]int, []rv) {
	flagsOf := func(names ...string) rv {
		v := rv{Kind: kind}
		for _, n := range names {
			v.Elems = append(v.Elems, rv{Kind: '+', Str: n})
		}
		return v
	}
	pos, flags := []int{1}, []rv{flagsOf("RO", "access")}
	if readonly {
		return pos, flags
	}
	store := 0
	for i := 2; i < len(line); i++ {
		switch a := string(cString(line[i])); {
		case strings.EqualFold(a, "limit"):
			i += 2
		case strings.EqualFold(a, "store") && i+1 < len(line):
			store = i + 1
		case strings.EqualFold(a, "get"), strings.EqualFold(a, "by"):
			i++
		}
	}
	if store > 0 {
		pos, flags = append(pos, store), append(flags, flagsOf("OW", "update"))
	}
	return pos, flags
}

// setKeyFlags is Redis 7.0's setGetKeys: the key is RW access update if
// an argument after the value is GET (as C compares it: up to a NUL),
// else OW update.
func setKeyFlags(line [][]byte, kind byte) rv {
	names := []string{"OW", "update"}
	for _, a := range line[3:] {
		if strings.EqualFold(string(cString(a)), "get") {
			names = []string{"RW", "access", "update"}
			break
		}
	}
	v := rv{Kind: kind}
	for _, n := range names {
		v.Elems = append(v.Elems, rv{Kind: '+', Str: n})
	}
	return v
}

func hasFlag(set rv, name string) bool {
	for _, f := range set.Elems {
		if f.Str == name {
			return true
		}
	}
	return false
}

func cmdCommandHelp(c *Session, args [][]byte) {
	c.help("COMMAND", []string{
		"(no subcommand)",
		"    Return details about all Redis commands.",
		"COUNT",
		"    Return the total number of commands in this Redis server.",
		"LIST",
		"    Return a list of all commands in this Redis server.",
		"INFO [<command-name> ...]",
		"    Return details about multiple Redis commands.",
		"    If no command names are given, documentation details for all",
		"    commands are returned.",
		"DOCS [<command-name> ...]",
		"    Return documentation details about multiple Redis commands.",
		"    If no command names are given, documentation details for all",
		"    commands are returned.",
		"GETKEYS <full-command>",
		"    Return the keys from a full Redis command.",
		"GETKEYSANDFLAGS <full-command>",
		"    Return the keys and the access flags from a full Redis command.",
	})
}
