package queue

var bMOVE = []byte("MOVE")

// Copy copies the value at src in database srcDB, with its TTL, to dst in
// database dstDB (COPY). It reports false, changing nothing, when src is
// missing or dst exists and replace is false. The copy is written through
// Store, so the log gets plain commands (DEL, RPUSH batches or SET,
// PEXPIREAT) that replay the same whatever the clock, and clients blocked
// on dst are served.
//
// Copying a key onto itself gives ErrSameObject and an invalid dstDB
// ErrDBIndex, as Redis checks both before looking at the keys.
func (tx *Tx) Copy(srcDB int, src []byte, dstDB int, dst []byte, replace bool) (bool, error) {
	if _, err := tx.database(dstDB); err != nil {
		return false, err
	}
	if srcDB == dstDB && string(src) == string(dst) {
		return false, ErrSameObject
	}
	v := tx.lookup(srcDB, src)
	if v == nil {
		return false, nil
	}
	if !replace && tx.lookup(dstDB, dst) != nil {
		return false, nil
	}
	if v.kind == KindString {
		str := v.str
		if str == nil {
			str = []byte{}
		}
		tx.Store(dstDB, dst, nil, str, v.expire)
		return true, nil
	}
	// The items alias src's chunks, which Store never writes: it only
	// deletes dst and builds a new list.
	items := make([][]byte, 0, v.list.n)
	v.list.iter(0, false, func(it []byte) bool {
		items = append(items, it)
		return true
	})
	tx.Store(dstDB, dst, items, nil, v.expire)
	return true, nil
}

// MoveKey moves key, with its TTL, from database dbi to dstDB (MOVE). It
// reports false when the key is missing in dbi or already exists in
// dstDB. It is logged as MOVE, the way RENAME is logged as RENAME, and
// clients blocked on the key in dstDB are served when it holds a list.
// Moving to the same database gives ErrSameObject and an invalid dstDB
// ErrDBIndex.
func (tx *Tx) MoveKey(dbi int, key []byte, dstDB int) (bool, error) {
	if _, err := tx.database(dstDB); err != nil {
		return false, err
	}
	if dbi == dstDB {
		return false, ErrSameObject
	}
	v := tx.lookup(dbi, key)
	if v == nil || tx.lookup(dstDB, key) != nil {
		return false, nil
	}
	k := string(key)
	tx.ks.dropKey(tx.ks.db[dbi], k, v)
	tx.ks.putKey(tx.ks.db[dstDB], k, v)
	tx.touch(dbi, k)
	tx.touch(dstDB, k)
	tx.argv = append(tx.argv[:0], bMOVE, key, tx.itoa(0, int64(dstDB)))
	tx.logv(dbi)
	if v.kind == KindList {
		tx.signalReady(dstDB, key)
	}
	return true, nil
}
