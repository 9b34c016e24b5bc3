package aof

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
)

// FsyncPolicy says when appended records reach stable storage, as Redis's
// appendfsync. The zero value is FsyncEverySec, Redis's default.
type FsyncPolicy int32

const (
	// FsyncEverySec: Wait returns once the record is handed to the kernel
	// with write(2); a background fdatasync runs at least once a second
	// while there is unsynced data. An OS crash or power loss can lose
	// about the last second of acknowledged records; a process crash
	// loses none.
	FsyncEverySec FsyncPolicy = iota
	// FsyncAlways: Wait returns only after an fdatasync covers the record.
	// Concurrent writers share each fdatasync (group commit).
	FsyncAlways
	// FsyncNo: Wait returns after write(2); the kernel decides when to
	// write back. Sync still forces an fdatasync.
	FsyncNo
)

// ParseFsyncPolicy parses Redis's appendfsync values: always, everysec, no
// (case-insensitive).
func ParseFsyncPolicy(s string) (FsyncPolicy, error) {
	switch strings.ToLower(s) {
	case "always":
		return FsyncAlways, nil
	case "everysec":
		return FsyncEverySec, nil
	case "no":
		return FsyncNo, nil
	}
	return 0, fmt.Errorf("aof: unknown appendfsync policy %q (want always, everysec or no)", s)
}

// String returns the policy as Redis spells it in CONFIG GET appendfsync.
func (p FsyncPolicy) String() string {
	switch p {
	case FsyncAlways:
		return "always"
	case FsyncEverySec:
		return "everysec"
	case FsyncNo:
		return "no"
	}
	return fmt.Sprintf("FsyncPolicy(%d)", int32(p))
}

// Defaults, named after the Redis settings they mirror.
const (
	DefaultDirName           = "appendonlydir"  // appenddirname
	DefaultFileName          = "appendonly.aof" // appendfilename
	DefaultRewritePercentage = 100              // auto-aof-rewrite-percentage
	DefaultRewriteMinSize    = 64 << 20         // auto-aof-rewrite-min-size, bytes
	DefaultMaxBulkLen        = 512 << 20        // proto-max-bulk-len, bytes
)

// Options configure Open and Check. Start from DefaultOptions: the zero
// value of LoadTruncated is false (refuse a torn tail), and a zero
// RewritePercentage disables automatic rewrites. Open copies the struct;
// changing it afterwards has no effect (use SetPolicy and the rewrite
// setters at run time).
type Options struct {
	// Dir is the working directory (Redis's dir). Required.
	Dir string
	// DirName is the AOF directory inside Dir. Empty means DefaultDirName.
	DirName string
	// FileName is the file name prefix (Redis's appendfilename). Empty
	// means DefaultFileName. It must be a plain name, not a path.
	FileName string

	// Fsync is the fsync policy (appendfsync). Zero is FsyncEverySec.
	Fsync FsyncPolicy

	// LoadTruncated, as aof-load-truncated yes, makes Load cut a torn tail
	// of the last incr file back to the last whole command instead of
	// failing with *CorruptError. DefaultOptions sets it.
	LoadTruncated bool

	// RewritePercentage and RewriteMinSize trigger an automatic rewrite
	// (when Source is set) once the AOF is bigger than RewriteMinSize bytes
	// and has grown by RewritePercentage percent since the last rewrite.
	// Zero RewritePercentage disables it, as in Redis.
	RewritePercentage int
	RewriteMinSize    int64
	// Source feeds automatic rewrites. Nil disables them; Rewrite still
	// works with an explicit Source.
	Source Source

	// MaxBulkLen caps one argument while loading, in bytes. Zero means
	// DefaultMaxBulkLen. Loading never allocates more than the file holds.
	MaxBulkLen int64

	// Logger receives warnings (truncated tails, fsync stalls, write
	// errors) and rewrite notices. Nil discards them.
	Logger *slog.Logger

	// LoadRDB, when set, replays a base file in RDB format (it starts with
	// "REDIS"): it must consume exactly the RDB payload from r and call
	// apply for each command that rebuilds it (argv valid only during the
	// call). Load then goes on with any RESP commands after the payload.
	// Nil makes such a base fail with ErrRDBBase.
	LoadRDB func(r io.Reader, apply func(argv [][]byte) error) error

	// RDBPreamble (aof-use-rdb-preamble yes, Redis's default) makes
	// rewrites write the base in RDB format, through WriteRDB, to a file
	// named *.base.rdb as Redis names it; false writes RESP commands to
	// *.base.aof. SetRDBPreamble changes it while running. With WriteRDB
	// nil the base is always RESP.
	RDBPreamble bool
	// WriteRDB writes ds as a whole RDB file (header to checksum) to w.
	WriteRDB func(w io.Writer, ds Dataset) error

	// Progress, when set, is called from Load with the bytes replayed so
	// far and the total, about every 16 MiB and once at the end.
	Progress func(done, total int64)

	// OpenFile opens every file the log writes or reads (not the
	// directory). Nil means the os package. It exists for fault-injection
	// tests, which return files whose writes or syncs fail.
	OpenFile func(name string, flag int, perm os.FileMode) (File, error)
}

// DefaultOptions returns Redis's defaults for an AOF under dir.
func DefaultOptions(dir string) Options {
	return Options{
		Dir:               dir,
		DirName:           DefaultDirName,
		FileName:          DefaultFileName,
		Fsync:             FsyncEverySec,
		LoadTruncated:     true,
		RewritePercentage: DefaultRewritePercentage,
		RewriteMinSize:    DefaultRewriteMinSize,
		MaxBulkLen:        DefaultMaxBulkLen,
	}
}

// Validate reports the first invalid field.
func (o *Options) Validate() error {
	if o.Dir == "" {
		return errors.New("aof: Options.Dir is empty")
	}
	if strings.ContainsAny(o.FileName, `/\`) {
		return fmt.Errorf("aof: appendfilename %q must be a file name, not a path", o.FileName)
	}
	if strings.ContainsAny(o.DirName, `/\`) {
		return fmt.Errorf("aof: appenddirname %q must be a directory name, not a path", o.DirName)
	}
	if o.Fsync < FsyncEverySec || o.Fsync > FsyncNo {
		return fmt.Errorf("aof: invalid fsync policy %d", o.Fsync)
	}
	if o.RewritePercentage < 0 {
		return fmt.Errorf("aof: auto-aof-rewrite-percentage %d is negative", o.RewritePercentage)
	}
	if o.RewriteMinSize < 0 {
		return fmt.Errorf("aof: auto-aof-rewrite-min-size %d is negative", o.RewriteMinSize)
	}
	if o.MaxBulkLen < 0 {
		return fmt.Errorf("aof: MaxBulkLen %d is negative", o.MaxBulkLen)
	}
	return nil
}

// withDefaults fills the empty fields that have a non-zero default.
func (o Options) withDefaults() Options {
	if o.DirName == "" {
		o.DirName = DefaultDirName
	}
	if o.FileName == "" {
		o.FileName = DefaultFileName
	}
	if o.MaxBulkLen == 0 {
		o.MaxBulkLen = DefaultMaxBulkLen
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.OpenFile == nil {
		o.OpenFile = openOSFile
	}
	return o
}
