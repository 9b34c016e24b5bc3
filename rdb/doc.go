// Package rdb reads and writes Redis's RDB serialization for the two kinds
// of value mullet holds, strings and lists. It covers DUMP/RESTORE payloads
// (EncodeString, EncodeList, ListEncoder, Decode) and whole RDB files (Load,
// Writer), such as the base file of a Redis 7 multi-part AOF directory,
// which Redis and mullet write in RDB format by default
// (aof-use-rdb-preamble yes).
//
// A DUMP payload is one value in RDB encoding followed by a 10-byte trailer:
//
//	<type byte> <value> <RDB version: uint16 LE> <CRC64 of all before: uint64 LE>
//
// An RDB file is "REDIS" and a four-digit version, then a stream of opcodes
// (aux fields, SELECTDB, RESIZEDB, expire times, LRU/LFU hints) and key
// records (<type> <key string> <value>), then the EOF opcode and the CRC64
// of everything before the checksum. The CRC is Redis's CRC-64/Jones; the
// formats follow Redis 7.0's rdb.c, listpack.c, ziplist.c and lzf_d.c.
//
// # Guarantees
//
//   - redis-server 7.0 RESTOREs every payload EncodeString, EncodeList and
//     ListEncoder produce (checked by tests against a real server), and
//     EncodeString's output is byte-identical to Redis 7.0's DUMP with
//     rdbcompression no.
//   - redis-server 7.0 loads every file Writer writes, and redis-check-rdb
//     accepts it (tested): Redis 7.0's layout with rdbcompression yes,
//     lists as type 18 with listpack nodes.
//   - Decode reads every string and list encoding Redis 7.0 writes or loads:
//     raw, integer and LZF strings; list types 1, 10 (ziplist), 14
//     (quicklist of ziplists) and 18 (quicklist of listpack and plain nodes,
//     compressed or not). It checks the trailer first, exactly as RESTORE
//     does, so it refuses the payloads RESTORE refuses with "DUMP payload
//     version or checksum are wrong".
//   - Load reads RDB versions 1 to 10, verifies the checksum, and streams:
//     a list is passed on in parts of about 1 MiB of items, so memory is
//     bounded by that, the largest string and a 64 KiB buffer, and
//     allocations grow with the logarithm of the item count, not with it
//     (a million-item list loads in about 0.1 s with a few dozen).
//   - No input makes Decode or Load panic, read out of bounds, or allocate
//     much more than the input justifies: declared lengths are checked
//     against the bytes left (Decode) or memory grows only as data arrives
//     (Load), and LZF output is capped at the format's maximum expansion.
//     Both are fuzzed with an allocation budget.
//   - Values returned by Decode own their memory; each list item is its own
//     allocation.
//   - All functions are safe for concurrent use. A ListEncoder is not.
//
// Servers should answer RESTORE errors the way Redis 7.0 does: ErrVersion
// and ErrChecksum with "ERR DUMP payload version or checksum are wrong";
// ErrCorrupt, ErrEmptyKey and ErrUnsupportedType with "ERR Bad data format".
//
// # Caveats
//
//   - The key and Value passed to Load's apply function alias buffers Load
//     reuses; they are valid only until apply returns. Copy what you keep.
//   - DUMP payloads encode lists as RDB_TYPE_LIST (type 1), not the type
//     18 Redis 7.0 writes; Redis re-encodes them on RESTORE (see
//     ListEncoder for why). The DUMP encoders never LZF-compress, so
//     payloads of repetitive data are larger than Redis's own; Writer
//     (whole files) does compress.
//   - Load cannot skip values it does not parse. The first set, hash, sorted
//     set, stream or module key, and any module aux data or function
//     library, stops the load with a *TypeError naming it.
//   - Load reports expiry times but does not drop expired keys; whether to
//     do so (Redis does for a plain RDB loaded by a master, not for an AOF
//     preamble) is the caller's decision.
//   - Load holds one string, or one part of a list, in memory at a time:
//     a part costs its bytes plus about 40 bytes per item while it is
//     being applied.
//   - RDB versions above 10 (Redis 7.2 and later) are refused, as Redis 7.0
//     refuses them, even when the data would only hold strings and lists.
//   - Expire times in RDB files older than version 9 were written in host
//     byte order; Load assumes a little-endian writer.
//   - Decode and Load are stricter than Redis 7.0 in a few corners Redis
//     never produces: bytes left after a DUMP value, string encodings where
//     a length belongs, LZF data that does not expand to exactly the
//     declared size, and any ziplist or listpack inconsistency (Redis checks
//     them deeply only with sanitize-dump-payload yes).
//   - Unless r is a *bufio.Reader, Load may read past the end of the RDB.
package rdb
