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
	ids    []string // acknowledged, not yet forgotten; guarded by mu
	ticket uint64   // the latest acknowledgement's log record; guarded by mu
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
	if err == nil {
		return
	}
	p.c.log.Debug("ledger pruning postponed", "ids", len(ids), "err", err)
	p.mu.Lock()
	p.ids = append(ids, p.ids...)
	if over := len(p.ids) - pruneKeep; over > 0 {
		p.ids = p.ids[over:]
	}
	p.mu.Unlock()
}
