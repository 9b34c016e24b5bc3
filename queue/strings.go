package queue

import (
	"bytes"
	"math"
	"strconv"

	"mullet/internal/redisc"
)

var (
	bPXAT    = []byte("PXAT")
	bKEEPTTL = []byte("KEEPTTL")
	bINCRBY  = []byte("INCRBY")
	bMSET    = []byte("MSET")
)

// stringFor returns the string at key, nil if missing, or ErrWrongType.
func (tx *Tx) stringFor(dbi int, key []byte) (*value, error) {
	v := tx.lookup(dbi, key)
	if v == nil {
		return nil, nil
	}
	if v.kind != KindString {
		return nil, ErrWrongType
	}
	return v, nil
}

// Get returns the string at key (aliasing keyspace memory), ok false if
// missing.
func (tx *Tx) Get(dbi int, key []byte) (val []byte, ok bool, err error) {
	v, err := tx.stringFor(dbi, key)
	if err != nil || v == nil {
		if err == nil {
			tx.ks.keyMisses.Add(1)
		}
		return nil, false, err
	}
	tx.ks.keyHits.Add(1)
	return v.str, true, nil
}

// SetOptions are SET's options.
type SetOptions struct {
	NX, XX   bool  // only if the key does not / does exist
	Get      bool  // return the old string (WRONGTYPE if it is a list)
	KeepTTL  bool  // keep the existing TTL
	ExpireAt int64 // Unix milliseconds; 0: no TTL (unless KeepTTL)
}

// Set stores val at key under opts. It reports whether it stored, and with
// opts.Get the previous string (old, hadOld). val is copied.
func (tx *Tx) Set(dbi int, key, val []byte, opts SetOptions) (stored bool, old []byte, hadOld bool, err error) {
	cur := tx.lookup(dbi, key)
	if opts.Get && cur != nil {
		if cur.kind != KindString {
			return false, nil, false, ErrWrongType
		}
		old, hadOld = cur.str, true
	}
	if (opts.NX && cur != nil) || (opts.XX && cur == nil) {
		return false, old, hadOld, nil
	}
	expire := opts.ExpireAt
	if opts.KeepTTL && cur != nil {
		expire = cur.expire
	}
	tx.putString(dbi, key, bytes.Clone(val), cur, expire)
	tx.argv = append(tx.argv[:0], bSET, key, val)
	switch {
	case opts.ExpireAt != 0:
		// Redis 7 propagates relative expiries as absolute PXAT so a
		// replay later does not extend them.
		tx.argv = append(tx.argv, bPXAT, tx.itoa(0, opts.ExpireAt))
	case opts.KeepTTL:
		tx.argv = append(tx.argv, bKEEPTTL)
	}
	tx.logv(dbi)
	return true, old, hadOld, nil
}

// putString replaces whatever is at key (cur, possibly nil) with a string
// it takes ownership of.
func (tx *Tx) putString(dbi int, key, val []byte, cur *value, expire int64) {
	k := string(key)
	d := tx.ks.db[dbi]
	if cur != nil {
		before := cur.memSize()
		cur.kind, cur.list, cur.str = KindString, nil, val
		tx.ks.addUsed(cur.memSize() - before)
		had := cur.expire
		cur.expire = expire
		tx.ks.ttlChanged(d, k, cur, had)
	} else {
		tx.ks.putKey(d, k, &value{kind: KindString, str: val, expire: expire})
	}
	tx.touch(dbi, k)
}

// IncrBy adds delta to the integer stored at key (0 if missing) and
// returns the result.
func (tx *Tx) IncrBy(dbi int, key []byte, delta int64) (int64, error) {
	v, err := tx.stringFor(dbi, key)
	if err != nil {
		return 0, err
	}
	var cur int64
	if v != nil {
		cur, err = ParseInt(v.str)
		if err != nil {
			return 0, ErrNotInteger
		}
	}
	if (delta < 0 && cur < 0 && delta < math.MinInt64-cur) ||
		(delta > 0 && cur > 0 && delta > math.MaxInt64-cur) {
		return 0, ErrOverflow
	}
	n := cur + delta
	expire := int64(0)
	if v != nil {
		expire = v.expire
	}
	tx.putString(dbi, key, strconv.AppendInt(nil, n, 10), v, expire)
	tx.argv = append(tx.argv[:0], bINCRBY, key, tx.itoa(0, delta))
	tx.logv(dbi)
	return n, nil
}

// MSet stores each key/value pair of kv (key, value, key, value, ...),
// clearing TTLs. With nx (MSETNX) it stores nothing unless no key exists,
// and reports whether it stored.
func (tx *Tx) MSet(dbi int, kv [][]byte, nx bool) bool {
	if nx {
		for i := 0; i < len(kv); i += 2 {
			if tx.lookup(dbi, kv[i]) != nil {
				return false
			}
		}
	}
	for i := 0; i < len(kv); i += 2 {
		tx.putString(dbi, kv[i], bytes.Clone(kv[i+1]), tx.lookup(dbi, kv[i]), 0)
	}
	tx.argv = append(append(tx.argv[:0], bMSET), kv...)
	tx.logv(dbi)
	return true
}

// ParseInt parses a base-10 int64 the way Redis's string2ll does: no
// spaces, no '+', no leading zeros (except "0" itself), at most 20 bytes.
func ParseInt(b []byte) (int64, error) {
	n, ok := redisc.String2ll(b)
	if !ok {
		return 0, ErrNotInteger
	}
	return n, nil
}

// Store replaces key with a list of items or, if str is not nil, with the
// string str, and an expiry (0: none). It is how SORT ... STORE and
// RESTORE write, logged as commands any Redis can replay: DEL, then RPUSH
// batches or SET, then PEXPIREAT, as one atomic group. An empty item list
// just deletes the key. Items and str are copied.
func (tx *Tx) Store(dbi int, key []byte, items [][]byte, str []byte, expireAt int64) {
	tx.Atomic()
	if cur := tx.lookup(dbi, key); cur != nil {
		tx.deleteKey(dbi, string(key), cur)
	}
	tx.argv = append(tx.argv[:0], bDEL, key)
	tx.logv(dbi)
	if str != nil {
		tx.putString(dbi, key, bytes.Clone(str), nil, expireAt)
		tx.argv = append(tx.argv[:0], bSET, key, str)
		tx.logv(dbi)
	} else if len(items) > 0 {
		v := tx.newList(dbi, key)
		before := v.memSize()
		for _, it := range items {
			v.list.pushBack(it)
		}
		tx.account(v, before)
		for i := 0; i < len(items); i += rewriteBatch {
			j := min(i+rewriteBatch, len(items))
			tx.argv = append(append(tx.argv[:0], bRPUSH, key), items[i:j]...)
			tx.logv(dbi)
		}
		if expireAt != 0 {
			tx.setExpire(dbi, string(key), v, expireAt)
		}
		tx.signalReady(dbi, key)
	}
	if expireAt != 0 && (str != nil || len(items) > 0) {
		tx.argv = append(tx.argv[:0], bPEXPIREAT, key, tx.itoa(0, expireAt))
		tx.logv(dbi)
	}
	tx.touch(dbi, string(key))
}

// rewriteBatch is how many items one RPUSH carries when a list is written
// out as commands: Redis's AOF_REWRITE_ITEMS_PER_CMD.
const rewriteBatch = 64
