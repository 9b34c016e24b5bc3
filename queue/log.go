package queue

import "context"

// Log receives the effect of every write, in the order the keyspace applies
// it. The append-only file (package aof) satisfies it; queue itself never
// touches files: it declares the interface it needs, and neither package
// imports the other.
//
// Records are commands as Redis propagates them: a served BRPOP reaches the
// log as RPOP, an EXPIRE as PEXPIREAT. A group of records that must be
// replayed atomically (a MULTI/EXEC, a consumer claim) is bracketed by MULTI
// and EXEC records.
type Log interface {
	// Append adds one command for database db (-1 for MULTI and EXEC,
	// which belong to no database) and returns a ticket for
	// Wait and Sync. It is called with the keyspace lock held, so log order
	// is apply order; it must therefore never block on I/O. argv is only
	// valid during the call.
	Append(db int, argv [][]byte) (ticket uint64)

	// Wait blocks until the record with the given ticket (and every record
	// before it) is as durable as the fsync policy promises: handed to the
	// kernel with write(2) under everysec and no, on stable storage under
	// always. A non-nil error means the record may not survive a crash and
	// must not be acknowledged.
	Wait(ticket uint64) error

	// Sync blocks until the record with the given ticket is on stable
	// storage, whatever the policy, or ctx is done. It backs WAITAOF and the
	// consumer, which must not write a claimed batch to MySQL before the
	// claim itself is durable.
	Sync(ctx context.Context, ticket uint64) error

	// Err returns the sticky write or fsync error, or nil. While it is
	// non-nil the keyspace refuses commands that add data (Redis's MISCONF),
	// while reads, pops and deletes keep working.
	Err() error
}

// A SyncReporter is a Log that says whether Wait waits for stable storage
// (an fdatasync, appendfsync always) rather than for write(2) only. A
// front end that must not sit through an fdatasync asks it through
// Keyspace.WaitSyncs and uses Notify instead of Wait.
type SyncReporter interface {
	WaitSyncs() bool
}

// A Notifier is a Log that can report durability to a callback rather than
// to a goroutine blocked in Wait (the AOF is one). Keyspace.Notify uses it
// when the log has it.
type Notifier interface {
	// Notify returns done true, and Wait's error, if the record with the
	// ticket is already as durable as Wait promises or cannot become so;
	// otherwise it returns false and later calls fn once with what Wait
	// would return. fn must be quick and must not call into the log.
	Notify(ticket uint64, fn func(error)) (done bool, err error)
}
