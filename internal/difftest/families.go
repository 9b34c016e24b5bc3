package difftest

// The command generators, one table per family. Each draws valid
// arguments most of the time and junk (bad options, out-of-range
// numbers, wrong types through the shared key space) the rest.

func cmd(name string, rest ...string) []string { return append([]string{name}, rest...) }

func join(parts ...[]string) []string {
	var out []string
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// setOptions draws SET's options: usually valid, sometimes conflicting
// or unknown.
func (g *Gen) setOptions() []string {
	var out []string
	for range g.r.IntN(3) {
		switch g.r.IntN(10) {
		case 0:
			out = append(out, "NX")
		case 1:
			out = append(out, "XX")
		case 2:
			out = append(out, "GET")
		case 3:
			out = append(out, "KEEPTTL")
		case 4:
			out = append(out, "EX", g.one(relSeconds...))
		case 5:
			out = append(out, "PX", g.one(relMillis...))
		case 6:
			out = append(out, "EXAT", g.one(absSeconds...))
		case 7:
			out = append(out, "PXAT", g.one(absMillis...))
		case 8:
			out = append(out, g.one("FOO", "ex", "px", "BAD\r\n"))
		case 9:
			out = append(out, "PERSIST")
		}
	}
	return out
}

func (g *Gen) getexOptions() []string {
	switch g.r.IntN(8) {
	case 0:
		return nil
	case 1:
		return cmd("EX", g.one(relSeconds...))
	case 2:
		return cmd("PX", g.one(relMillis...))
	case 3:
		return cmd("EXAT", g.one(absSeconds...))
	case 4:
		return cmd("PXAT", g.one(absMillis...))
	case 5:
		return cmd("PERSIST")
	case 6:
		return cmd("PERSIST", "EX", "100")
	}
	return cmd(g.one("KEEPTTL", "FOO", "EX"))
}

var stringCmds = []CmdGen{
	{"get", 4, func(g *Gen) []string { return cmd("GET", g.key()) }},
	{"set", 6, func(g *Gen) []string { return join(cmd("SET", g.key(), g.value()), g.setOptions()) }},
	{"setnx", 1, func(g *Gen) []string { return cmd("SETNX", g.key(), g.value()) }},
	{"setex", 1, func(g *Gen) []string { return cmd("SETEX", g.key(), g.one(relSeconds...), g.value()) }},
	{"psetex", 1, func(g *Gen) []string { return cmd("PSETEX", g.key(), g.one(relMillis...), g.value()) }},
	{"getset", 1, func(g *Gen) []string { return cmd("GETSET", g.key(), g.value()) }},
	{"getdel", 1, func(g *Gen) []string { return cmd("GETDEL", g.key()) }},
	{"getex", 2, func(g *Gen) []string { return join(cmd("GETEX", g.key()), g.getexOptions()) }},
	{"incr", 2, func(g *Gen) []string { return cmd(g.one("INCR", "DECR"), g.key()) }},
	{"incrby", 2, func(g *Gen) []string { return cmd(g.one("INCRBY", "DECRBY"), g.key(), g.integer()) }},
	{"incrbyfloat", 2, func(g *Gen) []string { return cmd("INCRBYFLOAT", g.key(), g.float()) }},
	{"mget", 2, func(g *Gen) []string { return join(cmd("MGET"), g.keys(1)) }},
	{"mset", 2, func(g *Gen) []string {
		args := cmd(g.one("MSET", "MSETNX"))
		for range 1 + g.r.IntN(3) {
			args = append(args, g.key(), g.value())
		}
		return args
	}},
	{"append", 2, func(g *Gen) []string { return cmd("APPEND", g.key(), g.value()) }},
	{"strlen", 1, func(g *Gen) []string { return cmd("STRLEN", g.key()) }},
}

func (g *Gen) index() string {
	if g.chance(4) {
		return g.integer()
	}
	return g.one("0", "1", "-1", "2", "-2", "10", "-10")
}

func (g *Gen) side() string {
	if g.chance(15) {
		return g.one("UP", "", "lefty")
	}
	return g.one("LEFT", "RIGHT", "left", "right")
}

var listCmds = []CmdGen{
	{"push", 8, func(g *Gen) []string { return join(cmd(g.one("LPUSH", "RPUSH")), []string{g.key()}, g.values(1)) }},
	{"pushx", 2, func(g *Gen) []string { return join(cmd(g.one("LPUSHX", "RPUSHX")), []string{g.key()}, g.values(1)) }},
	{"pop", 5, func(g *Gen) []string {
		args := cmd(g.one("LPOP", "RPOP"), g.key())
		if g.chance(3) {
			args = append(args, g.integer())
		}
		return args
	}},
	{"llen", 2, func(g *Gen) []string { return cmd("LLEN", g.key()) }},
	{"lrange", 4, func(g *Gen) []string { return cmd("LRANGE", g.key(), g.index(), g.index()) }},
	{"lindex", 2, func(g *Gen) []string { return cmd("LINDEX", g.key(), g.index()) }},
	{"lset", 2, func(g *Gen) []string { return cmd("LSET", g.key(), g.index(), g.value()) }},
	{"linsert", 2, func(g *Gen) []string {
		return cmd("LINSERT", g.key(), g.one("BEFORE", "AFTER", "after", "MIDDLE"), g.value(), g.value())
	}},
	{"lrem", 2, func(g *Gen) []string { return cmd("LREM", g.key(), g.index(), g.value()) }},
	{"ltrim", 2, func(g *Gen) []string { return cmd("LTRIM", g.key(), g.index(), g.index()) }},
	{"lpos", 2, func(g *Gen) []string {
		args := cmd("LPOS", g.key(), g.value())
		for range g.r.IntN(3) {
			args = append(args, g.one("RANK", "COUNT", "MAXLEN", "rank", "BOGUS"), g.integer())
		}
		return args
	}},
	{"lmove", 3, func(g *Gen) []string { return cmd("LMOVE", g.key(), g.key(), g.side(), g.side()) }},
	{"rpoplpush", 2, func(g *Gen) []string { return cmd("RPOPLPUSH", g.key(), g.key()) }},
	{"lmpop", 2, func(g *Gen) []string {
		keys := g.keys(1)
		n := len(keys)
		numkeys := itoa(n)
		if g.chance(10) {
			numkeys = g.integer()
		}
		args := join(cmd("LMPOP", numkeys), keys, []string{g.side()})
		if g.chance(2) {
			args = append(args, g.one("COUNT", "count", "CNT"), g.integer())
		}
		return args
	}},
}

// timeoutArg gives the index of each blocking command's timeout.
var timeoutArg = map[string]func(args []string) int{
	"blpop":      func(a []string) int { return len(a) - 1 },
	"brpop":      func(a []string) int { return len(a) - 1 },
	"brpoplpush": func(a []string) int { return len(a) - 1 },
	"blmove":     func(a []string) int { return len(a) - 1 },
	"blmpop":     func(a []string) int { return 1 },
}

var blockingCmds = []CmdGen{
	{"bpop", 3, func(g *Gen) []string { return join(cmd(g.one("BLPOP", "BRPOP")), g.keys(1), []string{g.timeout()}) }},
	{"blmove", 2, func(g *Gen) []string { return cmd("BLMOVE", g.key(), g.key(), g.side(), g.side(), g.timeout()) }},
	{"brpoplpush", 1, func(g *Gen) []string { return cmd("BRPOPLPUSH", g.key(), g.key(), g.timeout()) }},
	{"blmpop", 2, func(g *Gen) []string {
		keys := g.keys(1)
		args := join(cmd("BLMPOP", g.timeout(), itoa(len(keys))), keys, []string{g.side()})
		if g.chance(2) {
			args = append(args, "COUNT", g.integer())
		}
		return args
	}},
}

// expiry is usually a time in the future (so keys keep a TTL that later
// commands meet), else anything from the pool.
func (g *Gen) expiry(pool []string, future ...string) string {
	if g.chance(2) {
		return g.one(future...)
	}
	return g.one(pool...)
}

func (g *Gen) expireFlags() []string {
	switch g.r.IntN(10) {
	case 0:
		return cmd("NX")
	case 1:
		return cmd("XX")
	case 2:
		return cmd("GT")
	case 3:
		return cmd("LT")
	case 4:
		return cmd(g.one("NX", "GT"), g.one("XX", "LT", "GT"))
	case 5:
		return cmd(g.one("BAD\r\n", "foo", "", "\r\nX"))
	}
	return nil
}

func (g *Gen) pattern() string {
	return g.one("*", "a", "?", "[a-c]", "w_*", "*\x00*", "[", "\\*", "", "k*", "[^a]", "*a*b*")
}

func (g *Gen) db() string {
	if g.chance(6) {
		return g.one("16", "-1", "abc", "", "9223372036854775808")
	}
	return g.one("0", "1")
}

var keyCmds = []CmdGen{
	{"del", 3, func(g *Gen) []string { return join(cmd(g.one("DEL", "UNLINK")), g.keys(1)) }},
	{"exists", 2, func(g *Gen) []string { return join(cmd(g.one("EXISTS", "TOUCH")), g.keys(1)) }},
	{"type", 2, func(g *Gen) []string { return cmd("TYPE", g.key()) }},
	{"keys", 1, func(g *Gen) []string { return cmd("KEYS", g.pattern()) }},
	{"scan", 2, func(g *Gen) []string {
		cursor := "0"
		if g.chance(8) {
			cursor = g.one("abc", "-1", "", "18446744073709551616", "1")
		}
		args := cmd("SCAN", cursor)
		for range g.r.IntN(3) {
			switch g.r.IntN(4) {
			case 0:
				args = append(args, "MATCH", g.pattern())
			case 1:
				args = append(args, "COUNT", g.one("1000", "100", "0", "-1", "abc"))
			case 2:
				args = append(args, "TYPE", g.one("string", "list", "none", "hash", "LIST", "bogus"))
			case 3:
				args = append(args, g.one("BOGUS", "MATCH"))
			}
		}
		return args
	}},
	{"randomkey", 1, func(g *Gen) []string { return cmd("RANDOMKEY") }},
	{"dbsize", 1, func(g *Gen) []string { return cmd("DBSIZE") }},
	{"rename", 2, func(g *Gen) []string { return cmd(g.one("RENAME", "RENAMENX"), g.key(), g.key()) }},
	{"copy", 2, func(g *Gen) []string {
		args := cmd("COPY", g.key(), g.key())
		if g.chance(3) {
			args = append(args, "DB", g.db())
		}
		if g.chance(2) {
			args = append(args, g.one("REPLACE", "replace", "BOGUS"))
		}
		return args
	}},
	{"move", 1, func(g *Gen) []string { return cmd("MOVE", g.key(), g.db()) }},
	{"swapdb", 1, func(g *Gen) []string { return cmd("SWAPDB", g.db(), g.db()) }},
	{"flushdb", 1, func(g *Gen) []string {
		if g.chance(4) {
			return cmd(g.one("FLUSHDB", "FLUSHALL"), g.one("SYNC", "ASYNC", "bogus"))
		}
		return cmd("FLUSHDB")
	}},
	{"select", 1, func(g *Gen) []string { return cmd("SELECT", g.db()) }},
	{"expire", 7, func(g *Gen) []string {
		var args []string
		switch g.r.IntN(4) {
		case 0:
			args = cmd("EXPIRE", g.key(), g.expiry(relSeconds, "100", "1000", "86400"))
		case 1:
			args = cmd("PEXPIRE", g.key(), g.expiry(relMillis, "100000", "86400000"))
		case 2:
			args = cmd("EXPIREAT", g.key(), g.expiry(absSeconds, "4102444800", "9999999999"))
		default:
			args = cmd("PEXPIREAT", g.key(), g.expiry(absMillis, "4102444800000", "9223372036854775807"))
		}
		if g.chance(2) {
			return args
		}
		return join(args, g.expireFlags())
	}},
	{"ttl", 4, func(g *Gen) []string {
		return cmd(g.one("TTL", "PTTL", "EXPIRETIME", "PEXPIRETIME", "PERSIST"), g.key())
	}},
	{"dump", 1, func(g *Gen) []string { return cmd("DUMP", g.key()) }},
	{"restore", 1, func(g *Gen) []string {
		args := cmd("RESTORE", g.key(), g.one("0", "-1", "100000", "abc"), g.one("", "junk", "\x00\x01a\x0a\x00"))
		if g.chance(2) {
			args = append(args, g.one("REPLACE", "ABSTTL", "IDLETIME", "FREQ", "BOGUS"))
		}
		return args
	}},
}

func (g *Gen) sortPattern() string {
	return g.one("nosort", "w_*", "*", "#", "w_*->f", "x", "", "w_", "*\x00")
}

func sortGen(name string) func(g *Gen) []string {
	return func(g *Gen) []string {
		args := cmd(name, g.key())
		for range g.r.IntN(4) {
			switch g.r.IntN(9) {
			case 0, 8:
				args = append(args, "BY", g.sortPattern())
			case 1:
				args = append(args, "GET", g.sortPattern())
			case 2:
				args = append(args, "LIMIT", g.index(), g.index())
			case 3:
				args = append(args, g.one("ASC", "DESC"))
			case 4:
				args = append(args, "ALPHA")
			case 5:
				args = append(args, "STORE", g.key())
			case 6:
				args = append(args, g.one("BOGUS", "LIMIT", "BY", "by"))
			case 7:
				args = append(args, "GET", "#")
			}
		}
		return args
	}
}

var sortCmds = []CmdGen{
	{"sort", 3, sortGen("SORT")},
	{"sort_ro", 1, sortGen("SORT_RO")},
}

var multiCmds = []CmdGen{
	{"multi", 4, func(g *Gen) []string { return cmd("MULTI") }},
	{"exec", 4, func(g *Gen) []string { return cmd("EXEC") }},
	{"discard", 1, func(g *Gen) []string { return cmd("DISCARD") }},
	{"watch", 3, func(g *Gen) []string { return join(cmd("WATCH"), g.keys(1)) }},
	{"unwatch", 1, func(g *Gen) []string { return cmd("UNWATCH") }},
}

var connCmds = []CmdGen{
	{"ping", 2, func(g *Gen) []string {
		if g.chance(2) {
			return cmd("PING", g.value())
		}
		return cmd("PING")
	}},
	{"echo", 1, func(g *Gen) []string { return cmd("ECHO", g.value()) }},
	{"hello", 1, func(g *Gen) []string {
		args := cmd("HELLO", g.one("2", "3", "1", "4", "abc", ""))
		if g.chance(3) {
			args = append(args, g.one("SETNAME", "AUTH", "BOGUS"), g.one("n", "bad name", ""))
		}
		return args
	}},
	{"client", 1, func(g *Gen) []string {
		switch g.r.IntN(4) {
		case 0:
			return cmd("CLIENT", "ID")
		case 1:
			return cmd("CLIENT", "GETNAME")
		case 2:
			return cmd("CLIENT", "SETNAME", g.one("n", "bad name", "", "a\r\n"))
		}
		return cmd("CLIENT", g.one("BOGUS", "BAD\r\n"))
	}},
	{"reset", 1, func(g *Gen) []string { return cmd("RESET") }},
	{"unknown", 1, func(g *Gen) []string { return join(cmd(g.one("NOSUCH", "BAD\r\n", "")), g.values(0)) }},
}

// commandNames are the commands COMMAND INFO and COMMAND GETKEYS ask
// about: every generated one, and a few that do not exist.
var commandNames = []string{"get", "set", "lpush", "blmpop", "lmove", "sort", "sort_ro", "exec", "client|id",
	"config|get", "nosuch", "", "GET", "client"}

// adminCmds are the safe server commands: none changes configuration
// or blocks, and each has an answer both servers must agree on.
var adminCmds = []CmdGen{
	{"command info", 2, func(g *Gen) []string { return join(cmd("COMMAND", "INFO"), []string{g.one(commandNames...)}) }},
	{"command getkeys", 4, func(g *Gen) []string {
		// The keys of a command drawn from the other families.
		f := pick(g, Families[:len(Families)-1], func(f Family) int { return f.Weight })
		c := pick(g, f.Cmds, func(c CmdGen) int { return c.Weight })
		return join(cmd("COMMAND", g.one("GETKEYS", "GETKEYSANDFLAGS")), c.Gen(g))
	}},
	{"config get", 1, func(g *Gen) []string {
		return cmd("CONFIG", "GET", g.one("maxmemory-policy", "timeout", "list-max-listpack-size", "databases", "nosuch"))
	}},
	{"role", 1, func(g *Gen) []string { return cmd("ROLE") }},
	{"readonly", 1, func(g *Gen) []string { return cmd(g.one("READONLY", "READWRITE")) }},
	{"debug sleep", 1, func(g *Gen) []string { return cmd("DEBUG", "SLEEP", g.one("0", "abc", "-1")) }},
	{"flush scripts", 1, func(g *Gen) []string { return cmd(g.one("SCRIPT", "FUNCTION"), "FLUSH") }},
}
