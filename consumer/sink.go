package consumer

import (
	"context"
	"errors"
	"fmt"
)

// A Batch is a claimed group of queue items bound for one table.
type Batch struct {
	// ID identifies the batch forever: a retry of the same claim must reuse
	// it, and a new claim must never. 1 to MaxBatchIDLen bytes, compared
	// byte for byte.
	ID string
	// Table is the destination table; see CheckName.
	Table string
	// Items are the raw JSON objects, one per row. The sink does not keep
	// or modify them after Write returns.
	Items [][]byte
}

// MaxBatchIDLen is the longest Batch.ID, in bytes (the ledger's key column).
const MaxBatchIDLen = 255

// A Sink writes batches atomically together with a ledger record of the
// batch ID, so a batch is either fully written and recorded, or not at all.
// Implementations are safe for concurrent use.
//
// How a caller acts on Write's error:
//
//	nil, ErrAlreadyCommitted  done: ack the claim
//	IsRetryable(err)          retry the same batch (same ID) later, with backoff;
//	                          it may or may not have committed, and the ledger
//	                          makes the retry safe
//	*RowError                 split the batch to isolate the bad item (Index,
//	                          when >= 0, names it); a single bad item is a
//	                          dead letter
//	*TableError               every item of the route fails alike: park the
//	                          route or dead-letter the batch, don't split
//	anything else             a configuration or programming error: stop and
//	                          alert; splitting or retrying fast won't help
type Sink interface {
	// Write inserts every item of b as a row of b.Table and records b.ID in
	// the ledger, in one transaction. When b.ID is already in the ledger it
	// writes nothing and returns ErrAlreadyCommitted.
	Write(ctx context.Context, b Batch) error
	// Committed reports which of ids are recorded in the ledger. The map
	// holds true for each recorded id and nothing for the others.
	Committed(ctx context.Context, ids []string) (map[string]bool, error)
	// Forget removes the ledger records of ids, which the caller no longer
	// needs to deduplicate (pruning). Unknown ids are ignored.
	Forget(ctx context.Context, ids []string) error
	// Close releases the sink's connections or file.
	Close() error
}

// Compile-time checks that every sink satisfies Sink.
var (
	_ Sink = (*MySQL)(nil)
	_ Sink = (*Postgres)(nil)
	_ Sink = (*Bolt)(nil)
)

// These errors can be returned by Sink.Write.
var (
	// ErrAlreadyCommitted is returned by Write when the batch ID is already
	// in the ledger: an earlier attempt committed (typically its COMMIT
	// acknowledgement was lost) and this one wrote nothing. Callers treat it
	// as success. It is a distinct value so they can count such retries.
	ErrAlreadyCommitted = errors.New("consumer: batch already committed")

	// ErrRetryable marks errors after which the same batch may succeed
	// unchanged: the connection was lost, the server is down or shutting
	// down, too many connections, a deadlock or lock wait timeout, a full
	// disk, or ctx ended. Test with IsRetryable; the original error stays
	// reachable with errors.As.
	ErrRetryable = errors.New("consumer: retryable")

	// ErrInvalidBatch is returned for a batch the caller built wrongly (an
	// empty or too long ID). It is a programming error, not poison.
	ErrInvalidBatch = errors.New("consumer: invalid batch")
)

// These errors can be returned by any Sink method.
var (
	// ErrClosed is returned after Close.
	ErrClosed = errors.New("consumer: sink is closed")
)

// IsRetryable reports whether err is worth retrying with the same batch.
func IsRetryable(err error) bool { return errors.Is(err, ErrRetryable) }

// retryable marks err as retryable, keeping it in the chain.
func retryable(err error) error { return fmt.Errorf("%w: %w", ErrRetryable, err) }

// A RowError reports that an item was rejected for its content (poison):
// not a JSON object, a key that names no column, a value the column cannot
// hold, a duplicate key, a foreign key or CHECK violation. Retrying the
// same item will fail the same way.
type RowError struct {
	// Index is the position in Batch.Items of the rejected item, or -1 when
	// the database rejected a multi-row statement without saying which row
	// (MySQL never does): split the batch to find it.
	Index int
	// Reason is a human-readable explanation, e.g. "not a JSON object" or
	// MySQL's message "Data too long for column 'sku' at row 1".
	Reason string
	// Err is the underlying database error, or nil when the sink rejected
	// the item itself.
	Err error
}

func (e *RowError) Error() string {
	if e.Index < 0 {
		return "consumer: a row of the batch was rejected: " + e.Reason
	}
	return fmt.Sprintf("consumer: item %d rejected: %s", e.Index, e.Reason)
}

func (e *RowError) Unwrap() error { return e.Err }

// A TableError reports that the batch's table cannot take rows at all: its
// name is invalid, or it does not exist (MySQL error 1146). Every batch for
// the same table fails the same way until someone creates the table, so the
// caller should not split the batch; it should park or dead-letter the route.
type TableError struct {
	Table  string
	Reason string
	// Err is the underlying database error, or nil.
	Err error
}

func (e *TableError) Error() string {
	return fmt.Sprintf("consumer: table %s: %s", shortQuote(e.Table), e.Reason)
}

func (e *TableError) Unwrap() error { return e.Err }

// checkBatch validates what the caller controls: the ID and the table name.
func checkBatch(b Batch) error {
	if b.ID == "" || len(b.ID) > MaxBatchIDLen {
		return fmt.Errorf("%w: batch ID must be 1 to %d bytes, got %d", ErrInvalidBatch, MaxBatchIDLen, len(b.ID))
	}
	if reason := CheckName(b.Table); reason != "" {
		return &TableError{Table: b.Table, Reason: reason}
	}
	return nil
}
