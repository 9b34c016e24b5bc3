// Package coll holds the structures of Redis's hashes, sets and sorted
// sets for the keyspace engine: Hash, Set and ZSet, each with Redis 7.0's
// small and big encodings (listpack/hashtable, intset/hashtable,
// listpack/skiplist) and conversion thresholds (Limits). It imports no
// package of the project; queue wraps it (docs/types.md says how).
//
// Small encodings are one packed []byte each. Big ones keep their entries
// in append-only arena pages and index them with pointer-free slots, so
// the garbage collector sees one pointer per 8 KiB index block, 64 KiB
// page or 2 KiB order block, never one per element.
//
// # Guarantees
//
//   - Encodings, thresholds and replies' order follow Redis 7.0: a small
//     hash lists fields in insertion order, an intset ascending, a sorted
//     set by (score, member bytes).
//   - Conversion is only upward, as in Redis.
//   - Scan returns every member present from the first call to the last
//     at least once, whatever the structure does between calls.
//   - Bytes() is the heap the structure takes, counted from its buffers'
//     capacities (which are allocator size classes).
//   - A View taken right after Epochs.Freeze keeps showing the contents of
//     that instant until Epochs.Thaw, while writers go on: writers copy
//     what a view may read before changing it.
//
// # Caveats
//
//   - Nothing here is safe for concurrent use: the keyspace's lock guards
//     every call, except a View's Each, which needs no lock.
//   - Byte slices returned alias the structure and are valid until it next
//     changes (or only during a callback, where one is taken); slices
//     passed in are copied.
//   - Lex ranges assume every member of the sorted set has the same score,
//     as Redis documents; otherwise the members returned may differ from
//     Redis's.
//   - Resizing a big table's index is done at once (Redis rehashes
//     incrementally): growing a 1M-member set copies its 16 MiB index in
//     one step.
package coll
