package consumer

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"mullet/internal/testutil"
	"mullet/queue"
)

// testLog sends the consumer's log to t.Log, and drops lines logged after
// the test ended (t.Log would panic).
func testLog(t testing.TB) *slog.Logger {
	w := &tlogWriter{t: t}
	t.Cleanup(func() { w.mu.Lock(); w.done = true; w.mu.Unlock() })
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type tlogWriter struct {
	t    testing.TB
	mu   sync.Mutex
	done bool
}

func (w *tlogWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.done {
		w.t.Log(strings.TrimSuffix(string(p), "\n"))
	}
	return len(p), nil
}

// lpush pushes items to the left of key, as producers do, in one call per
// chunk of 100 (like pipelined LPUSHes).
func lpush(t testing.TB, ks *queue.Keyspace, key string, its ...[]byte) {
	t.Helper()
	for chunk := range slices.Chunk(its, 100) {
		tx := ks.Begin()
		_, err := tx.Push(0, []byte(key), chunk, true, false)
		tx.End()
		if err != nil {
			t.Fatal(err)
		}
	}
}

// listOf returns the items of a list key as strings.
func listOf(t testing.TB, ks *queue.Keyspace, key string) []string {
	t.Helper()
	tx := ks.Begin()
	defer tx.End()
	its, err := tx.Range(0, []byte(key), 0, -1, nil)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]string, len(its))
	for i, it := range its {
		out[i] = string(it)
	}
	return out
}

func keysOf(t testing.TB, ks *queue.Keyspace, pattern string) []string {
	t.Helper()
	tx := ks.Begin()
	defer tx.End()
	var out []string
	for _, k := range tx.Keys(0, []byte(pattern), nil) {
		out = append(out, string(k))
	}
	slices.Sort(out)
	return out
}

func llen(ks *queue.Keyspace, key string) int64 {
	tx := ks.Begin()
	defer tx.End()
	n, _ := tx.Len(0, []byte(key))
	return n
}

// startConsumer starts a consumer on ks with the test defaults (small
// linger, fast retries), changed by edit, and stops it when t ends.
func startConsumer(t testing.TB, ks *queue.Keyspace, open func(context.Context) (Sink, error), edit func(*Config), routes ...Route) *Consumer {
	t.Helper()
	cfg := DefaultConfig()
	cfg.Routes = routes
	cfg.OpenSink = open
	cfg.Linger = time.Millisecond
	cfg.RetryMin = 10 * time.Millisecond
	cfg.RetryMax = 200 * time.Millisecond
	cfg.Logger = testLog(t)
	if edit != nil {
		edit(&cfg)
	}
	c, err := New(ks, cfg)
	if err != nil {
		t.Fatal(err)
	}
	c.Start()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := c.Stop(ctx); err != nil {
			t.Errorf("stop: %v", err)
		}
	})
	return c
}

func routeStats(c *Consumer, queue string) RouteStats {
	for _, st := range c.Stats() {
		if st.Queue == queue {
			return st
		}
	}
	return RouteStats{}
}

// boltSink returns an OpenSink for a bbolt file in dir.
func boltSink(path string) func(context.Context) (Sink, error) {
	return func(context.Context) (Sink, error) { return NewBolt(path, nil) }
}

// TestBoltEndToEnd: the embedded default drains a queue into sink.db,
// readable with DumpTable once the consumer stopped.
func TestBoltEndToEnd(t *testing.T) {
	ks := queue.New(queue.Config{})
	path := filepath.Join(t.TempDir(), BoltFile)
	var want []string
	var its [][]byte
	for i := range 1234 {
		s := fmt.Sprintf(`{"id":%d,"total":%d.5,"note":"n%d"}`, i, i, i)
		its = append(its, []byte(s))
		want = append(want, s)
	}
	cfg := DefaultConfig()
	cfg.Routes = []Route{{Queue: "order_queue", Table: "orders"}}
	cfg.OpenSink = boltSink(path)
	cfg.BatchSize = 100
	cfg.Logger = testLog(t)
	c, err := New(ks, cfg)
	if err != nil {
		t.Fatal(err)
	}
	c.Start()
	lpush(t, ks, "order_queue", its...)
	testutil.WaitFor(t, 30*time.Second, "1234 rows", func() bool { return routeStats(c, "order_queue").Rows == 1234 })

	var locked bytes.Buffer
	if err := DumpTable(path, "orders", &locked); err == nil || !strings.Contains(err.Error(), "in use") {
		t.Errorf("DumpTable while the consumer runs: %v; want ErrSinkLocked", err)
	}
	if err := c.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := DumpTable(path, "orders", &out); err != nil {
		t.Fatal(err)
	}
	got := strings.Split(strings.TrimSpace(out.String()), "\n")
	// Batches commit in parallel: compare as sets.
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("dump has %d rows, want the %d items once each; first %q", len(got), len(want), got[:min(3, len(got))])
	}
	if k := keysOf(t, ks, "*"); len(k) != 0 {
		t.Errorf("keys left: %q", k)
	}
	st := routeStats(c, "order_queue")
	if st.State != "stopped" || st.Batches < 13 || st.InflightBatches != 0 {
		t.Errorf("stats after stop: %+v", st)
	}
}

func TestBatchIDs(t *testing.T) {
	c := &Consumer{boot: bootID(time.Unix(1_700_000_000, 0))}
	a, b := c.nextID(), c.nextID()
	if a == b || !strings.HasPrefix(a, c.boot+"-") {
		t.Fatalf("IDs %q, %q", a, b)
	}
	now := time.Now()
	if a, b := bootID(now), bootID(now); a == b {
		t.Error("two boots in the same millisecond got the same prefix")
	}
	later := &Consumer{boot: bootID(time.Unix(1_800_000_000, 0))}
	ids := []string{later.nextID(), "zzz", c.boot + "-10", b, a, c.boot + "-9"}
	slices.SortFunc(ids, compareIDs)
	want := []string{a, b, c.boot + "-9", c.boot + "-10", later.boot + "-1", "zzz"}
	if !slices.Equal(ids, want) {
		t.Errorf("sorted %q\nwant %q", ids, want)
	}
	if len(c.boot) > 20 {
		t.Errorf("boot prefix %q is long; it is in every batch key and LMOVE record", c.boot)
	}
}

func TestGlobEscape(t *testing.T) {
	ks := queue.New(queue.Config{})
	for _, k := range []string{"q*x:inflight:1", "q*x:inflight:2", "qzx:inflight:1", `q[a]\:inflight:1`, "q?:inflight:1", "qq:inflight:1"} {
		lpush(t, ks, k, []byte("v"))
	}
	for _, tc := range []struct{ queue, want string }{
		{"q*x", "q*x:inflight:1 q*x:inflight:2"},
		{`q[a]\`, `q[a]\:inflight:1`},
		{"q?", "q?:inflight:1"},
	} {
		got := strings.Join(keysOf(t, ks, globEscape(tc.queue+":inflight:")+"*"), " ")
		if got != tc.want {
			t.Errorf("%s: %s, want %s", tc.queue, got, tc.want)
		}
	}
}

func TestBackoff(t *testing.T) {
	c := &Consumer{}
	c.SetRetry(100*time.Millisecond, 30*time.Second)
	for attempt, want := range map[int]time.Duration{1: 100 * time.Millisecond, 2: 200 * time.Millisecond, 5: 1600 * time.Millisecond, 9: 25600 * time.Millisecond, 10: 30 * time.Second, 100: 30 * time.Second} {
		for range 50 {
			d := c.backoff(attempt)
			if d < want/2 || d > want {
				t.Fatalf("attempt %d: %v, want in [%v, %v]", attempt, d, want/2, want)
			}
		}
	}
}

func TestConfigValidate(t *testing.T) {
	ok := DefaultConfig()
	ok.OpenSink = boltSink("x")
	for _, tc := range []struct {
		name string
		edit func(*Config)
		want string
	}{
		{"ok", func(*Config) {}, ""},
		{"no sink", func(c *Config) { c.OpenSink = nil }, "OpenSink"},
		{"pool", func(c *Config) { c.PoolSize = 0 }, "pool size"},
		{"batch", func(c *Config) { c.BatchSize = 0 }, "batch size"},
		{"retry", func(c *Config) { c.RetryMin = time.Second; c.RetryMax = time.Millisecond }, "retry"},
		{"twice", func(c *Config) { c.Routes = []Route{{"q", "t"}, {"q", "u"}} }, "routed twice"},
		{"bad table", func(c *Config) { c.Routes = []Route{{"q", ""}} }, "empty name"},
		{"nested queue", func(c *Config) { c.Routes = []Route{{"q:inflight:x", "t"}, {"q", "u"}} }, "inside the key space"},
		{"dead queue", func(c *Config) { c.Routes = []Route{{"q", "t"}, {"q:dead", "u"}} }, "inside the key space"},
		{"similar names", func(c *Config) { c.Routes = []Route{{"q", "t"}, {"q:inflight", "u"}, {"qq", "v"}} }, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := ok
			tc.edit(&cfg)
			err := cfg.Validate()
			if (tc.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.want)) {
				t.Errorf("Validate() = %v, want %q", err, tc.want)
			}
		})
	}
}
