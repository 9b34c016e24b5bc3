package command

import (
	"crypto/subtle"
	"strings"
)

func init() {
	register(
		&command{name: "ping", fn: cmdPing, arity: -1, flags: flagNoTx | flagFast | flagStale,
			group: "connection", since: "1.0.0", summary: "Ping the server", complexity: "O(1)"},
		&command{name: "echo", fn: cmdEcho, arity: 2, flags: flagNoTx | flagFast | flagLoading | flagStale,
			group: "connection", since: "1.0.0", summary: "Echo the given string", complexity: "O(1)"},
		&command{name: "quit", fn: cmdQuit, arity: -1, flags: flagNoTx | flagNoMulti | flagNoAuth | flagLoading | flagStale | flagFast | flagNoScript | flagAllowBusy,
			group: "connection", since: "1.0.0", summary: "Close the connection", complexity: "O(1)"},
		&command{name: "select", fn: cmdSelect, arity: 2, flags: flagNoTx | flagLoading | flagStale | flagFast,
			group: "connection", since: "1.0.0", summary: "Change the selected database for the current connection", complexity: "O(1)"},
		&command{name: "auth", fn: cmdAuth, arity: -2, flags: flagNoTx | flagNoAuth | flagLoading | flagStale | flagFast | flagNoScript | flagAllowBusy,
			group: "connection", since: "1.0.0", summary: "Authenticate to the server", complexity: "O(N) where N is the number of passwords defined for the user"},
		&command{name: "hello", fn: cmdHello, arity: -1, flags: flagNoTx | flagNoAuth | flagLoading | flagStale | flagFast | flagNoScript | flagAllowBusy,
			group: "connection", since: "6.0.0", summary: "Handshake with Redis", complexity: "O(1)"},
		&command{name: "reset", fn: cmdReset, arity: 1, flags: flagNoTx | flagNoMulti | flagNoAuth | flagLoading | flagStale | flagFast | flagNoScript | flagAllowBusy,
			group: "connection", since: "6.2.0", summary: "Reset the connection", complexity: "O(1)"},
	)
}

func cmdPing(c *Session, args [][]byte) {
	if len(args) > 2 {
		c.errorReply(errArity("ping"))
		return
	}
	if len(args) == 2 {
		c.bulk(args[1])
		return
	}
	c.simple("PONG")
}

func cmdEcho(c *Session, args [][]byte) { c.bulk(args[1]) }

func cmdQuit(c *Session, args [][]byte) {
	c.ok()
	c.closeAfter = true
}

func cmdSelect(c *Session, args [][]byte) {
	i, ok := parseInt(args[1])
	if !ok || i < -1<<31 || i > 1<<31-1 {
		c.errorReply(msgNotInteger)
		return
	}
	if i < 0 || i >= int64(c.core.ks.Databases()) {
		c.errorReply(msgDBIndex)
		return
	}
	c.selectDB(int(i))
	c.ok()
}

// authRequired reports whether c must authenticate before running
// commands. As in Redis, that is only while a password is set: a client
// that connected while one was set needs no AUTH once CONFIG SET
// requirepass "" removes it, and one that connected without keeps its
// access when a password is added.
func (c *Session) authRequired() bool {
	return !c.authed && *c.core.settings.requirepass.Load() != ""
}

// checkPassword compares in constant time, so the reply's timing does not
// tell an attacker how much of a guess was right.
func (s *Core) checkPassword(user, pass []byte) bool {
	want := *s.settings.requirepass.Load()
	if string(user) != "default" { // user names are case-sensitive, as in Redis's ACL
		subtle.ConstantTimeCompare(pass, []byte(want)) // same work either way
		return false
	}
	if want == "" {
		return true // the default user has nopass: any password works
	}
	return subtle.ConstantTimeCompare(pass, []byte(want)) == 1
}

func cmdAuth(c *Session, args [][]byte) {
	if len(args) > 3 {
		c.errorReply(msgSyntax)
		return
	}
	user, pass := []byte("default"), args[1]
	if len(args) == 3 {
		user, pass = args[1], args[2]
	}
	for i := 1; i < len(args); i++ {
		redactArg(args, i)
	}
	if len(args) == 2 {
		if *c.core.settings.requirepass.Load() == "" {
			c.errorReply("ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?")
			return
		}
	}
	if !c.core.checkPassword(user, pass) {
		c.errorReply(msgWrongPass)
		return
	}
	c.authed = true
	c.ok()
}

func cmdHello(c *Session, args [][]byte) {
	ver := int64(0)
	if len(args) >= 2 {
		v, ok := parseInt(args[1])
		if !ok {
			c.errorReply("ERR Protocol version is not an integer or out of range")
			return
		}
		ver = v
		if ver < 2 || ver > 3 {
			c.errorReply("NOPROTO unsupported protocol version")
			return
		}
	}
	// One pass that acts on each option as it reads it, as Redis 7.0's
	// helloCommand does: an option after a failed AUTH or a bad name is
	// never looked at (nor redacted), and a name set before a later error
	// stays set.
	for i := 2; i < len(args); i++ {
		more := len(args) - 1 - i
		switch opt := strings.ToLower(string(args[i])); {
		case opt == "auth" && more >= 2:
			user, pass := args[i+1], args[i+2]
			redactArg(args, i+1)
			redactArg(args, i+2)
			if !c.core.checkPassword(user, pass) {
				c.errorReply(msgWrongPass)
				return
			}
			c.authed = true
			i += 2
		case opt == "setname" && more >= 1:
			if !validClientName(args[i+1]) {
				c.errorReply("ERR Client names cannot contain spaces, newlines or special characters.")
				return
			}
			c.setName(string(args[i+1]))
			i++
		default:
			c.errorReply("ERR Syntax error in HELLO option '" + string(cString(args[i])) + "'")
			return
		}
	}
	if c.authRequired() {
		c.errorReply("NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time")
		return
	}
	if ver != 0 {
		c.setResp(int(ver))
	}
	c.mapLen(7)
	c.bulkString("server")
	c.bulkString("redis")
	c.bulkString("version")
	c.bulkString(Version)
	c.bulkString("proto")
	c.int(int64(c.resp))
	c.bulkString("id")
	c.int(c.id)
	c.bulkString("mode")
	c.bulkString("standalone")
	c.bulkString("role")
	c.bulkString("master")
	c.bulkString("modules")
	c.array(0)
}

// validClientName is Redis's rule: printable ASCII without spaces.
func validClientName(b []byte) bool {
	for _, ch := range b {
		if ch < '!' || ch > '~' {
			return false
		}
	}
	return true
}

func (c *Session) setName(name string) {
	c.info.mu.Lock()
	c.info.name = name
	c.info.mu.Unlock()
}

func cmdReset(c *Session, args [][]byte) {
	if c.multi {
		c.endMulti()
	} else if c.watch.Watching() {
		tx := c.core.ks.Begin()
		tx.Unwatch(&c.watch)
		tx.End()
	}
	c.selectDB(0)
	c.setResp(2)
	c.replyMode = replyOn
	c.flags.And(^(FlagNoEvict | FlagNoTouch))
	c.setName("")
	c.authed = *c.core.settings.requirepass.Load() == ""
	if c.flags.Load()&FlagMonitor != 0 {
		c.flags.And(^FlagMonitor)
		c.conn.Monitor(false)
	}
	c.simple("RESET")
}
