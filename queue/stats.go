package queue

// Read-only views of the keyspace for INFO, MEMORY and CLIENT. They are Tx
// methods so that a command running inside EXEC, which already holds the
// lock, can call them; Keyspace.Blocked, which takes the lock itself, would
// deadlock there.

// Blocked returns the number of clients blocked on keys, exactly.
func (tx *Tx) Blocked() int { return tx.ks.blocked }

// avgTTLSample is how many keys with a TTL AvgTTL looks at per database:
// enough for an estimate, few enough that INFO stays O(1) however many
// keys expire.
const avgTTLSample = 20

// AvgTTL estimates the average remaining time to live, in milliseconds, of
// the keys of database dbi that have one, from a sample of them, like the
// avg_ttl of Redis's INFO keyspace (which Redis also estimates by
// sampling, in its expire cycle). It is 0 when no key has a TTL.
func (tx *Tx) AvgTTL(dbi int) int64 {
	d := tx.ks.db[dbi]
	var sum, n int64
	for k := range d.expires { // map order is random: a sample
		if n == avgTTLSample {
			break
		}
		v := d.keys[k]
		if v == nil || v.expire == 0 {
			continue
		}
		if ttl := v.expire - tx.NowMs(); ttl > 0 {
			sum += ttl
			n++
		}
	}
	if n == 0 {
		return 0
	}
	return sum / n
}

// MemoryUsage returns the bytes key and its value are accounted for (the
// measure maxmemory is compared to), and false if the key does not exist.
func (tx *Tx) MemoryUsage(dbi int, key []byte) (int64, bool) {
	v := tx.lookup(dbi, key)
	if v == nil {
		return 0, false
	}
	return keyCost(string(key), v), true
}
