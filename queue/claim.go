package queue

import "slices"

// This file is the embedded consumer's way into the keyspace: claims are
// ordinary list moves, so a claimed batch stays visible to clients (as a
// list key) and the log stays a stream of commands redis-server can replay.

// Claim moves up to n items from the tail of the list at src (the end RPOP
// and BRPOP take from: the oldest items of a queue fed by LPUSH) to the
// tail of a new list at dst, oldest first, so that LRANGE dst 0 -1 lists
// them in queue order. It appends the claimed items to out and returns it;
// they alias keyspace memory and are valid until the next operation of the
// Tx. A missing src, or n < 1, claims nothing and creates nothing.
//
// The claim is logged as MULTI, one LMOVE src dst RIGHT RIGHT per item,
// EXEC (Claim marks the Tx atomic): redis-server replays that to the same
// state, and a log cut inside the group replays none of it. One LMOVE per
// item costs ~100 bytes of log whatever the item's size, where RPOP+RPUSH
// would log every item's bytes a second time.
//
// Claim is not refused past MaxMemory: moving items adds no data, and the
// memory limit is enforced by the server on client commands flagged
// denyoom, not here. That is what keeps a queue draining while producers
// are refused at the cap.
//
// It returns ErrWrongType if src holds a string, and ErrBusyKey if dst
// exists: a batch key is never reused.
func (tx *Tx) Claim(dbi int, src, dst []byte, n int, out [][]byte) ([][]byte, error) {
	if _, err := tx.database(dbi); err != nil {
		return out, err
	}
	sv, err := tx.listFor(dbi, src)
	if err != nil || sv == nil || n < 1 {
		return out, err
	}
	if tx.lookup(dbi, dst) != nil {
		return out, ErrBusyKey
	}
	tx.Atomic()
	dv := tx.newList(dbi, dst)
	sBefore, dBefore := sv.memSize(), dv.memSize()
	m := int(min(int64(n), sv.list.n))
	out = slices.Grow(out, m)
	argv := append(tx.argv[:0], bLMOVE, src, dst, bRIGHT, bRIGHT)
	for range m {
		// The popped slice aliases src's chunk, which nothing writes to
		// before the Tx's next operation: no copy, no allocation per item.
		it := sv.list.popBack()
		dv.list.pushBack(it)
		out = append(out, it)
		tx.emit(dbi, argv)
	}
	tx.argv = argv
	tx.account(sv, sBefore)
	tx.account(dv, dBefore)
	tx.touch(dbi, string(src))
	tx.touch(dbi, string(dst))
	tx.dropIfEmpty(dbi, src, sv)
	tx.signalReady(dbi, dst) // as LMOVE would: someone may BLPOP a batch key
	return out, nil
}
