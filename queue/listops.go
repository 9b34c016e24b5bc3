package queue

import (
	"bytes"
	"slices"
)

// listFor returns the list at key, nil if the key does not exist, or
// ErrWrongType.
func (tx *Tx) listFor(dbi int, key []byte) (*value, error) {
	v := tx.lookup(dbi, key)
	if v == nil {
		return nil, nil
	}
	if v.kind != KindList {
		return nil, ErrWrongType
	}
	return v, nil
}

// account adds the change in v's size since before to used memory.
func (tx *Tx) account(v *value, before int64) {
	if d := v.memSize() - before; d != 0 {
		tx.ks.addUsed(d)
	}
}

// dropIfEmpty deletes a list key that has no items left, as Redis does.
func (tx *Tx) dropIfEmpty(dbi int, key []byte, v *value) {
	if v.list.n == 0 {
		tx.deleteKey(dbi, string(key), v)
	}
}

// Push adds vals, in order, at the head (front) or the tail of the list at
// key and returns its new length. The list is created unless onlyIfExists
// (LPUSHX, RPUSHX), in which case a missing key gives 0.
func (tx *Tx) Push(dbi int, key []byte, vals [][]byte, front, onlyIfExists bool) (int64, error) {
	v, err := tx.listFor(dbi, key)
	if err != nil {
		return 0, err
	}
	if v == nil {
		if onlyIfExists {
			return 0, nil
		}
		v = tx.newList(dbi, key)
	}
	before := v.memSize()
	l := v.list
	for _, e := range vals {
		if front {
			l.pushFront(e)
		} else {
			l.pushBack(e)
		}
	}
	tx.account(v, before)
	tx.touch(dbi, string(key))
	cmd := bRPUSH
	if front {
		cmd = bLPUSH
	}
	tx.argv = append(append(tx.argv[:0], cmd, key), vals...)
	tx.logv(dbi)
	tx.signalReady(dbi, key)
	return l.n, nil
}

// Pop removes up to count items from the head (front) or tail of the list
// at key and appends them to out, which it returns; a missing key returns
// out unchanged and a nil error. count < 0 means one item, logged as the
// plain LPOP/RPOP. Items alias keyspace memory: copy them before the next
// operation of the Tx.
func (tx *Tx) Pop(dbi int, key []byte, front bool, count int64, out [][]byte) ([][]byte, error) {
	v, err := tx.listFor(dbi, key)
	if err != nil || v == nil {
		return out, err
	}
	out = tx.popN(dbi, key, v, front, count, out)
	return out, nil
}

// popN pops from an existing list and logs the effect.
func (tx *Tx) popN(dbi int, key []byte, v *value, front bool, count int64, out [][]byte) [][]byte {
	l := v.list
	n := count
	if n < 0 {
		n = 1
	}
	if n > l.n {
		n = l.n
	}
	if n == 0 {
		return out // COUNT 0 changes nothing: no log record, no watcher dirtied
	}
	before := v.memSize()
	for i := int64(0); i < n; i++ {
		if front {
			out = append(out, l.popFront())
		} else {
			out = append(out, l.popBack())
		}
	}
	tx.account(v, before)
	cmd := bRPOP
	if front {
		cmd = bLPOP
	}
	tx.argv = append(tx.argv[:0], cmd, key)
	if count >= 0 {
		tx.argv = append(tx.argv, tx.itoa(0, n))
	}
	tx.logv(dbi)
	tx.touch(dbi, string(key))
	tx.dropIfEmpty(dbi, key, v)
	return out
}

// Len returns the length of the list at key (0 if missing).
func (tx *Tx) Len(dbi int, key []byte) (int64, error) {
	v, err := tx.listFor(dbi, key)
	if err != nil || v == nil {
		return 0, err
	}
	return v.list.n, nil
}

// normRange turns Redis's start/stop (negative counts from the end) into a
// clamped [start, stop] and reports whether it is empty.
func normRange(start, stop, n int64) (int64, int64, bool) {
	if start < 0 {
		start += n
	}
	if stop < 0 {
		stop += n
	}
	if start < 0 {
		start = 0
	}
	if start > stop || start >= n {
		return 0, 0, false
	}
	if stop >= n {
		stop = n - 1
	}
	return start, stop, true
}

// Range appends items start..stop (inclusive, negative from the end) of the
// list at key to out. Items alias keyspace memory.
func (tx *Tx) Range(dbi int, key []byte, start, stop int64, out [][]byte) ([][]byte, error) {
	v, err := tx.listFor(dbi, key)
	if err != nil || v == nil {
		return out, err
	}
	l := v.list
	s, e, ok := normRange(start, stop, l.n)
	if !ok {
		return out, nil
	}
	// Walk from whichever end is nearer, as Redis does.
	if l.n-1-e < s {
		i := len(out)
		m := int(e - s + 1)
		out = slices.Grow(out, m)[:i+m]
		j := m - 1
		l.iter(l.n-1-e, true, func(x []byte) bool {
			out[i+j] = x
			j--
			return j >= 0
		})
		return out, nil
	}
	left := e - s + 1
	l.iter(s, false, func(x []byte) bool {
		out = append(out, x)
		left--
		return left > 0
	})
	return out, nil
}

// Index returns item i of the list at key (negative from the end), or
// ok false when the key is missing or i is out of range.
func (tx *Tx) Index(dbi int, key []byte, i int64) (item []byte, ok bool, err error) {
	v, err := tx.listFor(dbi, key)
	if err != nil || v == nil {
		return nil, false, err
	}
	l := v.list
	if i < 0 {
		i += l.n
	}
	if i < 0 || i >= l.n {
		return nil, false, nil
	}
	return l.index(i), true, nil
}

// LSet replaces item i (negative from the end) of the list at key.
func (tx *Tx) LSet(dbi int, key []byte, i int64, item []byte) error {
	v, err := tx.listFor(dbi, key)
	if err != nil {
		return err
	}
	if v == nil {
		return ErrNoSuchKey
	}
	l := v.list
	idx := i
	if idx < 0 {
		idx += l.n
	}
	if idx < 0 || idx >= l.n {
		return ErrIndexOutOfRange
	}
	before := v.memSize()
	l.set(idx, item)
	tx.account(v, before)
	tx.touch(dbi, string(key))
	tx.argv = append(tx.argv[:0], []byte("LSET"), key, tx.itoa(0, i), item)
	tx.logv(dbi)
	return nil
}

// Insert puts item before or after the first occurrence of pivot and
// returns the new length, -1 if pivot is absent, or 0 if the key is
// missing.
func (tx *Tx) Insert(dbi int, key []byte, before bool, pivot, item []byte) (int64, error) {
	v, err := tx.listFor(dbi, key)
	if err != nil || v == nil {
		return 0, err
	}
	l := v.list
	pos := int64(-1)
	var i int64
	l.iter(0, false, func(x []byte) bool {
		if bytes.Equal(x, pivot) {
			pos = i
			return false
		}
		i++
		return true
	})
	if pos < 0 {
		return -1, nil
	}
	if !before {
		pos++
	}
	sz := v.memSize()
	l.insertAt(pos, item)
	tx.account(v, sz)
	tx.touch(dbi, string(key))
	where := []byte("AFTER")
	if before {
		where = []byte("BEFORE")
	}
	tx.argv = append(tx.argv[:0], []byte("LINSERT"), key, where, pivot, item)
	tx.logv(dbi)
	return l.n, nil
}

// Rem removes items equal to item: the first count from the head if
// count > 0, from the tail if count < 0, all if 0. It returns how many.
func (tx *Tx) Rem(dbi int, key []byte, count int64, item []byte) (int64, error) {
	v, err := tx.listFor(dbi, key)
	if err != nil || v == nil {
		return 0, err
	}
	before := v.memSize()
	limit, fromTail := count, false
	if count < 0 {
		// -MinInt64 overflows; Redis's negation does too and then never
		// reaches its limit, removing every match.
		limit, fromTail = max(-count, 0), true
	}
	n := v.list.removeWhere(item, limit, fromTail)
	tx.account(v, before)
	if n > 0 {
		tx.touch(dbi, string(key))
		tx.argv = append(tx.argv[:0], []byte("LREM"), key, tx.itoa(0, count), item)
		tx.logv(dbi)
		tx.dropIfEmpty(dbi, key, v)
	}
	return n, nil
}

// Trim keeps items start..stop (negative from the end) of the list at key,
// deleting the key if nothing remains.
func (tx *Tx) Trim(dbi int, key []byte, start, stop int64) error {
	v, err := tx.listFor(dbi, key)
	if err != nil || v == nil {
		return err
	}
	l := v.list
	before := v.memSize()
	s, e, ok := normRange(start, stop, l.n)
	switch {
	case !ok:
		tx.deleteKey(dbi, string(key), v)
	case s == 0 && e == l.n-1:
		// Nothing removed: Redis signals watchers but logs nothing.
		tx.touch(dbi, string(key))
		return nil
	default:
		l.trim(s, e)
		tx.account(v, before)
		tx.touch(dbi, string(key))
	}
	tx.argv = append(tx.argv[:0], []byte("LTRIM"), key, tx.itoa(0, start), tx.itoa(1, stop))
	tx.logv(dbi)
	return nil
}

// Pos finds item in the list at key, as LPOS: rank picks the rank-th match
// (negative: from the tail), count is how many matches to return (0: all),
// maxlen bounds the comparisons (0: no bound). It appends match indexes to
// out.
func (tx *Tx) Pos(dbi int, key []byte, item []byte, rank, count, maxlen int64, out []int64) ([]int64, error) {
	v, err := tx.listFor(dbi, key)
	if err != nil || v == nil {
		return out, err
	}
	l := v.list
	reverse := rank < 0
	skip := rank
	if reverse {
		skip = -rank
	}
	skip-- // matches to pass over before collecting
	var i, found int64
	l.iter(0, reverse, func(x []byte) bool {
		if maxlen != 0 && i >= maxlen {
			return false
		}
		if bytes.Equal(x, item) {
			if skip > 0 {
				skip--
			} else {
				idx := i
				if reverse {
					idx = l.n - 1 - i
				}
				out = append(out, idx)
				found++
				if count != 0 && found >= count {
					return false
				}
			}
		}
		i++
		return true
	})
	return out, nil
}

// Move pops an item from one end of src and pushes it at one end of dst
// (LMOVE, RPOPLPUSH), returning the item (copied) or nil if src is missing.
func (tx *Tx) Move(dbi int, src, dst []byte, srcFront, dstFront bool) ([]byte, error) {
	sv, err := tx.listFor(dbi, src)
	if err != nil || sv == nil {
		return nil, err
	}
	dv, err := tx.listFor(dbi, dst)
	if err != nil {
		return nil, err
	}
	return tx.move(dbi, src, dst, sv, dv, srcFront, dstFront), nil
}

// move does the work of Move once both types are known to be right.
func (tx *Tx) move(dbi int, src, dst []byte, sv, dv *value, srcFront, dstFront bool) []byte {
	before := sv.memSize()
	var item []byte
	if srcFront {
		item = bytes.Clone(sv.list.popFront())
	} else {
		item = bytes.Clone(sv.list.popBack())
	}
	tx.account(sv, before)
	tx.touch(dbi, string(src))
	// Emptied, src is deleted, unless it is also dst: Redis pops and
	// pushes on the same list object, so a one-item list moved onto
	// itself keeps its key, its TTL and its place.
	if sv.list.n == 0 && !bytes.Equal(src, dst) {
		tx.deleteKey(dbi, string(src), sv)
	}
	if dv == nil {
		dv = tx.newList(dbi, dst)
	}
	before = dv.memSize()
	if dstFront {
		dv.list.pushFront(item)
	} else {
		dv.list.pushBack(item)
	}
	tx.account(dv, before)
	tx.touch(dbi, string(dst))
	tx.argv = append(tx.argv[:0], bLMOVE, src, dst, side(srcFront), side(dstFront))
	tx.logv(dbi)
	tx.signalReady(dbi, dst)
	return item
}

func side(front bool) []byte {
	if front {
		return bLEFT
	}
	return bRIGHT
}

// MPop pops up to count items from the first non-empty list among keys
// (LMPOP). It returns the key popped from (nil if none) and appends the
// items, aliasing keyspace memory, to out.
func (tx *Tx) MPop(dbi int, keys [][]byte, front bool, count int64, out [][]byte) ([]byte, [][]byte, error) {
	for _, k := range keys {
		v, err := tx.listFor(dbi, k)
		if err != nil {
			return nil, out, err
		}
		if v == nil {
			continue
		}
		return k, tx.popN(dbi, k, v, front, count, out), nil
	}
	return nil, out, nil
}
