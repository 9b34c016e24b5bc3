package queue

import "bytes"

// BlockOp says what serving a blocked client does. The zero value is
// BRPOP's: pop one item from the tail.
type BlockOp struct {
	Front bool // pop from the head (BLPOP, BLMOVE LEFT ...) instead of the tail

	// Count > 0 pops up to Count items (BLMPOP ... COUNT n); 0 pops one
	// (BLPOP, BRPOP), logged without a count.
	Count int64

	// Dest, if not nil, makes this a move (BLMOVE, BRPOPLPUSH): the item
	// is pushed onto Dest, at its head if DestFront.
	Dest      []byte
	DestFront bool
}

type waitState uint8

const (
	waitIdle waitState = iota
	waitBlocked
	waitDone
)

// A Waiter is a client blocked on one or more keys. Reuse one per client:
// Block, then wait on Ready, or Cancel when the timeout fires or the client
// leaves. Fields other than Op are written by the keyspace under its lock
// and may be read once Ready has fired or Cancel reported the wait served.
type Waiter struct {
	Op BlockOp

	// Key is the key that served the wait (a copy).
	Key []byte
	// Items are the items handed over (copies), in pop order.
	Items [][]byte
	// Err is ErrWrongType when a BLMOVE destination turned out to hold a
	// string, ErrUnblocked after CLIENT UNBLOCK ... ERROR, or nil.
	Err error
	// TimedOut is set by Unblock(w, nil): reply as if the timeout fired.
	TimedOut bool
	// Ticket is the log ticket of the pop to wait for before replying.
	Ticket uint64

	// Notify, if set, is called when the wait ends, with the keyspace lock
	// held, besides signalling Ready: for an event loop that cannot sit on
	// a channel. It must be quick and must not touch the keyspace.
	Notify func()

	ready chan struct{}
	state waitState
	db    int
	nodes []*wnode
}

// NewWaiter returns a Waiter ready for Block.
func NewWaiter() *Waiter { return &Waiter{ready: make(chan struct{}, 1)} }

// Ready is signalled once the wait has ended (served, unblocked).
func (w *Waiter) Ready() <-chan struct{} { return w.ready }

// Blocked reports whether w is registered. Call with the Tx held.
func (w *Waiter) Blocked() bool { return w.state == waitBlocked }

// wnode links a waiter into one key's FIFO; a waiter on n keys has n nodes.
type wnode struct {
	w          *Waiter
	key        string
	prev, next *wnode
}

// waitList is the FIFO of clients blocked on one key: first come, first
// served, as in Redis.
type waitList struct {
	head, tail *wnode
}

func (wl *waitList) push(n *wnode) {
	n.prev, n.next = wl.tail, nil
	if wl.tail != nil {
		wl.tail.next = n
	} else {
		wl.head = n
	}
	wl.tail = n
}

func (wl *waitList) remove(n *wnode) {
	if n.prev != nil {
		n.prev.next = n.next
	} else {
		wl.head = n.next
	}
	if n.next != nil {
		n.next.prev = n.prev
	} else {
		wl.tail = n.prev
	}
	n.prev, n.next = nil, nil
}

// Block registers w as waiting for data on keys of database dbi. The
// caller has already found every key empty (or missing) in this Tx. keys
// are copied.
func (tx *Tx) Block(w *Waiter, dbi int, keys [][]byte) {
	ks := tx.ks
	d := ks.db[dbi]
	if d.blocked == nil {
		d.blocked = make(map[string]*waitList)
	}
	w.Key, w.Items, w.Err, w.TimedOut, w.Ticket = nil, w.Items[:0], nil, false, 0
	w.state, w.db = waitBlocked, dbi
	// Drain a stale signal from a previous wait that was served while the
	// client was cancelling it.
	select {
	case <-w.ready:
	default:
	}
	w.nodes = w.nodes[:0]
	for _, k := range keys {
		dup := false
		for _, n := range w.nodes {
			if n.key == string(k) {
				dup = true
				break
			}
		}
		if dup {
			continue // BLPOP k k: one registration, as Redis's dict does
		}
		n := &wnode{w: w, key: string(k)}
		wl := d.blocked[n.key]
		if wl == nil {
			wl = &waitList{}
			d.blocked[n.key] = wl
		}
		wl.push(n)
		w.nodes = append(w.nodes, n)
	}
	ks.blocked++
}

// unlink removes w from every key it waits on and marks it done.
func (ks *Keyspace) unlink(w *Waiter) {
	d := ks.db[w.db]
	for _, n := range w.nodes {
		wl := d.blocked[n.key]
		wl.remove(n)
		if wl.head == nil {
			delete(d.blocked, n.key)
		}
	}
	w.nodes = w.nodes[:0]
	w.state = waitDone
	ks.blocked--
}

// finish ends a wait and wakes its client.
func (ks *Keyspace) finish(w *Waiter) {
	ks.unlink(w)
	select {
	case w.ready <- struct{}{}:
	default:
	}
	if w.Notify != nil {
		w.Notify()
	}
}

// Cancel withdraws w (timeout, disconnect, shutdown). It reports whether
// the wait had already been served, in which case w's results must still
// be delivered: the items left the list for this client.
func (tx *Tx) Cancel(w *Waiter) (served bool) {
	switch w.state {
	case waitBlocked:
		tx.ks.unlink(w)
		w.state = waitIdle
		return false
	case waitDone:
		w.state = waitIdle
		return true
	}
	return false
}

// Unblock ends w's wait on behalf of CLIENT UNBLOCK: with err nil the
// client sees its timeout reply, otherwise err. It reports whether w was
// blocked.
func (tx *Tx) Unblock(w *Waiter, err error) bool {
	if w.state != waitBlocked {
		return false
	}
	w.Err = err
	w.TimedOut = err == nil
	tx.ks.finish(w)
	return true
}

// signalReady notes that key received data, so blocked clients and
// subscribers can be served when the Tx ends.
func (tx *Tx) signalReady(dbi int, key []byte) {
	ks := tx.ks
	if ks.blocked == 0 && len(ks.notify) == 0 {
		return
	}
	if chans := ks.notify[dbKey{dbi, string(key)}]; len(chans) > 0 {
		for _, ch := range chans {
			select {
			case ch <- struct{}{}:
			default:
			}
		}
	}
	if ks.db[dbi].blocked[string(key)] == nil {
		return
	}
	rk := readyKey{dbi, string(key)}
	if ks.readySet == nil {
		ks.readySet = make(map[readyKey]bool)
	}
	if ks.readySet[rk] {
		return
	}
	ks.readySet[rk] = true
	ks.ready = append(ks.ready, rk)
}

// serveReady hands items to clients blocked on keys that received data,
// first come first served, the way Redis's handleClientsBlockedOnKeys does
// after each command. Serving a BLMOVE can make its destination ready in
// turn; the loop picks that up.
func (ks *Keyspace) serveReady(tx *Tx) {
	for i := 0; i < len(ks.ready); i++ {
		rk := ks.ready[i]
		delete(ks.readySet, rk)
		key := []byte(rk.key)
		for {
			wl := ks.db[rk.db].blocked[rk.key]
			if wl == nil {
				break
			}
			v := tx.lookup(rk.db, key)
			if v == nil || v.kind != KindList {
				break
			}
			w := wl.head.w
			ks.serve(tx, w, rk.db, key, v)
		}
	}
	clear(ks.ready)
	ks.ready = ks.ready[:0]
}

// serve gives w what its op asks of the non-empty list v at key.
func (ks *Keyspace) serve(tx *Tx, w *Waiter, dbi int, key []byte, v *value) {
	op := w.Op
	w.Key = bytes.Clone(key)
	if op.Dest != nil {
		dv := tx.lookup(dbi, op.Dest)
		if dv != nil && dv.kind != KindList {
			// Redis replies WRONGTYPE to this client, unblocks it, and
			// leaves the item for the next one.
			w.Err = ErrWrongType
			ks.finish(w)
			return
		}
		item := tx.move(dbi, key, op.Dest, v, dv, op.Front, op.DestFront)
		w.Items = append(w.Items[:0], item)
	} else {
		count := int64(-1)
		if op.Count > 0 {
			count = op.Count
		}
		items := tx.popN(dbi, key, v, op.Front, count, nil)
		w.Items = w.Items[:0]
		for _, it := range items {
			w.Items = append(w.Items, bytes.Clone(it))
		}
	}
	w.Ticket = tx.ticket
	ks.finish(w)
}

// Subscribe makes ch receive a value (without blocking: it should be
// buffered) whenever key in database dbi receives data. The embedded
// consumer uses it to wake without polling. Unsubscribe with the same ch.
func (ks *Keyspace) Subscribe(dbi int, key []byte, ch chan struct{}) {
	ks.mu.Lock()
	defer ks.mu.Unlock()
	if ks.notify == nil {
		ks.notify = make(map[dbKey][]chan struct{})
	}
	k := dbKey{dbi, string(key)}
	ks.notify[k] = append(ks.notify[k], ch)
}

// Unsubscribe undoes Subscribe.
func (ks *Keyspace) Unsubscribe(dbi int, key []byte, ch chan struct{}) {
	ks.mu.Lock()
	defer ks.mu.Unlock()
	k := dbKey{dbi, string(key)}
	chans := ks.notify[k]
	for i, c := range chans {
		if c == ch {
			chans = append(chans[:i], chans[i+1:]...)
			break
		}
	}
	if len(chans) == 0 {
		delete(ks.notify, k)
	} else {
		ks.notify[k] = chans
	}
}

// markAllReady queues every key of dbi that has waiters, for SWAPDB and
// RESTORE-like bulk changes.
func (tx *Tx) markAllReady(dbi int) {
	for k := range tx.ks.db[dbi].blocked {
		tx.signalReady(dbi, []byte(k))
	}
}
