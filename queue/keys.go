package queue

import (
	"cmp"
	"hash/maphash"
	"slices"
)

var (
	bFLUSHDB  = []byte("FLUSHDB")
	bFLUSHALL = []byte("FLUSHALL")
	bSWAPDB   = []byte("SWAPDB")
	bRENAME   = []byte("RENAME")
)

// Del deletes keys and returns how many existed.
func (tx *Tx) Del(dbi int, keys [][]byte) int64 {
	tx.argv = append(tx.argv[:0], bDEL)
	var n int64
	for _, k := range keys {
		v := tx.lookup(dbi, k)
		if v == nil {
			continue
		}
		tx.deleteKey(dbi, string(k), v)
		tx.argv = append(tx.argv, k)
		n++
	}
	if n > 0 {
		tx.logv(dbi)
	}
	return n
}

// Exists counts how many of keys exist; a key named twice counts twice.
func (tx *Tx) Exists(dbi int, keys [][]byte) int64 {
	var n int64
	for _, k := range keys {
		if tx.lookup(dbi, k) != nil {
			n++
		}
	}
	return n
}

// Type returns the kind of value at key (KindNone if missing).
func (tx *Tx) Type(dbi int, key []byte) Kind {
	if v := tx.lookup(dbi, key); v != nil {
		return v.kind
	}
	return KindNone
}

// Keys appends to out the keys matching the glob pattern. Returned keys are
// copies.
func (tx *Tx) Keys(dbi int, pattern []byte, out [][]byte) [][]byte {
	all := len(pattern) == 1 && pattern[0] == '*'
	for k, v := range tx.ks.db[dbi].keys {
		if v.expire != 0 && v.expire <= tx.NowMs() {
			continue
		}
		if all || GlobMatch(pattern, []byte(k), false) {
			out = append(out, []byte(k))
		}
	}
	return out
}

// scanSeed orders keys for SCAN; fixed for the life of the process so a
// cursor stays meaningful between calls.
var scanSeed = maphash.MakeSeed()

func scanHash(k string) uint64 { return maphash.String(scanSeed, k) | 1 }

// Scan returns up to count keys whose scan order is at or after cursor,
// filtered by the glob pattern (nil: all) and kind (KindNone: all), and the
// cursor to continue from (0 when done). Keys present for the whole
// iteration are returned at least once, as Redis guarantees; the order is a
// hash of the key, which stays fixed while the process runs. A call costs
// O(log N + count) in a database with an index (scanIndexOn keys or
// more), O(N) in a smaller one.
func (tx *Tx) Scan(dbi int, cursor uint64, pattern []byte, kind Kind, count int, out [][]byte) ([][]byte, uint64) {
	if count <= 0 {
		count = 10
	}
	d := tx.ks.db[dbi]
	if d.scan != nil {
		next := d.scan.scan(cursor, count, func(k string) {
			if tx.scanMatch(d.keys[k], k, pattern, kind) {
				out = append(out, []byte(k))
			}
		})
		return out, next
	}
	type hk struct {
		h uint64
		k string
	}
	// Keep the count+1 smallest hashes >= cursor: the +1 tells us where to
	// resume.
	var best []hk
	for k := range d.keys {
		h := scanHash(k)
		if h < cursor {
			continue
		}
		if len(best) <= count {
			best = append(best, hk{h, k})
			if len(best) == count+1 {
				slices.SortFunc(best, func(a, b hk) int { return cmp.Compare(a.h, b.h) })
			}
			continue
		}
		if h >= best[count].h {
			continue
		}
		i, _ := slices.BinarySearchFunc(best, h, func(a hk, h uint64) int { return cmp.Compare(a.h, h) })
		copy(best[i+1:], best[i:count])
		best[i] = hk{h, k}
	}
	slices.SortFunc(best, func(a, b hk) int { return cmp.Compare(a.h, b.h) })
	next := uint64(0)
	if len(best) > count {
		next = best[count].h
		best = best[:count]
	}
	for _, e := range best {
		if tx.scanMatch(d.keys[e.k], e.k, pattern, kind) {
			out = append(out, []byte(e.k))
		}
	}
	return out, next
}

// scanMatch reports whether SCAN returns key, holding v: not expired, of
// the kind asked for, matching the pattern.
func (tx *Tx) scanMatch(v *value, key string, pattern []byte, kind Kind) bool {
	switch {
	case v.expire != 0 && v.expire <= tx.NowMs():
		return false
	case kind != KindNone && v.kind != kind:
		return false
	}
	return pattern == nil || GlobMatch(pattern, []byte(key), false)
}

// RandomKey returns a random existing key, or nil.
func (tx *Tx) RandomKey(dbi int) []byte {
	for k, v := range tx.ks.db[dbi].keys {
		if v.expire != 0 && v.expire <= tx.NowMs() {
			continue
		}
		return []byte(k)
	}
	return nil
}

// DBSize returns the number of keys in database dbi, counting expired keys
// not yet reclaimed, as Redis does.
func (tx *Tx) DBSize(dbi int) int64 { return int64(len(tx.ks.db[dbi].keys)) }

// KeyCounts returns the number of keys and of keys with a TTL in dbi, for
// INFO keyspace.
func (tx *Tx) KeyCounts(dbi int) (keys, expires int) {
	d := tx.ks.db[dbi]
	return len(d.keys), len(d.expires)
}

// Rename moves src to dst, replacing dst, keeping src's TTL. With nx it
// does nothing if dst exists and reports false.
func (tx *Tx) Rename(dbi int, src, dst []byte, nx bool) (bool, error) {
	v := tx.lookup(dbi, src)
	if v == nil {
		return false, ErrNoSuchKey
	}
	if string(src) == string(dst) {
		return !nx, nil
	}
	if old := tx.lookup(dbi, dst); old != nil {
		if nx {
			return false, nil
		}
		tx.deleteKey(dbi, string(dst), old)
	}
	d := tx.ks.db[dbi]
	s := string(src)
	tx.ks.dropKey(d, s, v)
	tx.touch(dbi, s)
	k := string(dst)
	tx.ks.putKey(d, k, v)
	tx.touch(dbi, k)
	cmd := bRENAME
	if nx {
		cmd = []byte("RENAMENX")
	}
	tx.argv = append(tx.argv[:0], cmd, src, dst)
	tx.logv(dbi)
	if v.kind == KindList {
		tx.signalReady(dbi, dst)
	}
	return true, nil
}

// FlushDB deletes every key of dbi.
func (tx *Tx) FlushDB(dbi int) {
	tx.flush(dbi)
	tx.argv = append(tx.argv[:0], bFLUSHDB)
	tx.logv(dbi)
}

// FlushAll deletes every key of every database.
func (tx *Tx) FlushAll() {
	for i := range tx.ks.db {
		tx.flush(i)
	}
	tx.argv = append(tx.argv[:0], bFLUSHALL)
	tx.logv(0)
}

func (tx *Tx) flush(dbi int) {
	tx.touchAll(dbi, nil)
	tx.ks.flushed(tx.ks.db[dbi])
}

// SwapDB exchanges the contents of two databases. Blocked clients and
// watchers stay with the database number, as in Redis, so clients blocked
// on a key that now holds a list are served.
func (tx *Tx) SwapDB(a, b int) error {
	if _, err := tx.database(a); err != nil {
		return err
	}
	if _, err := tx.database(b); err != nil {
		return err
	}
	da, dbb := tx.ks.db[a], tx.ks.db[b]
	tx.touchAll(a, dbb)
	tx.touchAll(b, da)
	da.keys, dbb.keys = dbb.keys, da.keys
	da.expires, dbb.expires = dbb.expires, da.expires
	da.keysMem, dbb.keysMem = dbb.keysMem, da.keysMem
	da.expiresMem, dbb.expiresMem = dbb.expiresMem, da.expiresMem
	da.scan, dbb.scan = dbb.scan, da.scan
	tx.argv = append(tx.argv[:0], bSWAPDB, tx.itoa(0, int64(a)), tx.itoa(1, int64(b)))
	tx.logv(0)
	tx.markAllReady(a)
	tx.markAllReady(b)
	return nil
}

// ExpireCond is EXPIRE's NX/XX/GT/LT option.
type ExpireCond uint8

// The EXPIRE options of Redis 7.
const (
	ExpireAlways ExpireCond = iota
	ExpireNX                // only if the key has no TTL
	ExpireXX                // only if the key has a TTL
	ExpireGT                // only if the new TTL is greater
	ExpireLT                // only if the new TTL is less
)

// Expire sets key's expiry to atMs (Unix milliseconds) under cond and
// reports whether it did. A time already past deletes the key (logged as
// DEL), as Redis does.
func (tx *Tx) Expire(dbi int, key []byte, atMs int64, cond ExpireCond) bool {
	v := tx.lookup(dbi, key)
	if v == nil {
		return false
	}
	cur := v.expire // 0: none, i.e. infinite
	switch cond {
	case ExpireNX:
		if cur != 0 {
			return false
		}
	case ExpireXX:
		if cur == 0 {
			return false
		}
	case ExpireGT:
		if cur == 0 || atMs <= cur {
			return false
		}
	case ExpireLT:
		if cur != 0 && atMs >= cur {
			return false
		}
	}
	k := string(key)
	if atMs <= tx.NowMs() {
		tx.deleteKey(dbi, k, v)
		tx.argv = append(tx.argv[:0], bDEL, key)
		tx.logv(dbi)
		return true
	}
	tx.setExpire(dbi, k, v, atMs)
	tx.touch(dbi, k)
	tx.argv = append(tx.argv[:0], bPEXPIREAT, key, tx.itoa(0, atMs))
	tx.logv(dbi)
	return true
}

// TTL returns key's expiry in Unix milliseconds: -2 if the key is missing,
// -1 if it has none.
func (tx *Tx) TTL(dbi int, key []byte) int64 {
	v := tx.lookup(dbi, key)
	if v == nil {
		return -2
	}
	if v.expire == 0 {
		return -1
	}
	return v.expire
}

// Persist removes key's TTL and reports whether it had one.
func (tx *Tx) Persist(dbi int, key []byte) bool {
	v := tx.lookup(dbi, key)
	if v == nil || v.expire == 0 {
		return false
	}
	tx.setExpire(dbi, string(key), v, 0)
	tx.touch(dbi, string(key))
	tx.argv = append(tx.argv[:0], bPERSIST, key)
	tx.logv(dbi)
	return true
}
