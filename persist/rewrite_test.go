package persist

import (
	"fmt"
	"log/slog"
	"testing"
	"time"

	"mullet/aof"
	"mullet/config"
	"mullet/queue"
)

// TestRewriteWhileOff: BGREWRITEAOF with appendonly off writes an AOF of
// the current data in a goroutine of its own, without turning logging on,
// and Close waits for it: once Close returns, the directory loads back to
// the same data.
func TestRewriteWhileOff(t *testing.T) {
	dir := t.TempDir()
	set := config.New()
	if err := set.Load("", [][]string{{"dir", dir}, {"appendonly", "no"}}); err != nil {
		t.Fatal(err)
	}
	ks := queue.New(queue.Config{})
	tx := ks.Begin()
	var items [][]byte
	for i := range 5000 {
		items = append(items, fmt.Appendf(nil, "item-%d", i))
	}
	if _, err := tx.Push(0, []byte("q"), items, false, false); err != nil {
		t.Fatal(err)
	}
	tx.End()
	p := New(ks, set, slog.New(slog.DiscardHandler), dir)
	if err := p.Rewrite(); err != nil {
		t.Fatal(err)
	}
	var fields = map[string]string{}
	p.Info(func(name, value string) { fields[name] = value })
	if fields["aof_enabled"] != "0" {
		t.Errorf("aof_enabled:%s after BGREWRITEAOF with appendonly off", fields["aof_enabled"])
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}

	opts := aof.DefaultOptions(dir)
	opts.LoadRDB = LoadRDB // aof-use-rdb-preamble yes: the base is RDB
	a, err := aof.Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	pushed := 0
	if err := a.Load(func(argv [][]byte) error {
		if string(argv[0]) == "RPUSH" {
			pushed += len(argv) - 2
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if pushed != len(items) {
		t.Fatalf("the rewritten AOF pushes %d items, want %d", pushed, len(items))
	}
}

// TestRewriteWhileOffRunning: while a BGREWRITEAOF with appendonly off
// still runs, another gets Redis's "already in progress" (the server
// replies with its text), and CONFIG SET appendonly yes waits for it
// rather than failing on the locked directory.
func TestRewriteWhileOffRunning(t *testing.T) {
	dir := t.TempDir()
	set := config.New()
	if err := set.Load("", [][]string{{"dir", dir}, {"appendonly", "no"}}); err != nil {
		t.Fatal(err)
	}
	p := New(queue.New(queue.Config{}), set, slog.New(slog.DiscardHandler), dir)
	p.Watch()
	running := make(chan struct{})
	p.bgDone = running // as Rewrite leaves it while its goroutine runs
	if err := p.Rewrite(); err != aof.ErrRewriteInProgress {
		t.Fatalf("BGREWRITEAOF while one runs: %v, want %v", err, aof.ErrRewriteInProgress)
	}
	enabled := make(chan error, 1)
	go func() { enabled <- set.Set("appendonly", "yes") }()
	select {
	case err := <-enabled:
		t.Fatalf("CONFIG SET appendonly yes returned (%v) while the rewrite ran", err)
	case <-time.After(50 * time.Millisecond):
	}
	p.mu.Lock()
	p.bgDone = nil
	p.mu.Unlock()
	close(running)
	if err := <-enabled; err != nil {
		t.Fatal(err)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
}
