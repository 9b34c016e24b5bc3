package consumer

import (
	"context"
	"errors"
	"sync"
	"time"

	"mullet/queue"
)

// Pruning limits.
const (
	// pruneEvery is how often acknowledged batch IDs leave the ledger.
	pruneEvery = time.Second
	// pruneBatch acknowledged IDs trigger a prune before pruneEvery.
	pruneBatch = 1000
	// pruneKeep bounds the IDs kept while the sink refuses to forget;
	// beyond it the oldest are left in the ledger (harmless, just rows).
	pruneKeep = 100_000
)

// A pruner removes ledger records that can no longer matter. A record
// matters while its batch key may still exist after a restart, that is
// until the DEL that acknowledged the batch is on stable storage: then no
// replay can bring the key back, and settlement will never ask. Pruning
// earlier would let a replayed key be written twice.
type pruner struct {
	c    *Consumer
	kick chan struct{}

	mu     sync.Mutex
	ids    []string  // acknowledged, not yet forgotten; guarded by mu
	ticket uint64    // the latest acknowledgement's log record; guarded by mu
	given  int64     // IDs dropped from ids past pruneKeep: they stay in the ledger; guarded by mu
	err    string    // the last prune's error, "" once one succeeds; guarded by mu
	warned time.Time // when that error was last logged; guarded by mu
}

// pruneReminder is how often a prune that keeps failing for a reason that
// waits for a person (a missing DELETE privilege) is logged again.
const pruneReminder = 10 * time.Minute

// status returns the ledger records this run acknowledged and has not
// deleted (waiting for the next prune, or left behind after pruneKeep),
// and the last prune's error ("" if it worked).
func (p *pruner) status() (unpruned int64, err string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return int64(len(p.ids)) + p.given, p.err
}

// refuse records an error that makes every prune fail, known before any
// is tried (the sink's start-up check found DELETE denied).
func (p *pruner) refuse(err error) {
	p.mu.Lock()
	p.err, p.warned = err.Error(), time.Now()
	p.mu.Unlock()
}

func (p *pruner) init(c *Consumer) {
	p.c = c
	p.kick = make(chan struct{}, 1)
}

// add queues id, whose batch key was deleted by the record ticket.
func (p *pruner) add(id string, ticket uint64) {
	p.mu.Lock()
	p.ids = append(p.ids, id)
	p.ticket = max(p.ticket, ticket)
	full := len(p.ids) >= pruneBatch
	p.mu.Unlock()
	if full {
		select {
		case p.kick <- struct{}{}:
		default:
		}
	}
}

// run prunes every pruneEvery, or sooner when pruneBatch IDs wait, until
// ctx ends. Stop runs a last flush.
func (p *pruner) run(ctx context.Context, sink Sink) {
	t := time.NewTicker(pruneEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-p.kick:
		}
		p.flush(ctx, sink)
	}
}

// flush makes the acknowledgements durable with one Sync (one fdatasync
// for up to thousands of batches), then forgets their IDs.
func (p *pruner) flush(ctx context.Context, sink Sink) {
	p.mu.Lock()
	ids, ticket := p.ids, p.ticket
	p.ids = nil
	p.mu.Unlock()
	if len(ids) == 0 {
		return
	}
	err := p.c.ks.Sync(ctx, ticket)
	if err == nil || errors.Is(err, queue.ErrNoLog) {
		err = sink.Forget(ctx, ids)
	}
	p.mu.Lock()
	failing := p.err != ""
	if err == nil {
		p.err = ""
		p.mu.Unlock()
		if failing {
			p.c.log.Info("ledger pruning works again", "pruned", len(ids))
		}
		return
	}
	changed := p.err != err.Error()
	p.err = err.Error()
	p.ids = append(ids, p.ids...)
	if over := len(p.ids) - pruneKeep; over > 0 {
		p.ids = p.ids[over:]
		p.given += int64(over)
	}
	unpruned := int64(len(p.ids)) + p.given
	remind := !changed && time.Since(p.warned) >= pruneReminder
	if changed || remind {
		p.warned = time.Now()
	}
	p.mu.Unlock()
	if IsRetryable(err) {
		// The sink is unreachable: the routes' backoff lines say so, and
		// the next prune catches up.
		p.c.log.Debug("ledger pruning postponed", "ids", len(ids), "err", err)
		return
	}
	if changed || remind {
		// A person must act (GRANT DELETE, say), or the ledger grows by
		// one row per batch.
		p.c.log.Warn("cannot prune the ledger: it grows by one row per batch until this is fixed",
			"ledger_unpruned", unpruned, "err", err)
	}
}
