// Package queue is mullet's keyspace engine: sixteen databases of keys
// holding lists and strings, blocked clients, watched keys, memory
// accounting, and the ordering of the write log. It imports no other
// package of the project; the append-only file plugs in through Log, and
// the RESP server and the embedded consumer drive it in-process.
//
// # Basics
//
// Every operation runs inside a Tx, which holds the keyspace's one mutex:
//
//	tx := ks.Begin()
//	n, err := tx.Push(0, key, items, true, false) // LPUSH
//	ticket := tx.End()
//	err = log.Wait(ticket) // before replying
//
// End serves clients blocked on keys that received data, then unlocks.
//
// Lists are stored the way Redis's quicklist of listpacks stores them:
// items packed into chunks of 16 to 64 KiB held in a ring, so pushes and
// pops at both ends are O(1), and ten million items cost the garbage
// collector a few thousand pointers, not ten million. With
// Config.CompressDepth (list-compress-depth) the chunks between the ends
// are held zstd-compressed and counted at their compressed size
// (compress.go); items read from them alias scratch memory that stays
// valid until End.
//
// # Guarantees
//
//   - Log order is apply order: records are appended under the lock.
//   - Records are what Redis propagates: a served BRPOP is logged as RPOP,
//     EXPIRE as PEXPIREAT, a lazily expired key as DEL, so the log replays
//     without depending on the clock or on who was blocked.
//   - Blocked clients are served first come, first served, per key.
//   - Nothing is ever evicted: past MaxMemory, writes that add data get
//     ErrFull and the data stays.
//
// # Caveats
//
//   - Byte slices returned by Tx methods alias keyspace memory and are only
//     valid until the next operation of the Tx (or End): copy what you keep.
//     Slices passed in are copied.
//   - A Tx must not be used after End, nor by two goroutines.
//   - UsedMemory counts what the data costs the Go heap (within a few
//     percent of runtime/metrics), not connection buffers, garbage, the
//     Go runtime's own overhead, or chunks a live Snapshot still reads.
package queue
