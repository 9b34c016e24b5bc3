package config

import (
	"errors"
	"fmt"
	"strings"
)

// These errors can be returned while loading the configuration (Load,
// ParseArgs). The typed errors below wrap or match them.
var (
	// ErrHelp is returned by ParseArgs when the first argument is -h or
	// --help: the caller prints Usage and exits, as redis-server does.
	ErrHelp = errors.New("config: help requested")

	// ErrStdin is returned by ParseArgs for a lone "-" (redis-server's
	// "read the configuration from stdin"), which mullet does not support.
	ErrStdin = errors.New("config: reading the configuration from stdin is not supported")

	// ErrInvalid is wrapped by the error Load returns when every directive
	// parsed but their combination is refused (consumer-retry-min above
	// consumer-retry-max, for example).
	ErrInvalid = errors.New("config: invalid configuration")
)

// These errors can be matched with errors.Is against a *SetError,
// *FileError or *FlagError.
var (
	// ErrUnknownDirective means the name is not a directive mullet knows.
	ErrUnknownDirective = errors.New("config: unknown directive")

	// ErrImmutable means CONFIG SET named a directive that can only be set
	// at start-up.
	ErrImmutable = errors.New("config: can't set immutable config")

	// ErrEviction means a maxmemory-policy other than noeviction was asked
	// for. A queue must never drop items to make room, so mullet refuses
	// every eviction policy Redis has, at start-up and at run time.
	ErrEviction = errors.New("config: " + reasonEviction)

	// ErrLoading means CONFIG SET named a directive Redis will not change
	// while the dataset loads (appendonly, dir): the server answers
	// -LOADING, as Redis does.
	ErrLoading = errors.New("config: can't set while loading")
)

// ErrNoConfigFile is returned by Rewrite with an empty path when the
// configuration was not loaded from a file. Redis's reply for this case is
// "ERR The server is running without a config file".
var ErrNoConfigFile = errors.New("config: the server is running without a config file")

// Reasons with a meaning of their own. The texts are Redis's where Redis
// has the case, and they are what Error methods print, so they are API.
const (
	reasonImmutable = "can't set immutable config"
	reasonProtected = "can't set protected config"
	reasonEviction  = "mullet never evicts: maxmemory-policy must be noeviction"
	reasonBad       = "Bad directive or wrong number of arguments"
	reasonArgc      = "wrong number of arguments"
)

// isReason maps a reason text to the sentinel it stands for.
func isReason(reason string, target error) bool {
	switch target {
	case ErrImmutable:
		return reason == reasonImmutable
	case ErrEviction:
		return reason == reasonEviction
	case ErrUnknownDirective:
		return reason == reasonBad
	}
	return false
}

// FileError is a configuration file line that cannot be applied. Its
// fields carry what Redis's "*** FATAL CONFIG FILE ERROR ***" report
// shows, plus the file name (Redis omits it, which hurts with includes).
type FileError struct {
	File   string // path as given (the file, or the included file)
	Line   int    // 1-based; 0 when the file itself cannot be read
	Text   string // the line, trimmed as Redis trims it
	Reason string // Redis's reason, e.g. "argument must be 'yes' or 'no'"
	Err    error  // the underlying error when reading a file failed
}

// Error returns a one-line summary naming file, line, text and reason.
func (e *FileError) Error() string {
	if e.Line == 0 {
		return "config: " + e.Reason
	}
	return fmt.Sprintf("config: %s, line %d: >>> '%s': %s", e.File, e.Line, e.Text, e.Reason)
}

// Report returns the multi-line report redis-server prints before it
// exits, with the file name added:
//
//	*** FATAL CONFIG FILE ERROR ***
//	Reading the configuration file mullet.conf, at line 3
//	>>> 'port abc'
//	argument couldn't be parsed into an integer
func (e *FileError) Report() string {
	var b strings.Builder
	b.WriteString("\n*** FATAL CONFIG FILE ERROR ***\n")
	if e.Line > 0 {
		fmt.Fprintf(&b, "Reading the configuration file %s, at line %d\n", e.File, e.Line)
		fmt.Fprintf(&b, ">>> '%s'\n", e.Text)
	}
	b.WriteString(e.Reason)
	b.WriteByte('\n')
	return b.String()
}

// Unwrap returns the I/O error behind a file that could not be read.
func (e *FileError) Unwrap() error { return e.Err }

// Is matches ErrUnknownDirective, ErrEviction and ErrImmutable by reason.
func (e *FileError) Is(target error) bool { return isReason(e.Reason, target) }

// FlagError is a command-line override (--name value ...) that cannot be
// applied or parsed.
type FlagError struct {
	Flag   string   // the directive name, without the leading "--"
	Args   []string // its arguments
	Reason string   // Redis's reason, as in FileError
}

// Error names the flag and its arguments, then the reason.
func (e *FlagError) Error() string {
	s := "config: --" + e.Flag
	for _, a := range maskArgs(e.Flag, e.Args) {
		s += " " + Quote(a)
	}
	return s + ": " + e.Reason
}

// Is matches ErrUnknownDirective, ErrEviction and ErrImmutable by reason.
func (e *FlagError) Is(target error) bool { return isReason(e.Reason, target) }

// SetErrorKind says which of Redis's CONFIG SET replies a SetError is.
type SetErrorKind uint8

// The kinds of CONFIG SET failure, one per reply format Redis has.
const (
	// SetFailed: "CONFIG SET failed (possibly related to argument 'NAME') - REASON".
	SetFailed SetErrorKind = iota
	// SetUnknown: "Unknown option or number of arguments for CONFIG SET - 'NAME'".
	SetUnknown
	// SetSyntax: "syntax error" (an odd number of arguments).
	SetSyntax
	// SetArity: "wrong number of arguments for 'config|set' command".
	SetArity
	// SetLoading: the server's LOADING error ("LOADING Redis is loading
	// the dataset in memory"); it matches ErrLoading.
	SetLoading
)

// SetError is a refused CONFIG SET. Error returns exactly the text
// redis-server 7.0 replies, without the leading "ERR " the server adds.
type SetError struct {
	Kind   SetErrorKind
	Name   string // the argument Redis names (as typed for unknown, immutable and duplicate names)
	Reason string // for SetFailed, e.g. "argument must be between 0 and 65535 inclusive"
	Err    error  // the hook's error when an OnChange hook refused the change
}

// Error returns Redis's reply text without "ERR ".
func (e *SetError) Error() string {
	switch e.Kind {
	case SetUnknown:
		return "Unknown option or number of arguments for CONFIG SET - '" + cstr(e.Name) + "'"
	case SetSyntax:
		return "syntax error"
	case SetArity:
		return "wrong number of arguments for 'config|set' command"
	case SetLoading:
		return "Redis is loading the dataset in memory"
	}
	if e.Reason == "" {
		return "CONFIG SET failed (possibly related to argument '" + cstr(e.Name) + "')"
	}
	return "CONFIG SET failed (possibly related to argument '" + cstr(e.Name) + "') - " + e.Reason
}

// cstr is s as C's "%s" prints it, up to its first NUL: Redis quotes the
// name that way.
func cstr(s string) string {
	if i := strings.IndexByte(s, 0); i >= 0 {
		return s[:i]
	}
	return s
}

// Unwrap returns the hook error, if a hook caused the failure.
func (e *SetError) Unwrap() error { return e.Err }

// Is matches ErrUnknownDirective, ErrImmutable, ErrEviction and
// ErrLoading.
func (e *SetError) Is(target error) bool {
	switch e.Kind {
	case SetUnknown:
		return target == ErrUnknownDirective
	case SetLoading:
		return target == ErrLoading
	}
	return e.Kind == SetFailed && isReason(e.Reason, target) && target != ErrUnknownDirective
}
