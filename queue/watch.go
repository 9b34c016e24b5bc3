package queue

// A Watch is the set of keys one client WATCHes. It turns dirty when any of
// them is modified, deleted, expires, or is flushed, and EXEC then fails.
// The zero value is an empty set. A Watch belongs to one client; its
// methods are called through a Tx.
type Watch struct {
	dirty bool
	keys  []watchedKey
}

type watchedKey struct {
	db  int
	key string
	// expired records that the key had already expired (logically) when
	// watched, so its later deletion does not count as a change, as in
	// Redis 7.
	expired bool
}

// Watch adds key of database dbi to w.
func (tx *Tx) Watch(w *Watch, dbi int, key []byte) {
	for _, k := range w.keys {
		if k.db == dbi && k.key == string(key) {
			return
		}
	}
	d := tx.ks.db[dbi]
	if d.watched == nil {
		d.watched = make(map[string][]*Watch)
	}
	k := string(key)
	expired := false
	if v := d.keys[k]; v != nil && v.expire != 0 && v.expire <= tx.NowMs() {
		expired = true
	}
	d.watched[k] = append(d.watched[k], w)
	w.keys = append(w.keys, watchedKey{dbi, k, expired})
	tx.ks.watching++
}

// Unwatch empties w (UNWATCH, EXEC, DISCARD, disconnect).
func (tx *Tx) Unwatch(w *Watch) {
	for _, wk := range w.keys {
		d := tx.ks.db[wk.db]
		ws := d.watched[wk.key]
		for i, x := range ws {
			if x == w {
				ws = append(ws[:i], ws[i+1:]...)
				break
			}
		}
		if len(ws) == 0 {
			delete(d.watched, wk.key)
		} else {
			d.watched[wk.key] = ws
		}
		tx.ks.watching--
	}
	w.keys = w.keys[:0]
	w.dirty = false
}

// Dirty reports whether any key in w changed since it was watched,
// counting keys that have expired since (Redis 7's isWatchedKeyExpired).
func (tx *Tx) Dirty(w *Watch) bool {
	if w.dirty {
		return true
	}
	for _, wk := range w.keys {
		if wk.expired {
			continue
		}
		v := tx.ks.db[wk.db].keys[wk.key]
		if v != nil && v.expire != 0 && v.expire <= tx.NowMs() {
			return true
		}
	}
	return false
}

// find returns w's entry for key of database dbi, or nil.
func (w *Watch) find(dbi int, key string) *watchedKey {
	for i := range w.keys {
		if wk := &w.keys[i]; wk.db == dbi && wk.key == key {
			return wk
		}
	}
	return nil
}

// Watching reports whether w holds any key.
func (w *Watch) Watching() bool { return len(w.keys) > 0 }

// touchAll marks dirty every watcher of a key that exists in database dbi
// or in other, the database about to replace it (FLUSHDB, FLUSHALL,
// SWAPDB), as Redis 7's touchAllWatchedKeysInDb does, expired keys
// included: an expired key that goes away or stays expired is no change,
// and a missing key replaced by an expired one counts as expired.
func (tx *Tx) touchAll(dbi int, other *db) {
	if tx.ks.watching == 0 {
		return
	}
	d := tx.ks.db[dbi]
	for k, ws := range d.watched {
		_, here := d.keys[k]
		var there *value
		if other != nil {
			there = other.keys[k]
		}
		if !here && there == nil {
			continue
		}
		thereExpired := there != nil && there.expire != 0 && there.expire <= tx.NowMs()
		for _, w := range ws {
			wk := w.find(dbi, k)
			switch {
			case wk != nil && wk.expired:
				if there == nil {
					wk.expired = false
					continue
				}
				if thereExpired {
					continue
				}
			case wk != nil && !here && thereExpired:
				wk.expired = true
				continue
			}
			w.dirty = true
		}
	}
}
