package queue

import "bytes"

var bAPPEND = []byte("APPEND")

// Peek returns the kind of value at key, the string if it holds one
// (aliasing keyspace memory, never nil for a string), and its expiry in
// Unix milliseconds (0: none). Like Redis's lookupKeyWrite it counts no
// keyspace hit or miss, which is what read-modify-write commands
// (INCRBYFLOAT, APPEND) and DUMP need; an expired key is deleted first,
// as by every lookup.
func (tx *Tx) Peek(dbi int, key []byte) (kind Kind, str []byte, expireAt int64) {
	v := tx.lookup(dbi, key)
	if v == nil {
		return KindNone, nil, 0
	}
	if v.kind == KindString {
		str = v.str
		if str == nil {
			str = []byte{}
		}
	}
	return v.kind, str, v.expire
}

// EachItem calls fn with the items of the list at key, head to tail,
// until fn returns false. Items alias keyspace memory: fn must copy what
// it keeps and must not call other Tx methods. A missing key calls fn
// never; a string gives ErrWrongType.
func (tx *Tx) EachItem(dbi int, key []byte, fn func(item []byte) bool) error {
	v, err := tx.listFor(dbi, key)
	if err != nil || v == nil {
		return err
	}
	v.list.iter(0, false, fn)
	return nil
}

// Append appends val to the string at key, creating it if missing, keeps
// the key's TTL, and returns the new length. It is logged as APPEND.
func (tx *Tx) Append(dbi int, key, val []byte) (int64, error) {
	v, err := tx.stringFor(dbi, key)
	if err != nil {
		return 0, err
	}
	var n int
	if v == nil {
		s := bytes.Clone(val)
		if s == nil {
			s = []byte{}
		}
		tx.putString(dbi, key, s, nil, 0)
		n = len(s)
	} else {
		// Appending in place is safe: no two keys share a string buffer
		// (every writer copies), and a snapshot or a caller holding the old
		// slice sees only its first len bytes, which do not change.
		before := v.memSize()
		v.str = append(v.str, val...)
		tx.account(v, before)
		tx.touch(dbi, string(key))
		n = len(v.str)
	}
	tx.argv = append(tx.argv[:0], bAPPEND, key, val)
	tx.logv(dbi)
	return int64(n), nil
}
