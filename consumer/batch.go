package consumer

import (
	"context"
	"errors"
	"sync"
	"time"

	"mullet/queue"
)

// writeTimeout bounds one write attempt. It is far above a normal batch
// (milliseconds) and above InnoDB's default lock wait (50 s), so it only
// cuts writes that will never finish.
const writeTimeout = 2 * time.Minute

// A batch is one claimed batch key and a copy of its items.
type batch struct {
	id      string
	key     []byte    // QUEUE:inflight:ID
	ticket  uint64    // log record to Sync before writing; 0 once durable
	items   [][]byte  // slices of buf, in queue order
	claimed time.Time // for the latency INFO shows
	buf     *itemBuf  // owns the item bytes; shared by the batches split from one claim
}

// itemBuf holds a claim's item bytes in one allocation, reused through
// bufPool: the claim path allocates nothing per item.
type itemBuf struct {
	data  []byte
	ends  []int
	items [][]byte
	refs  int // batches using it; guarded by the owning goroutine (a claim's batches stay on one goroutine)
}

var bufPool = sync.Pool{New: func() any { return new(itemBuf) }}

// fill copies its into the buffer and points items at the copies.
func (ib *itemBuf) fill(its [][]byte) [][]byte {
	ib.data, ib.ends, ib.items = ib.data[:0], ib.ends[:0], ib.items[:0]
	for _, it := range its {
		ib.data = append(ib.data, it...)
		ib.ends = append(ib.ends, len(ib.data))
	}
	start := 0
	for _, end := range ib.ends {
		ib.items = append(ib.items, ib.data[start:end:end])
		start = end
	}
	return ib.items
}

// claim moves up to n items from the queue into a new batch key. It
// returns nil when the queue is empty.
func (r *route) claim(n int) (*batch, error) {
	c := r.c
	id := c.nextID()
	b := &batch{id: id, key: []byte(r.prefix + id), buf: bufPool.Get().(*itemBuf)}
	b.buf.refs = 1
	tx := c.ks.Begin()
	its, err := tx.Claim(c.db, r.qkey, b.key, n, b.buf.items[:0])
	if err == nil && len(its) > 0 {
		// Copy while the lock is held: the claimed slices alias keyspace
		// memory until the Tx's next operation.
		b.items = b.buf.fill(its)
	}
	b.ticket = tx.End()
	b.claimed = time.Now()
	if err != nil || len(b.items) == 0 {
		b.free()
		return nil, err
	}
	r.inflightBatches.Add(1)
	r.inflightItems.Add(int64(len(b.items)))
	return b, nil
}

// load reads an existing batch key (one a previous run left in flight).
// It returns nil if the key is gone or empty.
func (r *route) load(id string) *batch {
	c := r.c
	b := &batch{id: id, key: []byte(r.prefix + id), buf: bufPool.Get().(*itemBuf), claimed: time.Now()}
	b.buf.refs = 1
	tx := c.ks.Begin()
	its, err := tx.Range(c.db, b.key, 0, -1, b.buf.items[:0])
	if err == nil && len(its) > 0 {
		b.items = b.buf.fill(its)
	}
	tx.End()
	if len(b.items) == 0 {
		b.free()
		return nil
	}
	r.inflightBatches.Add(1)
	r.inflightItems.Add(int64(len(b.items)))
	return b
}

// free returns the item buffer to the pool once no batch uses it.
func (b *batch) free() {
	if b.buf == nil {
		return
	}
	b.buf.refs--
	if b.buf.refs == 0 {
		if cap(b.buf.data) <= 4<<20 { // don't keep a one-off giant
			bufPool.Put(b.buf)
		}
	}
	b.buf, b.items = nil, nil
}

// process writes b, and the batches split from it, until done or ctx
// ends. Batches it cannot finish keep their batch keys for the next start.
func (r *route) process(ctx, wctx context.Context, sink Sink, b *batch) {
	n := r.writers.Add(1)
	for {
		p := r.peakWriters.Load()
		if n <= p || r.peakWriters.CompareAndSwap(p, n) {
			break
		}
	}
	defer r.writers.Add(-1)
	todo := []*batch{b}
	for len(todo) > 0 {
		b := todo[0]
		next, ok := r.write(ctx, wctx, sink, b)
		if !ok {
			// Shutting down: the rest keep their keys too.
			for _, b := range todo {
				r.inflightBatches.Add(-1)
				r.inflightItems.Add(-int64(len(b.items)))
				b.free()
			}
			return
		}
		todo = append(next, todo[1:]...)
	}
}

// write makes b durable, writes it, and acknowledges it; on a poison item
// it splits b and returns the parts to write next (in queue order). It
// retries failures with backoff, and returns false only when ctx ends.
func (r *route) write(ctx, wctx context.Context, sink Sink, b *batch) ([]*batch, bool) {
	c := r.c
	for attempt := 1; ; attempt++ {
		started := time.Now()
		err := r.attempt(ctx, wctx, sink, b)
		var re *RowError
		switch {
		case err == nil:
			r.succeeded(started)
			return nil, true
		case errors.As(err, &re):
			// The sink answered, so it is up; the batch holds poison.
			r.succeeded(started)
			parts, serr := r.isolate(b, re)
			if serr == nil {
				return parts, true
			}
			err = serr // WRONGTYPE at QUEUE:dead, say: back off like any failure
		}
		if ctx.Err() != nil {
			return nil, false
		}
		r.retries.Add(1)
		r.fail(err)
		if !sleepCtx(ctx, c.retryDelay(attempt, err)) {
			return nil, false
		}
	}
}

// attempt is one try at writing b: sync its claim, write, acknowledge.
func (r *route) attempt(ctx, wctx context.Context, sink Sink, b *batch) error {
	c := r.c
	if b.ticket != 0 {
		// The claim must be on stable storage before its rows can commit:
		// otherwise a power loss could undo the claim after MySQL took the
		// rows, and the replayed queue would write them again.
		err := c.ks.Sync(ctx, b.ticket)
		if err != nil && !errors.Is(err, queue.ErrNoLog) {
			// Without a log there is no durability to promise (and no
			// replay to duplicate anything); otherwise Sync only fails
			// when ctx ends or the log is closed.
			return err
		}
		b.ticket = 0
	}
	// A connection that hangs (a dead host, no TCP reset) must not hold a
	// writer slot forever; the retry is safe whatever the first attempt
	// did, thanks to the ledger.
	actx, cancel := context.WithTimeout(wctx, writeTimeout)
	err := sink.Write(actx, Batch{ID: b.id, Table: r.table, Items: b.items})
	cancel()
	if err != nil && !errors.Is(err, ErrAlreadyCommitted) {
		return err
	}
	r.ack(b)
	return nil
}

// ack deletes the batch key of a committed batch and counts it.
func (r *route) ack(b *batch) {
	c := r.c
	tx := c.ks.Begin()
	tx.Del(c.db, [][]byte{b.key})
	ticket := tx.End()
	c.pruner.add(b.id, ticket)
	r.rows.Add(int64(len(b.items)))
	r.batches.Add(1)
	r.inflightBatches.Add(-1)
	r.inflightItems.Add(-int64(len(b.items)))
	r.mu.Lock()
	r.lat.add(time.Since(b.claimed))
	r.mu.Unlock()
	b.free()
}

// fail records a failed attempt and logs it: once when the route goes
// into backoff, with the cause, then every backoffReminder while it stays
// there (setState logs the recovery), so a long outage neither floods the
// log nor goes quiet.
func (r *route) fail(err error) {
	note := r.setState(stateBackoff, err.Error())
	if note == backoffQuiet {
		return
	}
	args := []any{"queue", r.queue, "table", r.table, "err", err}
	if note == backoffRemind {
		d, n := r.backoffFor(time.Now())
		args = append(args, "for", d.Round(100*time.Millisecond).String(), "attempts", n, "backlog", r.backlogSeen.Load())
	}
	var te *TableError
	switch {
	case note == backoffRemind:
		r.c.log.Warn("route still in backoff: the sink keeps failing; retrying", args...)
	case IsRetryable(err):
		r.c.log.Warn("route in backoff: sink write failed; retrying", args...)
	case errors.As(err, &te):
		r.c.log.Error("route in backoff: table cannot take rows; retrying", args...)
	default:
		r.c.log.Error("route in backoff: sink write failed (configuration?); retrying", args...)
	}
}
