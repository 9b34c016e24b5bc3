package consumer

import (
	"encoding/json"
	"fmt"
	"time"
	"unicode/utf8"

	"mullet/queue"
)

// maxReasonItem is how much of a dead item its reason record repeats.
const maxReasonItem = 1024

// A deadReason is the JSON record pushed to QUEUE:dead:reasons beside each
// dead letter.
type deadReason struct {
	Reason    string    `json:"reason"`
	Table     string    `json:"table"`
	Batch     string    `json:"batch"`
	At        time.Time `json:"at"`
	Item      string    `json:"item"` // the item (as text), cut at maxReasonItem bytes
	ItemBytes int       `json:"item_bytes"`
}

// isolate narrows a batch the sink rejected for one item's content. A
// single-item batch becomes a dead letter. When the sink named the item
// (re.Index), the batch is cut around it: the item goes to the dead
// letters and the items before and after become two new batches. When it
// could not say which (a multi-row INSERT failed), the batch is halved
// and each half written on its own. Each step is one atomic keyspace
// change, logged as LMOVE/RENAME/LPUSH in MULTI/EXEC; the new batches get
// new IDs (the old one never committed: RowError means rolled back) and
// are synced before they are written.
//
// It returns the batches to write next, in queue order.
func (r *route) isolate(b *batch, re *RowError) ([]*batch, error) {
	c := r.c
	n := len(b.items)
	tx := c.ks.Begin()
	tx.Atomic()
	// The batch key is the durable truth; it matches b.items unless a
	// client wrote to it.
	if l, err := tx.Len(c.db, b.key); err != nil || l != int64(n) {
		tx.End()
		if err == nil && l == 0 {
			// A client deleted it (FLUSHALL, say): its items are gone by
			// request, and there is nothing left to split.
			c.log.Warn("in-flight batch key deleted by a client; dropping its items", "key", string(b.key), "items", n)
			r.inflightBatches.Add(-1)
			r.inflightItems.Add(-int64(n))
			b.free()
			return nil, nil
		}
		return nil, fmt.Errorf("consumer: in-flight batch key %s no longer holds the %d items claimed (len %d, %v); leaving it", b.key, n, l, err)
	}
	var parts []*batch
	var err error
	switch {
	case n == 1:
		err = r.bury(tx, b, 0, re.Reason, false)
	case re.Index >= 0 && re.Index < n:
		parts, err = r.cutOut(tx, b, re.Index, re.Reason)
	default:
		parts, err = r.halve(tx, b)
	}
	deadLen, _ := tx.Len(c.db, r.dead)
	ticket := tx.End()
	if err != nil {
		// Nothing was changed: every step checks types before moving.
		return nil, err
	}
	dead := n
	for _, p := range parts {
		p.ticket = ticket
		p.buf = b.buf
		p.claimed = b.claimed
		dead -= len(p.items)
	}
	b.buf.refs += len(parts)
	r.deadEvents.Add(int64(dead))
	r.deadSeen.Store(deadLen)
	r.inflightBatches.Add(int64(len(parts) - 1))
	r.inflightItems.Add(-int64(dead))
	if dead > 0 {
		c.log.Warn("dead letter", "queue", r.queue, "table", r.table, "dead_key", string(r.dead), "reason", re.Reason)
	}
	b.free()
	return parts, nil
}

// checkLists fails with ErrWrongType if any key holds a string, so that a
// multi-step change never stops half way.
func checkLists(tx *queue.Tx, db int, keys ...[]byte) error {
	for _, k := range keys {
		if kind := tx.Type(db, k); kind != queue.KindNone && kind != queue.KindList {
			return fmt.Errorf("consumer: %s: %w", k, queue.ErrWrongType)
		}
	}
	return nil
}

// halve moves the first half of b's items to a new batch key and renames
// b's key (holding the second half) to another.
func (r *route) halve(tx *queue.Tx, b *batch) ([]*batch, error) {
	h := len(b.items) / 2
	first := r.part(b.items[:h])
	second := r.part(b.items[h:])
	r.moveLeft(tx, b.key, first.key, h)
	if _, err := tx.Rename(r.c.db, b.key, second.key, false); err != nil {
		return nil, err
	}
	return []*batch{first, second}, nil
}

// cutOut makes item i of b a dead letter and the items around it new
// batches, moving whichever side is shorter item by item and renaming the
// key for the other.
func (r *route) cutOut(tx *queue.Tx, b *batch, i int, reason string) ([]*batch, error) {
	c := r.c
	if err := checkLists(tx, c.db, r.dead, r.why); err != nil {
		return nil, err
	}
	n := len(b.items)
	var before, after *batch
	if i > 0 {
		before = r.part(b.items[:i])
	}
	if i < n-1 {
		after = r.part(b.items[i+1:])
	}
	if i <= n-1-i {
		if before != nil {
			r.moveLeft(tx, b.key, before.key, i)
		}
		if err := r.bury(tx, b, i, reason, true); err != nil {
			return nil, err
		}
		if after != nil {
			if _, err := tx.Rename(c.db, b.key, after.key, false); err != nil {
				return nil, err
			}
		}
	} else {
		if after != nil {
			r.moveRight(tx, b.key, after.key, n-1-i)
		}
		if err := r.bury(tx, b, i, reason, false); err != nil {
			return nil, err
		}
		if before != nil {
			if _, err := tx.Rename(c.db, b.key, before.key, false); err != nil {
				return nil, err
			}
		}
	}
	var parts []*batch
	for _, p := range []*batch{before, after} {
		if p != nil {
			parts = append(parts, p)
		}
	}
	return parts, nil
}

// bury moves item i, which sits at the left (fromLeft) or right end of
// b's key, to the left of QUEUE:dead and pushes its reason record to the
// left of QUEUE:dead:reasons. Both lists grow on the left like the queue
// itself, so RPOPLPUSH QUEUE:dead QUEUE requeues the oldest dead letter.
func (r *route) bury(tx *queue.Tx, b *batch, i int, reason string, fromLeft bool) error {
	c := r.c
	if err := checkLists(tx, c.db, r.dead, r.why); err != nil {
		return err
	}
	if _, err := tx.Move(c.db, b.key, r.dead, fromLeft, true); err != nil {
		return err
	}
	item := b.items[i]
	rec := deadReason{Reason: reason, Table: r.table, Batch: b.id, At: time.Now().UTC(), ItemBytes: len(item)}
	cut := item
	if len(cut) > maxReasonItem {
		cut = cut[:maxReasonItem]
		for len(cut) > 0 && !utf8.Valid(cut) { // don't end inside a rune
			cut = cut[:len(cut)-1]
		}
	}
	rec.Item = string(cut)
	js, _ := json.Marshal(rec) // cannot fail: strings and numbers only
	_, err := tx.Push(c.db, r.why, [][]byte{js}, true, false)
	return err
}

// part is a new batch of the given items (slices of the parent's buffer).
func (r *route) part(items [][]byte) *batch {
	id := r.c.nextID()
	return &batch{id: id, key: []byte(r.prefix + id), items: items}
}

// moveLeft moves the first n items of src, in order, to the new list dst:
// LMOVE src dst LEFT RIGHT, n times.
func (r *route) moveLeft(tx *queue.Tx, src, dst []byte, n int) {
	for range n {
		tx.Move(r.c.db, src, dst, true, false)
	}
}

// moveRight moves the last n items of src, in order, to the new list dst:
// LMOVE src dst RIGHT LEFT, n times.
func (r *route) moveRight(tx *queue.Tx, src, dst []byte, n int) {
	for range n {
		tx.Move(r.c.db, src, dst, false, true)
	}
}
