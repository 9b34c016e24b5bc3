// Package aof is mullet's append-only file: a Redis 7.0 multi-part AOF
// that redis-server and redis-check-aof read, and that reads what
// redis-server 7.0 writes, with aof-use-rdb-preamble yes or no.
//
// # Layout
//
// Under Dir/DirName (default appendonlydir) live the manifest
// <FileName>.manifest (default appendonly.aof.manifest), one base file
// and one or more incr files <FileName>.<n>.incr.aof of RESP commands.
// The base is <FileName>.<n>.base.rdb, an RDB file (Options.RDBPreamble,
// written through Options.WriteRDB, read through Options.LoadRDB), or
// <FileName>.<n>.base.aof of RESP commands. The manifest lines are
// Redis's ("file appendonly.aof.1.base.aof seq 1 type b"); see
// manifest.go. resp.go describes what a file holds, including the
// "#crc32c:" annotation lines Redis skips on load.
//
// # Use
//
//	a, err := aof.Open(aof.DefaultOptions(dir))
//	err = a.Load(func(argv [][]byte) error { return keyspace.Exec(argv) })
//	// under the keyspace lock:
//	t := a.Append(db, argv)
//	// after releasing it, before replying:
//	if err := a.Wait(t); err != nil { /* reply MISCONF, do not acknowledge */ }
//	...
//	a.Close()
//
// One goroutine owns the current incr file: Append copies the record into
// a buffer and returns a ticket; the owner writes whatever has gathered
// with one write(2) and wakes only the waiters it covers (a min-heap by
// ticket, no broadcast). A second goroutine runs fdatasync, so writing
// goes on while a sync runs. Under FsyncAlways every fdatasync covers all
// that was written before it, so concurrent clients share it (group
// commit), and the owner waits a few microseconds for the clients it just
// released before starting the next one. Sync forces an fdatasync for
// WAITAOF and for the consumer.
//
// # API
//
//   - Open, Load (once), then Append/Wait from the keyspace; Close.
//   - Sync(ctx, ticket): fdatasync covering ticket, whatever the policy.
//   - Err: the sticky write or fsync error (MISCONF), nil when healthy.
//   - Rewrite(Source): BGREWRITEAOF; ErrRewriteInProgress if one runs.
//   - Info: INFO persistence fields; SetPolicy, SetRewritePercentage,
//     SetRewriteMinSize: CONFIG SET.
//   - Check(dir, opts, fix, out): redis-check-aof [--fix].
//
// When woken, the owner yields once before taking the buffer, so the
// connection goroutines already runnable append first and one write(2)
// carries all of them, as Redis writes once per event-loop iteration; and
// only the first Append after a take wakes it, so under load a write(2)
// carries the records of many connections.
// docs/durability.md ("Measured figures") has the figures against
// redis-server (ops/s per policy and pipeline, load time, RSS).
//
// Rewrite (BGREWRITEAOF, or automatic per auto-aof-rewrite-percentage and
// auto-aof-rewrite-min-size when Options.Source is set) needs no fork: the
// keyspace's Source.Snapshot calls cut under its lock, the log switches to
// a new incr file there, and a goroutine writes the snapshot as the new
// base; then the manifest is swapped atomically and old files removed.
//
// Check does what redis-check-aof does, with --fix semantics.
//
// # Guarantees
//
//   - Log order is Append order. A nil Wait means: the record and every
//     earlier one were handed to the kernel (everysec, no) or are on stable
//     storage (always). A process crash never loses a record whose Wait
//     returned nil; under always neither does an OS crash or power loss.
//   - Nothing that failed is acknowledged: after a failed write or
//     fdatasync, Wait returns an error for every record not yet covered,
//     and Err stays non-nil until the writer's retries (with backoff)
//     succeed. A short write is cut back to the last good offset.
//   - After an fdatasync error a second fdatasync is not trusted (the
//     kernel may have dropped the dirty pages): the log stays failed until
//     a rewrite from Options.Source (the keyspace, which holds every
//     acknowledged write) has produced a new fsynced base and manifest and
//     the incr file after it synced, exactly as BGREWRITEAOF. No copy of
//     unsynced bytes is kept for this, so the write path costs nothing
//     extra: no second copy of each record, no memory held for one.
//     Without a
//     Source the fdatasync is merely retried, and an OS crash may lose
//     the records written since the last good one.
//   - The manifest is replaced atomically (temp file, fsync, rename, fsync
//     of the directory); a crash leaves the old or the new set of files.
//   - Load replays exactly the whole records: a torn tail of the last incr
//     file is cut back (aof-load-truncated), anything else damaged stops
//     start-up with a *CorruptError that says how to repair.
//   - Checksum annotations detect flipped bytes and lost blocks that still
//     parse as RESP, in every span we wrote.
//
// # Caveats
//
//   - Under FsyncEverySec (the default) an OS crash or power loss can lose
//     the records of about the last second, even acknowledged ones; under
//     FsyncNo, whatever the kernel had not written back.
//   - argv passed to Load's apply is only valid during the call.
//   - Append panics before Load has succeeded.
//   - While the log is failed, appended records stay in memory until a
//     write succeeds: the keyspace must refuse data-adding commands then
//     (Err), or memory grows with the backlog.
//   - A full disk is met early: 1 MiB (spaceReserve) stays preallocated
//     beyond the data, and once it cannot be kept Err reports ENOSPC
//     (-MISCONF ... No space left on device for commands that add data)
//     while pops and deletes go on being written into the reserve and
//     acknowledged. Only when the reserve is used up, or on a filesystem
//     without fallocate, do writes fail; a pop whose record cannot be
//     written is then not acknowledged (the client is disconnected) and
//     its item is gone from memory, as an RPOP whose reply is lost.
//   - Under FsyncAlways the owner spins (runtime.Gosched) for at most a
//     quarter of the last fdatasync's duration, capped at 100µs, while it
//     gathers the next batch; timers are too coarse for that.
//   - Files redis-server wrote carry no checksums: only their RESP
//     structure is verified. A base in RDB format needs Options.LoadRDB.
//   - Under everysec a write waits while a background fdatasync runs, up
//     to two seconds (Redis's rule; counted in aof_delayed_fsync), so a
//     slow disk delays replies rather than the write going unsynced.
//   - Unlike Redis, a failed write or fdatasync under FsyncAlways does not
//     exit the process: the log goes read-only for data-adding commands
//     (Err) and nothing failed is acknowledged.
//   - The directory is flock'ed against a second mullet, but redis-server
//     does not honour the lock: never run both on one directory.
//   - Under everysec and no, preallocation uses
//     fallocate(FALLOC_FL_KEEP_SIZE), so files keep their true size, but
//     the size still changes on every append and the reserved extents must
//     be converted, so fdatasync commits the journal. Under always the
//     writer pads instead (AOF.reserve): it writes '#' bytes ending in
//     '\n' up to 4 MiB ahead, so appends overwrite written blocks inside
//     the file size and fdatasync flushes data only, in less time
//     (docs/durability.md). A crash leaves that padding: Redis skips it as one
//     annotation line, and Load and Check cut it (padStart). The writer
//     keeps the run of padding after its data off multiples of 1023
//     bytes, where Redis's fgets would leave a lone newline (padTrap).
package aof
