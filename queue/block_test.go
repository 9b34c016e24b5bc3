package queue

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func b(s string) []byte { return []byte(s) }

func bs(ss ...string) [][]byte {
	out := make([][]byte, len(ss))
	for i, s := range ss {
		out[i] = []byte(s)
	}
	return out
}

// push runs one Push in its own Tx.
func push(t testing.TB, ks *Keyspace, dbi int, key string, front bool, vals ...string) {
	t.Helper()
	tx := ks.Begin()
	defer tx.End()
	if _, err := tx.Push(dbi, b(key), bs(vals...), front, false); err != nil {
		t.Fatal(err)
	}
}

// block registers w on keys in its own Tx.
func block(ks *Keyspace, w *Waiter, dbi int, op BlockOp, keys ...string) {
	w.Op = op
	tx := ks.Begin()
	tx.Block(w, dbi, bs(keys...))
	tx.End()
}

// served waits for w to be served and returns "key:item,item".
func served(t testing.TB, w *Waiter) string {
	t.Helper()
	select {
	case <-w.Ready():
	case <-time.After(5 * time.Second):
		t.Fatal("waiter not served")
	}
	if w.Err != nil {
		return "err:" + w.Err.Error()
	}
	s := string(w.Key) + ":"
	for i, it := range w.Items {
		if i > 0 {
			s += ","
		}
		s += string(it)
	}
	return s
}

func notServed(t testing.TB, w *Waiter) {
	t.Helper()
	select {
	case <-w.Ready():
		t.Fatalf("waiter served unexpectedly: %q %q", w.Key, w.Items)
	default:
	}
}

// listOf returns the items of key, or nil if it is missing.
func listOf(t testing.TB, ks *Keyspace, dbi int, key string) []string {
	t.Helper()
	tx := ks.Begin()
	defer tx.End()
	items, err := tx.Range(dbi, b(key), 0, -1, nil)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, it := range items {
		out = append(out, string(it))
	}
	return out
}

func TestBlockFIFOAcrossKeys(t *testing.T) {
	ks := New(Config{})
	w1, w2, w3 := NewWaiter(), NewWaiter(), NewWaiter()
	block(ks, w1, 0, BlockOp{Front: true}, "a", "b")
	block(ks, w2, 0, BlockOp{Front: true}, "b")
	block(ks, w3, 0, BlockOp{}, "b", "a", "b") // duplicate key: one registration
	if ks.Blocked() != 3 {
		t.Fatalf("blocked %d", ks.Blocked())
	}
	push(t, ks, 0, "b", false, "1", "2", "3", "4")
	if got := served(t, w1); got != "b:1" {
		t.Fatalf("w1 %s", got)
	}
	if got := served(t, w2); got != "b:2" {
		t.Fatalf("w2 %s", got)
	}
	if got := served(t, w3); got != "b:4" { // BRPOP takes the tail
		t.Fatalf("w3 %s", got)
	}
	if got := listOf(t, ks, 0, "b"); fmt.Sprint(got) != "[3]" {
		t.Fatalf("left over %v", got)
	}
	if ks.Blocked() != 0 {
		t.Fatalf("blocked %d after serving", ks.Blocked())
	}
	// A waiter on two keys is served once, and leaves the other key's
	// queue: the next push to it stays in the list.
	w := NewWaiter()
	block(ks, w, 0, BlockOp{Front: true}, "x", "y")
	push(t, ks, 0, "y", false, "1")
	served(t, w)
	push(t, ks, 0, "x", false, "2")
	if got := listOf(t, ks, 0, "x"); fmt.Sprint(got) != "[2]" {
		t.Fatalf("x %v", got)
	}
}

func TestBlockOtherDatabaseDoesNotServe(t *testing.T) {
	ks := New(Config{})
	w := NewWaiter()
	block(ks, w, 1, BlockOp{Front: true}, "q")
	push(t, ks, 0, "q", false, "db0")
	notServed(t, w)
	push(t, ks, 1, "q", false, "db1")
	if got := served(t, w); got != "q:db1" {
		t.Fatal(got)
	}
}

func TestBlockMPopCount(t *testing.T) {
	ks := New(Config{})
	w := NewWaiter()
	block(ks, w, 0, BlockOp{Front: true, Count: 2}, "a", "b")
	push(t, ks, 0, "b", false, "1", "2", "3")
	if got := served(t, w); got != "b:1,2" {
		t.Fatal(got)
	}
}

func TestBlockServedInsideTxSeesEndState(t *testing.T) {
	// Pushes and pops in one Tx (MULTI/EXEC): the waiter is served when
	// the Tx ends, from what is left then.
	ks := New(Config{})
	w := NewWaiter()
	block(ks, w, 0, BlockOp{Front: true}, "q")
	tx := ks.Begin()
	tx.Push(0, b("q"), bs("a", "b"), false, false)
	tx.Pop(0, b("q"), true, -1, nil)
	notServed(t, w)
	tx.End()
	if got := served(t, w); got != "q:b" {
		t.Fatal(got)
	}
	// Everything pushed is popped again in the Tx: the waiter waits on.
	w2 := NewWaiter()
	block(ks, w2, 0, BlockOp{Front: true}, "q")
	tx = ks.Begin()
	tx.Push(0, b("q"), bs("a"), false, false)
	tx.Pop(0, b("q"), true, -1, nil)
	tx.End()
	notServed(t, w2)
	if ks.Blocked() != 1 {
		t.Fatalf("blocked %d", ks.Blocked())
	}
}

func TestBlockMoveChain(t *testing.T) {
	ks := New(Config{})
	a, bw, c := NewWaiter(), NewWaiter(), NewWaiter()
	block(ks, a, 0, BlockOp{Front: true, Dest: b("k2")}, "k1")
	block(ks, bw, 0, BlockOp{Front: true, Dest: b("k3"), DestFront: true}, "k2")
	block(ks, c, 0, BlockOp{}, "k3")
	push(t, ks, 0, "k1", false, "job")
	for _, w := range []*Waiter{a, bw} {
		if got := served(t, w); got[len(got)-3:] != "job" {
			t.Fatalf("move waiter got %s", got)
		}
	}
	if got := served(t, c); got != "k3:job" {
		t.Fatal(got)
	}
	for _, k := range []string{"k1", "k2", "k3"} {
		if got := listOf(t, ks, 0, k); got != nil {
			t.Fatalf("%s still holds %v", k, got)
		}
	}
	// A cycle: x→y and y→x. The item moves once into y, then back into x,
	// and stays there.
	x, y := NewWaiter(), NewWaiter()
	block(ks, x, 0, BlockOp{Front: true, Dest: b("y")}, "x")
	block(ks, y, 0, BlockOp{Front: true, Dest: b("x")}, "y")
	push(t, ks, 0, "x", false, "loop")
	served(t, x)
	served(t, y)
	if got := listOf(t, ks, 0, "x"); fmt.Sprint(got) != "[loop]" {
		t.Fatalf("x %v", got)
	}
}

func TestBlockMoveToWrongType(t *testing.T) {
	ks := New(Config{})
	mover, popper := NewWaiter(), NewWaiter()
	block(ks, mover, 0, BlockOp{Front: true, Dest: b("dst")}, "src")
	block(ks, popper, 0, BlockOp{Front: true}, "src")
	tx := ks.Begin()
	tx.Set(0, b("dst"), b("string"), SetOptions{})
	tx.End()
	push(t, ks, 0, "src", false, "item")
	// The mover is unblocked with WRONGTYPE; the item goes to the next.
	if got := served(t, mover); got != "err:"+ErrWrongType.Error() {
		t.Fatal(got)
	}
	if got := served(t, popper); got != "src:item" {
		t.Fatal(got)
	}
}

func TestSwapDBWakesWaiters(t *testing.T) {
	ks := New(Config{})
	w := NewWaiter()
	block(ks, w, 0, BlockOp{Front: true}, "q")
	push(t, ks, 1, "q", false, "from1")
	notServed(t, w)
	tx := ks.Begin()
	if err := tx.SwapDB(0, 1); err != nil {
		t.Fatal(err)
	}
	tx.End()
	if got := served(t, w); got != "q:from1" {
		t.Fatal(got)
	}
	if got := listOf(t, ks, 0, "q"); got != nil {
		t.Fatalf("db0 q %v", got)
	}
}

func TestUnblock(t *testing.T) {
	ks := New(Config{})
	w := NewWaiter()
	block(ks, w, 0, BlockOp{}, "q")
	tx := ks.Begin()
	if !tx.Unblock(w, ErrUnblocked) {
		t.Fatal("Unblock of a blocked waiter returned false")
	}
	if tx.Unblock(w, nil) {
		t.Fatal("Unblock twice returned true")
	}
	tx.End()
	<-w.Ready()
	if w.Err != ErrUnblocked || ks.Blocked() != 0 {
		t.Fatalf("err %v blocked %d", w.Err, ks.Blocked())
	}
	tx = ks.Begin()
	if !tx.Cancel(w) {
		t.Fatal("Cancel after Unblock must report the wait ended (served)")
	}
	tx.End()
}

// TestBlockCancelRace runs consumers that block and give up on timeouts
// while producers push, the way BRPOP with short timeouts does. Every item
// must end up exactly once: delivered to a consumer (served, or reported
// served by Cancel) or still in the list. Run with -race.
func TestBlockCancelRace(t *testing.T) {
	ks := New(Config{})
	const producers, consumers, perProducer = 3, 4, 3000
	var got sync.Map // item -> times received
	var received atomic.Int64
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for c := 0; c < consumers; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(c), 7))
			w := NewWaiter()
			take := func() {
				for _, it := range w.Items {
					n, _ := got.LoadOrStore(string(it), new(atomic.Int32))
					n.(*atomic.Int32).Add(1)
					received.Add(1)
				}
			}
			for {
				select {
				case <-stop:
					return
				default:
				}
				keys := bs("q1", "q2")[:1+r.IntN(2)]
				w.Op = BlockOp{Front: r.IntN(2) == 0, Count: int64(r.IntN(3))}
				tx := ks.Begin()
				// Try first, as BLPOP does, then block.
				var items [][]byte
				for _, k := range keys {
					items, _ = tx.Pop(0, k, w.Op.Front, -1, nil)
					if len(items) > 0 {
						break
					}
				}
				if len(items) > 0 {
					n, _ := got.LoadOrStore(string(items[0]), new(atomic.Int32))
					n.(*atomic.Int32).Add(1)
					received.Add(1)
					tx.End()
					continue
				}
				tx.Block(w, 0, keys)
				tx.End()
				select {
				case <-w.Ready():
					take()
				case <-time.After(time.Duration(r.IntN(200)) * time.Microsecond):
					tx := ks.Begin()
					wasServed := tx.Cancel(w)
					tx.End()
					if wasServed {
						take()
					}
				}
			}
		}()
	}
	var pw sync.WaitGroup
	for p := 0; p < producers; p++ {
		pw.Add(1)
		go func() {
			defer pw.Done()
			for i := 0; i < perProducer; i++ {
				tx := ks.Begin()
				key := b(fmt.Sprint("q", 1+i%2))
				tx.Push(0, key, bs(fmt.Sprintf("%d-%d", p, i)), i%3 == 0, false)
				tx.End()
			}
		}()
	}
	pw.Wait()
	close(stop)
	wg.Wait()
	left := len(listOf(t, ks, 0, "q1")) + len(listOf(t, ks, 0, "q2"))
	if total := int(received.Load()) + left; total != producers*perProducer {
		t.Fatalf("received %d + left %d = %d, pushed %d", received.Load(), left, total, producers*perProducer)
	}
	got.Range(func(k, v any) bool {
		if n := v.(*atomic.Int32).Load(); n != 1 {
			t.Errorf("item %s received %d times", k, n)
		}
		return true
	})
	if ks.Blocked() != 0 {
		t.Fatalf("%d waiters left registered", ks.Blocked())
	}
}

func TestWaiterItemsAreCopies(t *testing.T) {
	ks := New(Config{})
	w := NewWaiter()
	block(ks, w, 0, BlockOp{Front: true}, "q")
	push(t, ks, 0, "q", false, "first", "second")
	served(t, w)
	// Later writes must not change what the waiter holds.
	push(t, ks, 0, "q", true, "xxxxx")
	tx := ks.Begin()
	tx.LSet(0, b("q"), 0, b("yyyyy"))
	tx.End()
	if !bytes.Equal(w.Items[0], b("first")) || string(w.Key) != "q" {
		t.Fatalf("waiter items changed: %q %q", w.Key, w.Items)
	}
}

func TestRenameIntoPlaceServes(t *testing.T) {
	ks := New(Config{})
	w := NewWaiter()
	block(ks, w, 0, BlockOp{Front: true}, "q")
	push(t, ks, 0, "tmp", false, "moved")
	tx := ks.Begin()
	if _, err := tx.Rename(0, b("tmp"), b("q"), false); err != nil {
		t.Fatal(err)
	}
	tx.End()
	if got := served(t, w); got != "q:moved" {
		t.Fatal(got)
	}
}

func TestSwapDBExpiredKeyDoesNotServe(t *testing.T) {
	now := time.UnixMilli(1_000_000)
	ks := New(Config{Now: func() time.Time { return now }})
	w := NewWaiter()
	block(ks, w, 0, BlockOp{Front: true}, "k")
	tx := ks.Begin()
	tx.Push(1, b("k"), bs("stale"), false, false)
	tx.Expire(1, b("k"), now.UnixMilli()+10, ExpireAlways)
	tx.End()
	now = now.Add(time.Second)
	tx = ks.Begin()
	tx.SwapDB(0, 1)
	tx.End()
	notServed(t, w)
	if ks.Blocked() != 1 {
		t.Fatalf("blocked %d", ks.Blocked())
	}
}
