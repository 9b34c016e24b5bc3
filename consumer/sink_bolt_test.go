package consumer

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func newBolt(t testing.TB) (*Bolt, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), BoltFile)
	s, err := NewBolt(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, path
}

func dump(t *testing.T, path, table string) string {
	t.Helper()
	var buf bytes.Buffer
	if err := DumpTable(path, table, &buf); err != nil {
		t.Fatalf("DumpTable(%s): %v", table, err)
	}
	return buf.String()
}

func TestBoltSink(t *testing.T) {
	s, path := newBolt(t)
	ctx := t.Context()

	b1 := Batch{ID: "b1", Table: "orders", Items: items(
		`{"order_id":"o1","customer":"Zoë <&>","qty":3,"price":19.990,"paid":true,"meta":{ "a" : [1, 2] },"note":null}`,
		`{"order_id":"o2","qty":1e2,"paid":false,"tags":["x"]}`,
	)}
	if err := s.Write(ctx, b1); err != nil {
		t.Fatal(err)
	}
	if err := s.Write(ctx, Batch{ID: "b2", Table: "other", Items: items(`{"x":1}`)}); err != nil {
		t.Fatal(err)
	}
	if err := s.Write(ctx, Batch{ID: "b3", Table: "orders", Items: items(`{"order_id":"o3"}`)}); err != nil {
		t.Fatal(err)
	}
	// A retry with the same ID writes nothing, whatever it carries.
	for _, b := range []Batch{b1, {ID: "b1", Table: "orders", Items: items(`{"order_id":"o4"}`)}} {
		if err := s.Write(ctx, b); !errors.Is(err, ErrAlreadyCommitted) {
			t.Fatalf("retry = %v; want ErrAlreadyCommitted", err)
		}
	}

	// Poison, with the index; nothing of the batch lands.
	for _, tc := range []struct {
		items []string
		index int
	}{
		{[]string{`{"order_id":"p1"}`, `not json`}, 1},
		{[]string{`[1]`}, 0},
		{[]string{`{"a":1}`, `{"b":2}`, `{}`}, 2},
		{[]string{`{"a\u0000":1}`}, 0},
	} {
		err := s.Write(ctx, Batch{ID: "poison", Table: "orders", Items: items(tc.items...)})
		checkRowError(t, err, tc.index, 0)
	}
	var te *TableError
	if err := s.Write(ctx, Batch{ID: "bt", Table: "", Items: items(`{"a":1}`)}); !errors.As(err, &te) {
		t.Fatalf("empty table: %v; want TableError", err)
	}
	if err := s.Write(ctx, Batch{ID: strings.Repeat("i", 256), Table: "t", Items: items(`{"a":1}`)}); !errors.Is(err, ErrInvalidBatch) {
		t.Fatalf("long ID: %v; want ErrInvalidBatch", err)
	}

	got, err := s.Committed(ctx, []string{"b1", "b2", "b3", "poison", "nope"})
	if err != nil || len(got) != 3 || !got["b1"] || !got["b2"] || !got["b3"] {
		t.Fatalf("Committed = %v, %v", got, err)
	}
	if err := s.Forget(ctx, []string{"b1", "nope"}); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Committed(ctx, []string{"b1", "b2"}); len(got) != 1 || !got["b2"] {
		t.Fatalf("Committed after Forget = %v", got)
	}

	// The server holds the file: a dump explains rather than hangs.
	start := time.Now()
	if err := DumpTable(path, "orders", &bytes.Buffer{}); !errors.Is(err, ErrSinkLocked) {
		t.Fatalf("DumpTable while open = %v; want ErrSinkLocked", err)
	}
	if _, err := NewBolt(path, &BoltOptions{Timeout: 50 * time.Millisecond}); !errors.Is(err, ErrSinkLocked) {
		t.Fatalf("second NewBolt = %v; want ErrSinkLocked", err)
	}
	t.Logf("locked errors after %v", time.Since(start).Round(time.Millisecond))
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Write(ctx, b1); !errors.Is(err, ErrClosed) {
		t.Fatalf("Write after Close = %v; want ErrClosed", err)
	}

	wantOrders := `{"order_id":"o1","customer":"Zoë <&>","qty":3,"price":19.990,"paid":1,"meta":"{\"a\":[1,2]}","note":null}
{"order_id":"o2","qty":1e2,"paid":0,"tags":"[\"x\"]"}
{"order_id":"o3"}
`
	if got := dump(t, path, "orders"); got != wantOrders {
		t.Errorf("dump orders:\n%s\nwant:\n%s", got, wantOrders)
	}
	if got := dump(t, path, "other"); got != "{\"x\":1}\n" {
		t.Errorf("dump other = %q", got)
	}
	if err := DumpTable(path, "nope", &bytes.Buffer{}); !errors.Is(err, ErrNoTable) {
		t.Errorf("dump of a missing table = %v; want ErrNoTable", err)
	}
	if err := DumpTable(filepath.Join(t.TempDir(), "missing.db"), "t", &bytes.Buffer{}); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("dump of a missing file = %v; want ErrNotExist", err)
	}

	// Reopened, the ledger and the sequence carry on.
	s2, err := NewBolt(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if err := s2.Write(ctx, Batch{ID: "b2", Table: "orders", Items: items(`{"order_id":"o9"}`)}); !errors.Is(err, ErrAlreadyCommitted) {
		t.Fatalf("b2 after reopen = %v; want ErrAlreadyCommitted", err)
	}
	if err := s2.Write(ctx, Batch{ID: "b1", Table: "orders", Items: items(`{"order_id":"o5"}`)}); err != nil {
		t.Fatalf("b1 after Forget: %v", err)
	}
	s2.Close()
	if got := dump(t, path, "orders"); got != wantOrders+"{\"order_id\":\"o5\"}\n" {
		t.Errorf("dump after reopen:\n%s", got)
	}
}

// TestBoltSinkParallel writes from several goroutines, each batch once and
// once more as a retry: every row lands exactly once.
func TestBoltSinkParallel(t *testing.T) {
	s, path := newBolt(t)
	const writers, batches, rows = 4, 10, 20
	var wg sync.WaitGroup
	errs := make(chan error, writers*batches*2)
	for w := range writers {
		wg.Go(func() {
			for i := range batches {
				var its []string
				for j := range rows {
					its = append(its, fmt.Sprintf(`{"w":%d,"i":%d,"j":%d}`, w, i, j))
				}
				b := Batch{ID: fmt.Sprintf("%d-%d", w, i), Table: "t", Items: items(its...)}
				errs <- s.Write(t.Context(), b)
				if err := s.Write(t.Context(), b); !errors.Is(err, ErrAlreadyCommitted) {
					errs <- fmt.Errorf("retry: %v", err)
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	lines := strings.Split(strings.TrimSpace(dump(t, path, "t")), "\n")
	seen := map[string]bool{}
	for _, l := range lines {
		if seen[l] {
			t.Fatalf("row %s twice", l)
		}
		seen[l] = true
	}
	if len(seen) != writers*batches*rows {
		t.Errorf("%d rows; want %d", len(seen), writers*batches*rows)
	}
}
