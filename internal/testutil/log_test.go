package testutil_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"mullet/internal/testutil"
	"mullet/queue"
)

var _ queue.Log = (*testutil.Log)(nil)

// TestLogRecords runs a real keyspace on a Log and checks what it keeps:
// copies of the commands as Redis would propagate them, with their
// databases and tickets in order.
func TestLogRecords(t *testing.T) {
	log := testutil.NewLog()
	ks := queue.New(queue.Config{Log: log})
	tx := ks.Begin()
	arg := []byte("order_queue")
	if _, err := tx.Push(3, arg, [][]byte{[]byte("a"), []byte("b")}, false, false); err != nil {
		t.Fatal(err)
	}
	ticket := tx.End()
	arg[0] = 'X' // the log kept a copy
	if log.Len() != 1 || ticket != 1 {
		t.Fatalf("%d records, ticket %d; want 1 and 1", log.Len(), ticket)
	}
	if got := log.Records(0); len(got) != 1 || got[0].DB != 3 || got[0].String() != "RPUSH order_queue a b" {
		t.Fatalf("records %v", got)
	}
	if got := log.Lines(0); !slices.Equal(got, []string{"RPUSH order_queue a b"}) {
		t.Fatalf("Lines(0) = %q", got)
	}
	log.Append(-1, [][]byte{[]byte("MULTI")})
	if got := log.Take(); !slices.Equal(got, []string{"3 RPUSH order_queue a b", "-1 MULTI"}) {
		t.Fatalf("Take() = %q", got)
	}
	if got := log.Take(); got != nil {
		t.Fatalf("a second Take() = %q, want nothing", got)
	}
	if err := log.Sync(context.Background(), 2); err != nil {
		t.Fatalf("Sync on a NewLog: %v", err)
	}
}

// TestManualLogSync: Sync waits for Fsync, a canceled wait returns the
// context's error, and a failed Fsync fails every later Sync.
func TestManualLogSync(t *testing.T) {
	log := testutil.NewManualLog()
	t1 := log.Append(0, [][]byte{[]byte("SET"), []byte("k"), []byte("v")})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := log.Sync(ctx, t1); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Sync before Fsync: %v, want the context's deadline", err)
	}
	done := make(chan error)
	go func() { done <- log.Sync(context.Background(), t1) }()
	log.Fsync(nil)
	if err := <-done; err != nil {
		t.Fatalf("Sync after Fsync: %v", err)
	}
	t2 := log.Append(0, [][]byte{[]byte("DEL"), []byte("k")})
	go func() { done <- log.Sync(context.Background(), t2) }()
	disk := errors.New("no space left on device")
	log.Fsync(disk)
	if err := <-done; err != disk {
		t.Fatalf("Sync after a failed Fsync: %v, want %v", err, disk)
	}
	if err := log.Sync(context.Background(), t1); err != disk {
		t.Fatalf("a later Sync: %v, want %v", err, disk)
	}
	if log.Err() != nil || log.Wait(t2) != nil {
		t.Fatal("Err and Wait must stay nil")
	}
}
