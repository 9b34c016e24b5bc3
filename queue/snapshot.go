package queue

import (
	"slices"
	"strconv"
)

// A Snapshot is the dataset as it was at one instant, readable while
// clients keep writing: the AOF rewrite builds a new base file from it
// without fork and without stopping anyone. Taking it copies each list's
// chunk descriptors (one per chunk, up to 64 KiB of items) under the lock,
// not the items; afterwards writers copy a chunk buffer before changing it
// in place (see epochs), so the snapshot's view never changes.
type Snapshot struct {
	ks  *Keyspace
	dbs [][]snapEntry
}

type snapEntry struct {
	key    string
	kind   Kind
	chunks []chunk
	str    []byte
	expire int64
}

// Snapshot freezes the dataset. cut, if not nil, runs while no write can be
// applied: the AOF switches to a new incr file there, so the snapshot plus
// that file is the whole dataset. Release the snapshot when done.
func (ks *Keyspace) Snapshot(cut func()) *Snapshot {
	ks.mu.Lock()
	defer ks.mu.Unlock()
	if cut != nil {
		cut()
	}
	ks.snapshots++
	ks.ep.frozen = ks.ep.cur
	ks.ep.cur++
	now := ks.now().UnixMilli()
	s := &Snapshot{ks: ks, dbs: make([][]snapEntry, len(ks.db))}
	for i, d := range ks.db {
		entries := make([]snapEntry, 0, len(d.keys))
		for k, v := range d.keys {
			if v.expire != 0 && v.expire <= now {
				continue
			}
			e := snapEntry{key: k, kind: v.kind, str: v.str, expire: v.expire}
			if v.kind == KindList {
				e.chunks = v.list.snapshot()
			}
			entries = append(entries, e)
		}
		s.dbs[i] = entries
	}
	return s
}

// Keys returns the number of keys in the snapshot.
func (s *Snapshot) Keys() int {
	n := 0
	for _, d := range s.dbs {
		n += len(d)
	}
	return n
}

// Each calls emit with commands that rebuild the snapshot, database by
// database: RPUSH with up to 64 items per command for lists (Redis's
// AOF_REWRITE_ITEMS_PER_CMD), SET for strings, PEXPIREAT for TTLs. argv is
// only valid during the call. It stops at the first error emit returns.
func (s *Snapshot) Each(emit func(db int, argv [][]byte) error) error {
	argv := make([][]byte, 0, rewriteBatch+2)
	var num, buf []byte // buf: the compressed chunk being read
	for dbi, entries := range s.dbs {
		for _, e := range entries {
			key := []byte(e.key)
			switch e.kind {
			case KindString:
				argv = append(argv[:0], bSET, key, e.str)
				if err := emit(dbi, argv); err != nil {
					return err
				}
			case KindList:
				argv = append(argv[:0], bRPUSH, key)
				for _, c := range e.chunks {
					if c.compressed() {
						// The batch so far may alias buf: send it before
						// buf is refilled.
						if len(argv) > 2 {
							if err := emit(dbi, argv); err != nil {
								return err
							}
							argv = argv[:2]
						}
						buf = inflate(&c, slices.Grow(buf[:0], int(c.z)))
						c = chunk{b: buf, hi: int32(len(buf)), n: c.n}
					}
					for p := int(c.lo); p < int(c.hi); {
						var item []byte
						item, p = entryAt(c.b, p)
						argv = append(argv, item)
						if len(argv) == rewriteBatch+2 {
							if err := emit(dbi, argv); err != nil {
								return err
							}
							argv = argv[:2]
						}
					}
				}
				if len(argv) > 2 {
					if err := emit(dbi, argv); err != nil {
						return err
					}
				}
			}
			if e.expire != 0 {
				num = strconv.AppendInt(num[:0], e.expire, 10)
				argv = append(argv[:0], bPEXPIREAT, key, num)
				if err := emit(dbi, argv); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// A SnapValue is one key of a Snapshot, as EachValue passes it: a string
// or a list whose items come in nodes, one per chunk of the list, which
// is how an RDB writer lays out a quicklist.
type SnapValue struct {
	Kind     Kind
	Str      []byte // the string; aliases keyspace memory
	ExpireAt int64  // Unix milliseconds; 0: no TTL
	chunks   []chunk
	buf      *[]byte // decompression buffer of the EachValue call
}

// Nodes is the number of nodes of a list, at least 1.
func (v *SnapValue) Nodes() int { return len(v.chunks) }

// Node calls fn with each item of node i, in order. Items alias memory
// that the next Node call may reuse.
func (v *SnapValue) Node(i int, fn func(item []byte)) {
	c := v.chunks[i]
	if c.compressed() {
		*v.buf = inflate(&c, slices.Grow((*v.buf)[:0], int(c.z)))
		c = chunk{b: *v.buf, hi: int32(len(*v.buf)), n: c.n}
	}
	for p := int(c.lo); p < int(c.hi); {
		var item []byte
		item, p = entryAt(c.b, p)
		fn(item)
	}
}

// DBSize returns how many keys database db of the snapshot holds, and how
// many of them have a TTL.
func (s *Snapshot) DBSize(db int) (keys, expires int) {
	for _, e := range s.dbs[db] {
		if e.expire != 0 {
			expires++
		}
	}
	return len(s.dbs[db]), expires
}

// EachValue calls fn with every key of the snapshot, database by database,
// and stops at the first error fn returns. key and v are only valid during
// the call.
func (s *Snapshot) EachValue(fn func(db int, key []byte, v *SnapValue) error) error {
	var buf []byte
	var key []byte
	for dbi, entries := range s.dbs {
		for _, e := range entries {
			key = append(key[:0], e.key...)
			v := SnapValue{Kind: e.kind, Str: e.str, ExpireAt: e.expire, chunks: e.chunks, buf: &buf}
			if err := fn(dbi, key, &v); err != nil {
				return err
			}
		}
	}
	return nil
}

// Release lets writers modify shared chunk buffers in place again.
func (s *Snapshot) Release() {
	if s.ks == nil {
		return
	}
	ks := s.ks
	s.ks, s.dbs = nil, nil
	ks.mu.Lock()
	ks.snapshots--
	if ks.snapshots == 0 {
		ks.ep.frozen = 0
	}
	ks.mu.Unlock()
}

// SnapshotLog is Snapshot for turning persistence on while running
// (CONFIG SET appendonly yes): in the same critical section as cut, it
// installs l as the log, so every write after the snapshot reaches l and
// none before it does.
func (ks *Keyspace) SnapshotLog(l Log, cut func()) *Snapshot {
	return ks.Snapshot(func() {
		if cut != nil {
			cut()
		}
		ks.log = l
		ks.logRef.Store(&logBox{l})
	})
}
