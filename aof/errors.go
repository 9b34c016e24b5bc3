package aof

import (
	"errors"
	"fmt"

	"mullet/queue"
)

// These errors can be returned by Open and Load.
var (
	// ErrLocked is returned by Open (and Check with fix) when another
	// process holds the lock on the AOF directory.
	ErrLocked = errors.New("aof: directory is locked by another process")

	// ErrRDBBase is returned by Load when the base file holds RDB data (it
	// starts with "REDIS") and Options.LoadRDB is nil. Redis writes such a
	// base unless it runs with aof-use-rdb-preamble no.
	ErrRDBBase = errors.New("aof: base file is in RDB format: restart redis-server with " +
		"`aof-use-rdb-preamble no` and run BGREWRITEAOF, or set Options.LoadRDB")

	// ErrLoaded is returned by a second call to Load.
	ErrLoaded = errors.New("aof: Load already called")
)

// These errors can be returned while the log is running.
var (
	// ErrClosed is returned by Wait, Sync and Rewrite after Close, for
	// tickets that were not durable when the log closed.
	ErrClosed = errors.New("aof: closed")

	// ErrFailed wraps every sticky write or fsync failure; the cause (for
	// example syscall.ENOSPC, "no space left on device") is wrapped too, so
	// errors.Is works for both. Err returns it until a later write and
	// fdatasync succeed.
	ErrFailed = errors.New("aof: write failed")

	// ErrRewriteInProgress is returned by Rewrite while another rewrite
	// runs. It is queue.ErrRewriteInProgress for errors.Is, which is how
	// the commands recognise it. Its text is Redis's reply to BGREWRITEAOF
	// in that case, hence the capital letter and the missing "aof: "
	// prefix.
	ErrRewriteInProgress error = rewriteInProgress{}
)

type rewriteInProgress struct{}

func (rewriteInProgress) Error() string {
	return "Background append only file rewriting already in progress"
}

func (rewriteInProgress) Is(target error) bool { return target == queue.ErrRewriteInProgress }

// CorruptError reports bytes that cannot be replayed: a malformed record,
// a checksum mismatch, or a torn tail where one is not allowed (in any
// file but the last incr file, or with Options.LoadTruncated off).
// Start-up must stop: replaying past it would silently lose or invent data.
type CorruptError struct {
	Path   string // the file, as a full path
	Offset int64  // bytes from the start of the file to the first bad byte
	Reason string // what was expected, in words
}

func (e *CorruptError) Error() string {
	return fmt.Sprintf("aof: %s is corrupt at offset %d: %s; make a backup of the AOF directory, "+
		"then repair it with `mullet aof check --fix DIR` (truncates the last incr file only)",
		e.Path, e.Offset, e.Reason)
}
