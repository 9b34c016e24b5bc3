package command

import (
	"errors"
	"strings"
	"syscall"

	"mullet/config"
	"mullet/internal/redisc"
	"mullet/queue"
	"mullet/rdb"
)

// Error replies. Client libraries match on these strings, so they are API;
// each is Redis 7.0's text, byte for byte. docs/compatibility.md lists them
// and the wire tests pin them.
const (
	msgWrongType     = "WRONGTYPE Operation against a key holding the wrong kind of value"
	msgNoSuchKey     = "ERR no such key"
	msgSyntax        = "ERR syntax error"
	msgIndexRange    = "ERR index out of range"
	msgNotInteger    = "ERR value is not an integer or out of range"
	msgNotFloat      = "ERR value is not a valid float"
	msgOverflow      = "ERR increment or decrement would overflow"
	msgOOM           = "OOM command not allowed when used memory > 'maxmemory'."
	msgLoading       = "LOADING Redis is loading the dataset in memory"
	msgNoAuth        = "NOAUTH Authentication required."
	msgWrongPass     = "WRONGPASS invalid username-password pair or user is disabled."
	msgExecAbort     = "EXECABORT Transaction discarded because of previous errors."
	msgBusyKey       = "BUSYKEY Target key name already exists."
	msgSameObject    = "ERR source and destination objects are the same"
	msgDumpPayload   = "ERR DUMP payload version or checksum are wrong"
	msgBadData       = "ERR Bad data format"
	msgDBIndex       = "ERR DB index is out of range"
	msgTimeoutFloat  = "ERR timeout is not a float or out of range"
	msgTimeoutInt    = "ERR timeout is not an integer or out of range"
	msgTimeoutNeg    = "ERR timeout is negative"
	msgTimeoutRange  = "ERR timeout is out of range"
	msgUnblocked     = "UNBLOCKED client unblocked via CLIENT UNBLOCK"
	msgMultiNested   = "ERR MULTI calls can not be nested"
	msgExecNoMulti   = "ERR EXEC without MULTI"
	msgDiscardNoMult = "ERR DISCARD without MULTI"
	msgWatchInMulti  = "ERR WATCH inside MULTI is not allowed"
	msgMisconfPrefix = "MISCONF Errors writing to the AOF file: "
)

// Errors of the admin commands (cmd_config.go, cmd_server.go).
const (
	msgNoConfigFile      = "ERR The server is running without a config file"
	msgAOFRewriteRunning = "Background append only file rewriting already in progress"
)

// These errors wrap failures of the admin commands so that replyErr can
// phrase them as Redis does.
var (
	// errRewriteConfig wraps a CONFIG REWRITE failure.
	errRewriteConfig = errors.New("command: rewriting the config file")
	// errRewriteAOF wraps a Persistence.Rewrite failure. A rewrite
	// already running is one that Is queue.ErrRewriteInProgress.
	errRewriteAOF = errors.New("command: starting an AOF rewrite")
)

// strerror is the cause of err as C's strerror words it: a system error's
// text, capitalised ("Permission denied").
func strerror(err error) string { return redisc.Strerror(errors.New(rootCause(err))) }

// errArity is Redis's arity error for a command ("lpush", "client|kill").
func errArity(name string) string {
	return "ERR wrong number of arguments for '" + name + "' command"
}

// replyErr writes err in the exact form Redis clients expect. It is the
// one place where Go errors become RESP error text. Errors it does not
// know are logged in full and sent as a generic ERR, so internals don't
// leak to clients.
func (c *Session) replyErr(err error) {
	switch {
	case errors.Is(err, queue.ErrWrongType):
		c.errorReply(msgWrongType)
	case errors.Is(err, queue.ErrNoSuchKey):
		c.errorReply(msgNoSuchKey)
	case errors.Is(err, queue.ErrIndexOutOfRange):
		c.errorReply(msgIndexRange)
	case errors.Is(err, queue.ErrNotInteger):
		c.errorReply(msgNotInteger)
	case errors.Is(err, queue.ErrOverflow):
		c.errorReply(msgOverflow)
	case errors.Is(err, queue.ErrFull):
		c.errorReply(msgOOM)
	case errors.Is(err, queue.ErrLogFailed):
		c.errorReply(msgMisconfPrefix + rootCause(err))
	case errors.Is(err, queue.ErrBusyKey):
		c.errorReply(msgBusyKey)
	case errors.Is(err, queue.ErrDBIndex):
		c.errorReply(msgDBIndex)
	case errors.Is(err, queue.ErrSameObject):
		c.errorReply(msgSameObject)
	case errors.Is(err, rdb.ErrVersion), errors.Is(err, rdb.ErrChecksum):
		// RESTORE's payload check, before it decodes (rdb/doc.go).
		c.errorReply(msgDumpPayload)
	case errors.Is(err, rdb.ErrCorrupt), errors.Is(err, rdb.ErrEmptyKey), errors.Is(err, rdb.ErrUnsupportedType):
		c.errorReply(msgBadData)
	case errors.Is(err, queue.ErrUnblocked):
		c.errorReply(msgUnblocked)
	case errors.Is(err, config.ErrLoading):
		c.errorReply(msgLoading)
	case errors.As(err, new(*config.SetError)):
		c.errorReply("ERR " + err.Error()) // config has Redis's CONFIG SET text
	case errors.Is(err, config.ErrNoConfigFile):
		c.errorReply(msgNoConfigFile)
	case errors.Is(err, errRewriteConfig):
		c.core.log.Error("CONFIG REWRITE failed", "err", err)
		c.errorReply("ERR Rewriting config file: " + strerror(err))
	case errors.Is(err, errRewriteAOF):
		if errors.Is(err, queue.ErrRewriteInProgress) {
			c.errorReply("ERR " + msgAOFRewriteRunning)
			return
		}
		c.core.log.Error("BGREWRITEAOF failed", "err", err)
		c.errorReply("ERR Can't execute an AOF background rewriting. Please check the server logs for more information.")
	default:
		c.core.log.Error("command failed", "client", c.id, "err", err)
		c.errorReply("ERR internal error")
	}
}

// rootCause returns the innermost error's text rather than the whole
// chain, which is what Redis shows after MISCONF. An errno is spelled as
// C's strerror: "No space left on device", as Redis prints
// strerror(server.aof_last_write_errno); Go's table is glibc's text with
// the first letter lowered.
func rootCause(err error) string {
	if errors.As(err, new(syscall.Errno)) {
		return redisc.Strerror(err)
	}
	for {
		u := errors.Unwrap(err)
		if u == nil {
			break
		}
		err = u
	}
	// A joined error (errors.Join, %w twice) unwraps to nil; take its
	// last line.
	s := err.Error()
	if i := strings.LastIndex(s, ": "); i >= 0 {
		s = s[i+2:]
	}
	return s
}
