package dead

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"regexp"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"mullet/config"
	"mullet/consumer"
	"mullet/queue"
	"mullet/server"
)

// start runs an in-process server whose consumer drains "q" into a bbolt
// table, and returns a client of it and the consumer.
func start(t *testing.T) (*redis.Client, *consumer.Consumer) {
	t.Helper()
	set := config.New()
	if err := set.Load("", [][]string{{"appendonly", "no"}}); err != nil {
		t.Fatal(err)
	}
	ks := queue.New(queue.Config{Databases: int(set.Int("databases"))})
	cfg := consumer.DefaultConfig()
	cfg.Routes = []consumer.Route{{Queue: "q", Table: "t"}}
	cfg.Linger = 0
	path := filepath.Join(t.TempDir(), consumer.BoltFile)
	cfg.OpenSink = func(context.Context) (consumer.Sink, error) { return consumer.NewBolt(path, nil) }
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	c, err := consumer.New(ks, cfg)
	if err != nil {
		t.Fatal(err)
	}
	s := server.New(server.Config{Keyspace: ks, Settings: set, Logger: cfg.Logger,
		Sections: []server.InfoSection{{Name: "Consumer", Info: c.Info}}})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go s.Serve(ln)
	c.Start()
	rdb := redis.NewClient(&redis.Options{Addr: ln.Addr().String(), MaxRetries: -1, Protocol: 2, DisableIdentity: true})
	t.Cleanup(func() {
		rdb.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		s.Shutdown(ctx)
		c.Stop(ctx)
	})
	return rdb, c
}

// settled waits until the consumer has nothing queued or in flight.
func settled(t *testing.T, rdb *redis.Client, c *consumer.Consumer) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		st := c.Stats()[0]
		n, err := rdb.LLen(t.Context(), "q").Result()
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 && st.InflightBatches == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("not settled: LLEN q %d, %+v", n, st)
		}
		time.Sleep(5 * time.Millisecond) // polling the consumer's progress
	}
}

// TestRequeueWhileDying: 'requeue --all' runs over and over while the
// consumer keeps dead-lettering new poison items (and the requeued ones
// again). Every change is atomic, so the two lists always pair up, and at
// the end each item is dead exactly once with its own reason record.
func TestRequeueWhileDying(t *testing.T) {
	rdb, c := start(t)
	ctx := t.Context()
	const n = 300
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := range n {
			if err := rdb.LPush(ctx, "q", fmt.Sprintf(`{"id":%d,}`, i)).Err(); err != nil { // not valid JSON
				t.Error(err)
				return
			}
		}
	})
	requeued := 0
	for range 20 {
		moved, err := Requeue(ctx, rdb, "q", Selector{All: true})
		if err != nil {
			t.Fatal(err)
		}
		requeued += len(moved)
		// Both lists change in one keyspace step each (consumer and
		// EXEC), so read at one moment they pair up.
		var d, r *redis.IntCmd
		if _, err := rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
			d, r = p.LLen(ctx, "q:dead"), p.LLen(ctx, "q:dead:reasons")
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if d.Val() != r.Val() {
			t.Fatalf("q:dead has %d items, q:dead:reasons %d", d.Val(), r.Val())
		}
	}
	wg.Wait()
	settled(t, rdb, c)
	letters, err := List(ctx, rdb, "q")
	if err != nil {
		t.Fatal(err)
	}
	var items []string
	for i, l := range letters {
		if l.Index != i || l.Reason.Item != l.Item || l.Reason.Reason != "not valid JSON" {
			t.Fatalf("letter %d does not pair with its reason: %+v", i, l)
		}
		items = append(items, l.Item)
	}
	slices.Sort(items)
	items = slices.Compact(items)
	if len(items) != n || len(letters) != n {
		t.Fatalf("%d dead letters, %d distinct; want each of the %d once", len(letters), len(items), n)
	}
	st := c.Stats()[0]
	if st.DeadLetters != n || st.DeadLetterEvents < int64(n+requeued) {
		t.Errorf("dead_letters %d (want %d), dead_letter_events %d (want >= %d)", st.DeadLetters, n, st.DeadLetterEvents, n+requeued)
	}
	if requeued == 0 {
		t.Error("no requeue found a dead letter: the test did not race")
	}
	t.Logf("%d requeued while dying", requeued)
}

// TestSelectors: by index (0 the oldest), by reason pattern, drop; refused
// selections change nothing; unpaired lists are refused.
func TestSelectors(t *testing.T) {
	rdb, c := start(t)
	ctx := t.Context()
	// Dead letters written as the consumer writes them (oldest on the
	// right), without a consumer race: pushed directly.
	c.SetEnabled(false)
	for i, reason := range []string{"too long", "not valid JSON", "too long"} {
		rec := fmt.Sprintf(`{"reason":%q,"table":"t","batch":"b","at":"2026-11-25T20:14:09.668213547Z","item":"i%d","item_bytes":2}`, reason, i)
		rdb.LPush(ctx, "q:dead", fmt.Sprintf("i%d", i))
		rdb.LPush(ctx, "q:dead:reasons", rec)
	}
	letters, err := List(ctx, rdb, "q")
	if err != nil || len(letters) != 3 || letters[0].Item != "i0" || letters[2].Item != "i2" ||
		!letters[0].Reason.At.Equal(time.Date(2026, 11, 25, 20, 14, 9, 668213547, time.UTC)) {
		t.Fatalf("List: %+v, %v", letters, err)
	}
	for _, sel := range []Selector{{}, {All: true, Index: new(int)}} {
		if _, err := Drop(ctx, rdb, "q", sel); err == nil {
			t.Errorf("Drop(%+v) succeeded", sel)
		}
	}
	nine := 9
	if _, err := Drop(ctx, rdb, "q", Selector{Index: &nine}); err == nil {
		t.Error("Drop of index 9 succeeded")
	}
	one := 1
	moved, err := Requeue(ctx, rdb, "q", Selector{Index: &one})
	if err != nil || len(moved) != 1 || moved[0].Item != "i1" {
		t.Fatalf("Requeue #1: %+v, %v", moved, err)
	}
	moved, err = Requeue(ctx, rdb, "q", Selector{Reason: regexp.MustCompile("^too")})
	if err != nil || len(moved) != 2 {
		t.Fatalf("Requeue too*: %+v, %v", moved, err)
	}
	// The queue's right end is taken first: each requeue goes there,
	// oldest letter rightmost, ahead of earlier requeues.
	q, _ := rdb.LRange(ctx, "q", 0, -1).Result()
	if !slices.Equal(q, []string{"i1", "i2", "i0"}) {
		t.Errorf("queue after requeues: %q, want [i1 i2 i0] (i0 taken first)", q)
	}
	if n, _ := rdb.Exists(ctx, "q:dead", "q:dead:reasons").Result(); n != 0 {
		t.Errorf("%d dead-letter lists left", n)
	}

	// Unpaired: refused, nothing moves.
	rdb.LPush(ctx, "q:dead", "lonely")
	if _, err := Requeue(ctx, rdb, "q", Selector{All: true}); err == nil {
		t.Error("requeue of unpaired lists succeeded")
	}
	// A queue that is not a list: refused, the letter stays.
	rdb.LPush(ctx, "q:dead:reasons", `{"reason":"r"}`)
	rdb.Del(ctx, "q")
	rdb.Set(ctx, "q", "a string", 0)
	if _, err := Requeue(ctx, rdb, "q", Selector{All: true}); err == nil {
		t.Error("requeue into a string succeeded")
	}
	if n, _ := rdb.LLen(ctx, "q:dead").Result(); n != 1 {
		t.Errorf("the refused requeue moved the letter: %d left", n)
	}
	moved, err = Drop(ctx, rdb, "q", Selector{All: true})
	if err != nil || len(moved) != 1 {
		t.Errorf("Drop all: %+v, %v", moved, err)
	}
}
