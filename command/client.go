package command

import (
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"mullet/queue"
)

// The CLIENT command family: connection introspection and control, with
// Redis 7.0's replies and errors. CLIENT SETINFO and CLIENT NO-TOUCH are
// Redis 7.2's; go-redis v9 sends SETINFO on every connection.

func init() {
	const std = flagNoTx | flagNoScript | flagLoading | flagStale
	register(&command{name: "client", arity: -2, flags: flagNoTx | flagLoading | flagStale,
		group: "connection", since: "2.4.0", summary: "A container for client connection commands", complexity: "Depends on subcommand."})
	subcommands("client",
		&command{name: "id", fn: cmdClientID, arity: 2, flags: std,
			since: "5.0.0", summary: "Returns the client ID for the current connection", complexity: "O(1)"},
		&command{name: "setname", fn: cmdClientSetName, arity: 3, flags: std,
			since: "2.6.9", summary: "Set the current connection name", complexity: "O(1)"},
		&command{name: "getname", fn: cmdClientGetName, arity: 2, flags: std,
			since: "2.6.9", summary: "Get the current connection name", complexity: "O(1)"},
		&command{name: "setinfo", fn: cmdClientSetInfo, arity: 4, flags: std,
			since: "7.2.0", summary: "Set client or connection specific info", complexity: "O(1)"},
		&command{name: "list", fn: cmdClientList, arity: -2, flags: std | flagAdmin,
			since: "2.4.0", summary: "Get the list of client connections", complexity: "O(N) where N is the number of client connections"},
		&command{name: "info", fn: cmdClientInfo, arity: 2, flags: std,
			since: "6.2.0", summary: "Returns information about the current client connection.", complexity: "O(1)"},
		&command{name: "kill", fn: cmdClientKill, arity: -3, flags: std | flagAdmin,
			since: "2.4.0", summary: "Kill the connection of a client", complexity: "O(N) where N is the number of client connections"},
		&command{name: "unblock", fn: cmdClientUnblock, arity: -3, flags: std | flagAdmin,
			since: "5.0.0", summary: "Unblock a client blocked in a blocking command from a different connection", complexity: "O(log N) where N is the number of client connections"},
		&command{name: "no-evict", fn: cmdClientNoEvict, arity: 3, flags: std | flagAdmin,
			since: "7.0.0", summary: "Set client eviction mode for the current connection", complexity: "O(1)"},
		&command{name: "no-touch", fn: cmdClientNoTouch, arity: 3, flags: std,
			since: "7.2.0", summary: "Controls whether commands sent by the client will alter the LRU/LFU of the keys they access.", complexity: "O(1)"},
		&command{name: "reply", fn: cmdClientReply, arity: 3, flags: std,
			since: "3.2.0", summary: "Instruct the server whether to reply to commands", complexity: "O(1)"},
		&command{name: "pause", fn: cmdClientPause, arity: -3, flags: std | flagAdmin,
			since: "2.9.50", summary: "Stop processing commands from clients for some time", complexity: "O(1)"},
		&command{name: "unpause", fn: cmdClientUnpause, arity: 2, flags: std | flagAdmin,
			since: "6.2.0", summary: "Resume processing of clients that were paused", complexity: "O(N) Where N is the number of paused clients"},
		&command{name: "help", fn: cmdClientHelp, arity: 2, flags: flagNoTx | flagLoading | flagStale,
			since: "5.0.0", summary: "Show helpful text about the different subcommands", complexity: "O(1)"},
	)
}

// subcommandSyntaxError is Redis's addReplySubcommandSyntaxError: the
// subcommand exists, but not with these arguments.
func (c *Session) subcommandSyntaxError(args [][]byte) {
	c.errorReply("ERR unknown subcommand or wrong number of arguments for '" + truncate(args[1], 128) +
		"'. Try " + strings.ToUpper(string(args[0])) + " HELP.")
}

func cmdClientID(c *Session, args [][]byte) { c.int(c.id) }

func cmdClientSetName(c *Session, args [][]byte) {
	if !validClientName(args[2]) {
		c.errorReply("ERR Client names cannot contain spaces, newlines or special characters.")
		return
	}
	c.setName(string(args[2])) // "" removes the name, as in Redis
	c.ok()
}

func cmdClientGetName(c *Session, args [][]byte) {
	c.info.mu.Lock()
	name := c.info.name
	c.info.mu.Unlock()
	if name == "" {
		c.null()
		return
	}
	c.bulkString(name)
}

// cmdClientSetInfo is Redis 7.2's CLIENT SETINFO LIB-NAME|LIB-VER value.
// The values show in CLIENT LIST as lib-name= and lib-ver=.
func cmdClientSetInfo(c *Session, args [][]byte) {
	attr, val := string(args[2]), string(args[3])
	var dst *string
	switch strings.ToLower(attr) {
	case "lib-name":
		dst = &c.info.libName
	case "lib-ver":
		dst = &c.info.libVer
	default:
		c.errorReply("ERR Unrecognized option '" + string(cString([]byte(attr))) + "'")
		return
	}
	if !validClientName(args[3]) {
		c.errorReply("ERR " + attr + " cannot contain spaces, newlines or special characters.")
		return
	}
	c.info.mu.Lock()
	*dst = val
	c.info.mu.Unlock()
	c.ok()
}

// onOff parses ON or OFF, answering a syntax error otherwise.
func (c *Session) onOff(b []byte) (on, ok bool) {
	switch strings.ToLower(string(b)) {
	case "on":
		return true, true
	case "off":
		return false, true
	}
	c.errorReply(msgSyntax)
	return false, false
}

// cmdClientNoEvict is accepted: mullet never evicts clients
// (maxmemory-clients is not enforced), so the flag only shows in CLIENT
// LIST.
func cmdClientNoEvict(c *Session, args [][]byte) {
	if on, ok := c.onOff(args[2]); ok {
		c.setFlag(FlagNoEvict, on)
		c.ok()
	}
}

// cmdClientNoTouch is accepted: mullet keeps no LRU/LFU clock to leave
// untouched.
func cmdClientNoTouch(c *Session, args [][]byte) {
	if on, ok := c.onOff(args[2]); ok {
		c.setFlag(FlagNoTouch, on)
		c.ok()
	}
}

func (c *Session) setFlag(f uint32, on bool) {
	if on {
		c.flags.Or(f)
	} else {
		c.flags.And(^f)
	}
}

// setResp switches the protocol and mirrors it in the shared flags, for
// CLIENT LIST run by other connections.
func (c *Session) setResp(v int) {
	c.resp = v
	if r, ok := c.w.(*RESP); ok {
		r.Proto = v
	}
	c.setFlag(FlagResp3, v == 3)
}

// replyMode is CLIENT REPLY's state. runBuffered drops the replies of a
// command run while it is not replyOn.
type replyMode uint8

const (
	replyOn       replyMode = iota
	replyOff                // CLIENT REPLY OFF: no replies until ON
	replySkipNext           // CLIENT REPLY SKIP was the last command
	replySkip               // the command after SKIP is running
)

func cmdClientReply(c *Session, args [][]byte) {
	switch strings.ToLower(string(args[2])) {
	case "on":
		c.replyMode = replyOn
		c.ok()
	case "off":
		c.replyMode = replyOff // nothing to say, not even OK
	case "skip":
		if c.replyMode != replyOff {
			c.replyMode = replySkipNext
		}
	default:
		c.errorReply(msgSyntax)
	}
}

// BeginCommand is called by the transport before it runs a command: a
// CLIENT REPLY SKIP applies to the command after it.
func (c *Session) BeginCommand() {
	if c.replyMode == replySkipNext {
		c.replyMode = replySkip
	}
}

// RepliesOff reports whether the last command's reply must be dropped
// (CLIENT REPLY OFF or SKIP); the transport drops it and calls
// ReplyDropped.
func (c *Session) RepliesOff() bool { return c.replyMode != replyOn }

// ReplyDropped ends a CLIENT REPLY SKIP once its command's reply is gone.
func (c *Session) ReplyDropped() {
	if c.replyMode == replySkip {
		c.replyMode = replyOn
	}
}

func cmdClientUnblock(c *Session, args [][]byte) {
	id, ok := parseInt(args[2])
	if !ok {
		c.errorReply(msgNotInteger)
		return
	}
	var err error
	if len(args) == 4 {
		switch strings.ToLower(string(args[3])) {
		case "timeout":
		case "error":
			err = queue.ErrUnblocked
		default:
			c.errorReply("ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR")
			return
		}
	} else if len(args) > 4 {
		c.subcommandSyntaxError(args)
		return
	}
	target := c.core.host.Session(id)
	if target == nil {
		c.int(0)
		return
	}
	done := c.withTx(func(tx *queue.Tx) bool { return tx.Unblock(target.waiter, err) })
	if done {
		c.int(1)
	} else {
		c.int(0)
	}
}

// withTx runs fn in the keyspace: inside the running Tx if a handler has
// one (EXEC), otherwise in a Tx of its own. Handlers flagged flagNoTx must
// use it rather than Begin, which would deadlock inside EXEC.
func (c *Session) withTx(fn func(tx *queue.Tx) bool) bool {
	if c.tx != nil {
		return fn(c.tx)
	}
	tx := c.core.ks.Begin()
	c.tx = tx // so abandonTx can release the lock if fn panics
	r := fn(tx)
	c.tx = nil
	if t := tx.End(); t != 0 {
		c.ticket = t
	}
	return r
}

// clientTypes are the names CLIENT LIST and CLIENT KILL accept for TYPE.
// Every mullet client is a normal one: there are no replicas, masters or
// (yet) pub/sub clients; a MONITOR client is normal too, as in Redis.
var clientTypes = []string{"normal", "slave", "replica", "master", "pubsub"}

func validClientType(b []byte) bool {
	return slices.Contains(clientTypes, strings.ToLower(string(b)))
}

func isNormalType(b []byte) bool { return strings.EqualFold(string(b), "normal") }

func cmdClientList(c *Session, args [][]byte) {
	var list []*Session
	switch {
	case len(args) == 4 && strings.EqualFold(string(args[2]), "type"):
		if !validClientType(args[3]) {
			c.errorReply("ERR Unknown client type '" + string(cString(args[3])) + "'")
			return
		}
		if isNormalType(args[3]) {
			list = c.core.host.Sessions()
		}
	case len(args) > 3 && strings.EqualFold(string(args[2]), "id"):
		// Redis lists the given ids in the order given, repeats included.
		for _, a := range args[3:] {
			id, ok := parseInt(a)
			if !ok {
				c.errorReply("ERR Invalid client ID")
				return
			}
			if cl := c.core.host.Session(id); cl != nil {
				list = append(list, cl)
			}
		}
	case len(args) != 2:
		c.errorReply(msgSyntax)
		return
	default:
		list = c.core.host.Sessions()
	}
	var b []byte
	now := time.Now()
	for _, cl := range list {
		b = c.appendClientInfo(b, cl, now, args)
		b = append(b, '\n')
	}
	c.verbatim(string(b))
}

func cmdClientInfo(c *Session, args [][]byte) {
	b := c.appendClientInfo(nil, c, time.Now(), args)
	c.verbatim(string(append(b, '\n')))
}

// appendClientInfo formats one CLIENT LIST line, with Redis 7.0's fields
// in its order, plus Redis 7.2's lib-name and lib-ver at the end (mullet
// has CLIENT SETINFO, whose values they show). Another connection's
// fields come from its shared atomics; buffer sizes only the connection's
// own goroutine knows are shown for the caller itself (c, running args)
// and as the usual sizes for the others.
func (c *Session) appendClientInfo(b []byte, cl *Session, now time.Time, args [][]byte) []byte {
	self := cl == c
	cl.info.mu.Lock()
	name, libName, libVer := cl.info.name, cl.info.libName, cl.info.libVer
	cl.info.mu.Unlock()
	flags := cl.flags.Load()

	multi := int64(-1)
	if flags&FlagMulti != 0 {
		multi = int64(cl.multiLen.Load())
	}
	cmdName := "NULL"
	if lc := cl.lastCmd.Load(); lc != nil {
		cmdName = lc.name
	}
	idle := time.Duration(MonoNow() - cl.lastActive.Load())
	qbuf := cl.qbuf.Load()
	var argvMem, multiMem int64
	qbufSize, rbs, rbp := int64(ioBufSize), int64(ioBufSize), int64(0)
	if self {
		// The running command: it is still in the query buffer, as in
		// Redis, and is the one CLIENT LIST shows for the caller.
		idle = 0
		cmdName = "client|" + strings.ToLower(string(args[1]))
		for _, a := range args {
			argvMem += int64(len(a))
		}
		var pending int64
		pending, qbufSize, rbs, rbp = c.conn.Buffers()
		qbuf = pending + requestSize(args)
		for _, q := range c.queued {
			for _, a := range q.args {
				multiMem += int64(len(a))
			}
		}
	}
	resp := 2
	if flags&FlagResp3 != 0 {
		resp = 3
	}
	totMem := qbufSize + rbs + argvMem + multiMem + clientStructSize

	b = append(b, "id="...)
	b = strconv.AppendInt(b, cl.id, 10)
	b = append(b, " addr="...)
	b = append(b, cl.addr...)
	b = append(b, " laddr="...)
	b = append(b, cl.laddr...)
	b = append(b, " fd="...)
	b = strconv.AppendInt(b, int64(cl.conn.FD()), 10)
	b = append(b, " name="...)
	b = append(b, name...)
	b = append(b, " age="...)
	b = strconv.AppendInt(b, int64(now.Sub(cl.created)/time.Second), 10)
	b = append(b, " idle="...)
	b = strconv.AppendInt(b, max(int64(idle/time.Second), 0), 10)
	b = append(b, " flags="...)
	b = appendClientFlags(b, flags)
	b = append(b, " db="...)
	b = strconv.AppendInt(b, int64(cl.sharedDB.Load()), 10)
	b = append(b, " sub=0 psub=0 ssub=0 multi="...)
	b = strconv.AppendInt(b, multi, 10)
	b = append(b, " qbuf="...)
	b = strconv.AppendInt(b, qbuf, 10)
	b = append(b, " qbuf-free="...)
	b = strconv.AppendInt(b, max(qbufSize-qbuf, 0), 10)
	b = append(b, " argv-mem="...)
	b = strconv.AppendInt(b, argvMem, 10)
	b = append(b, " multi-mem="...)
	b = strconv.AppendInt(b, multiMem, 10)
	b = append(b, " rbs="...)
	b = strconv.AppendInt(b, rbs, 10)
	b = append(b, " rbp="...)
	b = strconv.AppendInt(b, rbp, 10)
	b = append(b, " obl=0 oll=0 omem=0 tot-mem="...)
	b = strconv.AppendInt(b, totMem, 10)
	b = append(b, " events=r cmd="...)
	b = append(b, cmdName...)
	b = append(b, " user=default redir=-1 resp="...)
	b = strconv.AppendInt(b, int64(resp), 10)
	b = append(b, " lib-name="...)
	b = append(b, libName...)
	b = append(b, " lib-ver="...)
	b = append(b, libVer...)
	return b
}

// ioBufSize is the size of a connection's query and reply buffers as
// CLIENT LIST shows them for other connections, whose buffers only their
// own goroutine may look at: Redis's PROTO_IOBUF_LEN, what a RESP
// connection starts with.
const ioBufSize = 16 * 1024

// clientStructSize is roughly what a connection costs besides its
// buffers, counted in tot-mem.
const clientStructSize = 1024

// requestSize is the size of args encoded as a RESP request.
func requestSize(args [][]byte) int64 {
	n := int64(1 + len(strconv.Itoa(len(args))) + 2)
	for _, a := range args {
		n += int64(1+len(strconv.Itoa(len(a)))+2) + int64(len(a)) + 2
	}
	return n
}

// appendClientFlags writes the flags field in Redis's letters and order:
// O monitor, x MULTI, b blocked, e no-evict, T no-touch; N for none.
func appendClientFlags(b []byte, f uint32) []byte {
	n := len(b)
	if f&FlagMonitor != 0 {
		b = append(b, 'O')
	}
	if f&FlagMulti != 0 {
		b = append(b, 'x')
	}
	if f&FlagBlocked != 0 {
		b = append(b, 'b')
	}
	if f&FlagNoEvict != 0 {
		b = append(b, 'e')
	}
	if f&FlagNoTouch != 0 {
		b = append(b, 'T')
	}
	if len(b) == n {
		b = append(b, 'N')
	}
	return b
}

// cmdClientKill is CLIENT KILL addr (the old form, which may kill the
// caller and answers OK) or CLIENT KILL <filter> <value> ... (which skips
// the caller unless SKIPME no, and answers the count), as in Redis 7.0.
func cmdClientKill(c *Session, args [][]byte) {
	var addr, laddr string
	var haveAddr, haveLaddr, haveType bool
	var id int64
	normal := true
	skipme := true
	if len(args) == 3 {
		addr, haveAddr, skipme = string(args[2]), true, false
	} else {
		for i := 2; i < len(args); i += 2 {
			more := i+1 < len(args)
			opt := strings.ToLower(string(args[i]))
			switch {
			case opt == "id" && more:
				n, ok := parseInt(args[i+1])
				if !ok || n < 1 {
					c.errorReply("ERR client-id should be greater than 0")
					return
				}
				id = n
			case opt == "type" && more:
				if !validClientType(args[i+1]) {
					c.errorReply("ERR Unknown client type '" + string(cString(args[i+1])) + "'")
					return
				}
				haveType, normal = true, isNormalType(args[i+1])
			case opt == "addr" && more:
				addr, haveAddr = string(args[i+1]), true
			case opt == "laddr" && more:
				laddr, haveLaddr = string(args[i+1]), true
			case opt == "user" && more:
				// default is the only user: it owns every connection.
				if string(args[i+1]) != "default" {
					c.errorReply("ERR No such user '" + string(cString(args[i+1])) + "'")
					return
				}
			case opt == "skipme" && more:
				switch strings.ToLower(string(args[i+1])) {
				case "yes":
					skipme = true
				case "no":
					skipme = false
				default:
					c.errorReply(msgSyntax)
					return
				}
			default:
				c.errorReply(msgSyntax)
				return
			}
		}
	}
	killed := 0
	for _, cl := range c.core.host.Sessions() {
		if haveAddr && cl.addr != addr || haveLaddr && cl.laddr != laddr ||
			haveType && !normal || id != 0 && cl.id != id || cl == c && skipme {
			continue
		}
		if cl == c {
			c.closeAfter = true // after the reply, as Redis does
		} else {
			cl.kill()
		}
		killed++
	}
	if len(args) == 3 {
		if killed == 0 {
			c.errorReply("ERR No such client")
		} else {
			c.ok()
		}
		return
	}
	c.int(int64(killed))
}

// pauseState is CLIENT PAUSE: until end, commands (or, with write, only
// those that write) wait before they run or are queued, as Redis postpones
// them. Replicas are exempt in Redis; mullet has none.
type pauseState struct {
	mu    sync.Mutex
	end   time.Time
	write bool
	ch    chan struct{} // closed when the pause is lifted or changed
}

func cmdClientPause(c *Session, args [][]byte) {
	if len(args) > 4 {
		c.subcommandSyntaxError(args)
		return
	}
	write := false
	if len(args) == 4 {
		switch strings.ToLower(string(args[3])) {
		case "write":
			write = true
		case "all":
		default:
			c.errorReply("ERR CLIENT PAUSE mode must be WRITE or ALL")
			return
		}
	}
	ms, msg := intTimeoutMs(args[2])
	if msg != "" {
		c.errorReply(msg)
		return
	}
	c.core.pause(time.Now().Add(time.Duration(min(ms, int64(1<<62)/int64(time.Millisecond)))*time.Millisecond), write)
	c.ok()
}

func cmdClientUnpause(c *Session, args [][]byte) {
	c.core.unpause()
	c.ok()
}

// pause starts or extends a pause. As in Redis, a pause never gets
// shorter or less strict while it lasts: the later end wins, and ALL
// beats WRITE.
func (s *Core) pause(end time.Time, write bool) {
	p := &s.admin.pause
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now()
	if p.end.After(now) {
		if p.end.After(end) {
			end = p.end
		}
		write = write && p.write
	}
	if p.ch != nil {
		close(p.ch)
	}
	p.end, p.write, p.ch = end, write, make(chan struct{})
	s.admin.pausing.Store(true)
}

func (s *Core) unpause() {
	p := &s.admin.pause
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ch != nil {
		close(p.ch)
		p.ch = nil
	}
	p.end = time.Time{}
	s.admin.pausing.Store(false)
}

// pausedFor reports whether cmd must wait, and until when.
func (c *Session) pausedFor(cmd *command) (time.Time, <-chan struct{}, bool) {
	p := &c.core.admin.pause
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ch == nil || !time.Now().Before(p.end) {
		// Over: clear the flag so that dispatch stops taking this lock.
		if p.ch != nil {
			close(p.ch)
			p.ch = nil
		}
		c.core.admin.pausing.Store(false)
		return time.Time{}, nil, false
	}
	if p.write && !c.writes(cmd) {
		return time.Time{}, nil, false
	}
	return p.end, p.ch, true
}

// writes reports whether cmd may change data: a write command, or an EXEC
// with one queued.
func (c *Session) writes(cmd *command) bool {
	if cmd.flags&flagWrite != 0 {
		return true
	}
	if cmd.name == "exec" {
		for _, q := range c.queued {
			if q.cmd.flags&flagWrite != 0 {
				return true
			}
		}
	}
	return false
}

// waitUnpaused waits until no pause covers cmd,
// or stop, or shutdown.
func (c *Session) waitUnpaused(cmd *command, stop <-chan struct{}) {
	for {
		end, ch, paused := c.pausedFor(cmd)
		if !paused {
			return
		}
		t := time.NewTimer(time.Until(end))
		select {
		case <-ch:
		case <-t.C:
		case <-stop:
			t.Stop()
			return
		case <-c.core.done:
			t.Stop()
			return
		}
		t.Stop()
	}
}

func cmdClientHelp(c *Session, args [][]byte) {
	c.help("CLIENT", []string{
		"GETNAME",
		"    Return the name of the current connection.",
		"ID",
		"    Return the ID of the current connection.",
		"INFO",
		"    Return information about the current client connection.",
		"KILL <ip:port>",
		"    Kill connection made from <ip:port>.",
		"KILL <option> <value> [<option> <value> [...]]",
		"    Kill connections. Options are:",
		"    * ADDR (<ip:port>|<unixsocket>:0)",
		"      Kill connections made from the specified address",
		"    * LADDR (<ip:port>|<unixsocket>:0)",
		"      Kill connections made to specified local address",
		"    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
		"      Kill connections by type.",
		"    * USER <username>",
		"      Kill connections authenticated by <username>.",
		"    * SKIPME (YES|NO)",
		"      Skip killing current connection (default: yes).",
		"LIST [options ...]",
		"    Return information about client connections. Options:",
		"    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
		"      Return clients of specified type.",
		"UNPAUSE",
		"    Stop the current client pause, resuming traffic.",
		"PAUSE <timeout> [WRITE|ALL]",
		"    Suspend all, or just write, clients for <timeout> milliseconds.",
		"REPLY (ON|OFF|SKIP)",
		"    Control the replies sent to the current connection.",
		"SETNAME <name>",
		"    Assign the name <name> to the current connection.",
		"SETINFO <option> <value>",
		"    Set client meta attr. Options are:",
		"    * LIB-NAME: the client lib name.",
		"    * LIB-VER: the client lib version.",
		"UNBLOCK <clientid> [TIMEOUT|ERROR]",
		"    Unblock the specified blocked client.",
		"NO-EVICT (ON|OFF)",
		"    Protect current client connection from eviction.",
		"NO-TOUCH (ON|OFF)",
		"    Will not touch LRU/LFU stats when this mode is on.",
	})
}
