package testutil

import (
	"bytes"
	"context"
	"strconv"
	"sync"
)

// Log is an in-memory queue.Log for tests that stands in for the AOF. It
// keeps a copy of every record and hands out tickets 1, 2, 3... Wait
// returns at once, as the AOF's does under appendfsync no once the bytes
// are written. Sync returns at once too, unless the Log was made by
// NewManualLog: then it waits until Fsync has covered the ticket, so a
// test decides when (and whether) a record becomes durable. Err is always
// nil: a failed Fsync fails Sync only, and the keyspace keeps accepting
// writes. It imports no project package, so queue's own tests can use it.
type Log struct {
	mu     sync.Mutex
	recs   []Record
	taken  int    // records before this one were returned by Take
	manual bool   // Sync waits for Fsync
	synced uint64 // last ticket Fsync covered
	err    error  // Fsync's error, returned by every later Sync
	wake   chan struct{}
}

// A Record is one appended command: the database it belongs to (-1 for
// MULTI and EXEC) and its arguments.
type Record struct {
	DB   int
	Argv [][]byte
}

// String is the command with its arguments joined by spaces: "SET k v".
func (r Record) String() string { return string(bytes.Join(r.Argv, []byte(" "))) }

// NewLog returns a Log whose Sync returns at once.
func NewLog() *Log { return &Log{} }

// NewManualLog returns a Log whose Sync waits for Fsync.
func NewManualLog() *Log { return &Log{manual: true, wake: make(chan struct{})} }

// Append keeps a copy of argv and returns the record's ticket.
func (l *Log) Append(db int, argv [][]byte) uint64 {
	cp := make([][]byte, len(argv))
	for i, a := range argv {
		cp[i] = bytes.Clone(a)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.recs = append(l.recs, Record{DB: db, Argv: cp})
	return uint64(len(l.recs))
}

// Wait returns nil at once.
func (l *Log) Wait(uint64) error { return nil }

// Err returns nil.
func (l *Log) Err() error { return nil }

// Sync returns nil at once for a NewLog; for a NewManualLog it waits until
// Fsync has covered ticket (nil), an Fsync has failed (its error), or ctx
// is done.
func (l *Log) Sync(ctx context.Context, ticket uint64) error {
	if !l.manual {
		return nil
	}
	for {
		l.mu.Lock()
		synced, err, wake := l.synced, l.err, l.wake
		l.mu.Unlock()
		if err != nil {
			return err
		}
		if ticket <= synced {
			return nil
		}
		select {
		case <-wake:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Fsync marks every record appended so far as durable or, with a non-nil
// err, fails the fsync for good: every Sync from then on returns err. It
// is for a NewManualLog.
func (l *Log) Fsync(err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if err != nil {
		l.err = err
	} else {
		l.synced = uint64(len(l.recs))
	}
	if l.wake != nil {
		close(l.wake)
		l.wake = make(chan struct{})
	}
}

// Len returns how many records were appended: the last ticket.
func (l *Log) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.recs)
}

// Records returns the records from index from on (0: all).
func (l *Log) Records(from int) []Record {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]Record(nil), l.recs[from:]...)
}

// Lines returns the records from index from on as text ("SET k v").
func (l *Log) Lines(from int) []string {
	var out []string
	for _, r := range l.Records(from) {
		out = append(out, r.String())
	}
	return out
}

// Take returns the records appended since the last Take as text with
// their database first ("0 SET k v", "-1 MULTI").
func (l *Log) Take() []string {
	l.mu.Lock()
	recs := l.recs[l.taken:]
	l.taken = len(l.recs)
	l.mu.Unlock()
	var out []string
	for _, r := range recs {
		out = append(out, strconv.Itoa(r.DB)+" "+r.String())
	}
	return out
}
