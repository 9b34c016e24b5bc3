package queue

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"runtime"
	"runtime/metrics"
	"strconv"
	"testing"
	"time"
)

// recount computes, from the data alone, what UsedMemory must say, and
// checks each list's own count of its buffers on the way.
func recount(t *testing.T, ks *Keyspace) int64 {
	t.Helper()
	var n int64
	for i, d := range ks.db {
		n += d.keysMem.bytes + d.expiresMem.bytes + checkScanIndex(t, d)
		if d.keysMem.bytes != mapBytes(d.keysMem.slots, keysGroup) || d.expiresMem.bytes != mapBytes(d.expiresMem.slots, expiresGroup) {
			t.Fatalf("db %d: map model bytes do not match its capacity", i)
		}
		if len(d.keys) > d.keysMem.limit() || len(d.expires) > d.expiresMem.limit() {
			t.Fatalf("db %d: %d keys, %d TTLs beyond the modelled capacities %d, %d", i, len(d.keys), len(d.expires), d.keysMem.slots, d.expiresMem.slots)
		}
		ttls := 0
		for k, v := range d.keys {
			n += keyCost(k, v)
			if v.expire != 0 {
				ttls++
				if _, ok := d.expires[k]; !ok {
					t.Fatalf("db %d: key %q has a TTL but is not in expires", i, k)
				}
			}
			if v.kind == KindList {
				l := v.list
				b := ringBytes(len(l.ring))
				for j := 0; j < l.nc; j++ {
					b += int64(len(l.at(j).b))
				}
				if b != l.bytes {
					t.Fatalf("db %d: list %q counts %d bytes, holds %d", i, k, l.bytes, b)
				}
				if l.n == 0 {
					t.Fatalf("db %d: empty list %q kept", i, k)
				}
			}
		}
		if ttls != len(d.expires) {
			t.Fatalf("db %d: %d keys with a TTL, expires holds %d", i, ttls, len(d.expires))
		}
	}
	return n
}

// memLog is a Log that keeps nothing.
type memLog struct{}

func (memLog) Append(int, [][]byte) uint64 { return 1 }
func (memLog) Wait(uint64) error           { return nil }
func (memLog) Sync(context.Context, uint64) error {
	return nil
}
func (memLog) Err() error { return nil }

// TestMemoryReturnsToStart drives every kind of value through every
// operation that writes, checking after each step that the counter equals
// a recount from the data, then deletes everything and checks UsedMemory
// is exactly where it started.
//
// It runs at list-compress-depth 0, 1 and 2: with compression every step
// that adds or removes chunks compresses or decompresses some, and the
// count must stay exact through those cycles.
func TestMemoryReturnsToStart(t *testing.T) {
	for _, depth := range []int{0, 1, 2} {
		t.Run(fmt.Sprintf("depth%d", depth), func(t *testing.T) { memoryReturnsToStart(t, depth) })
	}
}

func memoryReturnsToStart(t *testing.T, depth int) {
	now := time.UnixMilli(1_700_000_000_000)
	ks := New(Config{BaseMemory: 12345, Now: func() time.Time { return now }, Log: memLog{}, CompressDepth: depth})
	start := ks.UsedMemory()
	if start != 12345 {
		t.Fatalf("UsedMemory at start = %d, want the base 12345", start)
	}
	r := rand.New(rand.NewPCG(1, 2))
	item := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte('a' + r.IntN(26))
		}
		return b
	}
	items := func(k, n int) [][]byte {
		out := make([][]byte, k)
		for i := range out {
			out[i] = item(n)
		}
		return out
	}
	// orders are JSON payloads, which compress (random letters do not
	// pay for zstd's entropy coding at its fastest level).
	orders := func(k int) [][]byte {
		out := make([][]byte, k)
		for i := range out {
			out[i] = fmt.Appendf(nil, `{"order_id":%d,"email":"%s@example.com","qty":%d,"note":""}`, r.IntN(1e9), item(8), r.IntN(9))
		}
		return out
	}
	b := func(s string) []byte { return []byte(s) }
	later := now.UnixMilli() + 60_000

	steps := []struct {
		name string
		fn   func(tx *Tx)
	}{
		{"lpush", func(tx *Tx) { tx.Push(0, b("q"), items(5000, 200), true, false) }},
		{"rpush", func(tx *Tx) { tx.Push(0, b("q"), items(3000, 30), false, false) }},
		{"rpush big items", func(tx *Tx) { tx.Push(0, b("big"), items(3, 100_000), false, false) }},
		{"rpush 5-byte lengths", func(tx *Tx) { tx.Push(0, b("mid"), items(40, 5000), false, false) }},
		{"lpushx missing", func(tx *Tx) { tx.Push(0, b("none"), items(1, 10), true, true) }},
		{"rpushx", func(tx *Tx) { tx.Push(0, b("mid"), items(2, 10), false, true) }},
		{"small list", func(tx *Tx) { tx.Push(0, b("s"), items(3, 5), false, false) }},
		{"fifo cycles", func(tx *Tx) {
			for range 5 {
				tx.Push(0, b("fifo"), orders(2000), true, false)
				tx.Pop(0, b("fifo"), false, 1500, nil)
			}
		}},
		{"fifo read the middle", func(tx *Tx) {
			tx.Index(0, b("fifo"), 1200)
			tx.Range(0, b("fifo"), 100, 3000, nil)
			tx.Pos(0, b("fifo"), b("none"), 1, 0, 0, nil)
		}},
		{"fifo drain", func(tx *Tx) { tx.Pop(0, b("fifo"), false, 1<<20, nil) }},
		{"lpop", func(tx *Tx) { tx.Pop(0, b("q"), true, -1, nil) }},
		{"rpop count", func(tx *Tx) { tx.Pop(0, b("q"), false, 700, nil) }},
		{"lpop all of a key", func(tx *Tx) { tx.Pop(0, b("s"), true, 10, nil) }},
		{"lmpop", func(tx *Tx) { tx.MPop(0, [][]byte{b("x"), b("mid")}, true, 3, nil) }},
		{"lset", func(tx *Tx) { tx.LSet(0, b("q"), 4000, item(3000)) }},
		{"lset head", func(tx *Tx) { tx.LSet(0, b("q"), 0, item(1)) }},
		{"linsert", func(tx *Tx) {
			v, _, _ := tx.Index(0, b("q"), 2500)
			tx.Insert(0, b("q"), true, bytes.Clone(v), item(500))
		}},
		{"lrem", func(tx *Tx) {
			v, _, _ := tx.Index(0, b("q"), 10)
			tx.Rem(0, b("q"), 0, bytes.Clone(v))
			tx.Push(0, b("dup"), [][]byte{b("a"), b("b"), b("a"), b("a")}, false, false)
			tx.Rem(0, b("dup"), -2, b("a"))
		}},
		{"lrem all", func(tx *Tx) { tx.Rem(0, b("dup"), 0, b("a")); tx.Rem(0, b("dup"), 0, b("b")) }},
		{"ltrim", func(tx *Tx) { tx.Trim(0, b("q"), 100, -100) }},
		{"ltrim nothing", func(tx *Tx) { tx.Trim(0, b("q"), 0, -1) }},
		{"ltrim to empty", func(tx *Tx) {
			tx.Push(0, b("t"), items(10, 10), false, false)
			tx.Trim(0, b("t"), 5, 2)
		}},
		{"lmove new dst", func(tx *Tx) { tx.Move(0, b("q"), b("q2"), false, true) }},
		{"lmove same key", func(tx *Tx) { tx.Move(0, b("q2"), b("q2"), false, true) }},
		{"lmove last item", func(tx *Tx) {
			tx.Push(0, b("one"), items(1, 50), false, false)
			tx.Move(0, b("one"), b("q2"), true, false)
		}},
		{"set", func(tx *Tx) { tx.Set(0, b("s1"), item(100), SetOptions{}) }},
		{"set over string", func(tx *Tx) { tx.Set(0, b("s1"), item(3000), SetOptions{}) }},
		{"set with ttl", func(tx *Tx) { tx.Set(0, b("s2"), item(20), SetOptions{ExpireAt: later}) }},
		{"set keepttl", func(tx *Tx) { tx.Set(0, b("s2"), item(40), SetOptions{KeepTTL: true}) }},
		{"set drops ttl", func(tx *Tx) { tx.Set(0, b("s2"), item(40), SetOptions{}) }},
		{"set over list", func(tx *Tx) {
			tx.Push(0, b("l2s"), items(100, 100), false, false)
			tx.Set(0, b("l2s"), item(7), SetOptions{ExpireAt: later})
		}},
		{"set nx xx get", func(tx *Tx) {
			tx.Set(0, b("s1"), item(9), SetOptions{NX: true})
			tx.Set(0, b("nx"), item(9), SetOptions{XX: true})
			tx.Set(0, b("s1"), item(9), SetOptions{Get: true})
		}},
		{"empty string", func(tx *Tx) { tx.Set(0, b("empty"), []byte{}, SetOptions{}) }},
		{"incr", func(tx *Tx) {
			tx.IncrBy(0, b("n"), 1)
			tx.IncrBy(0, b("n"), 1<<40)
		}},
		{"mset msetnx", func(tx *Tx) {
			tx.MSet(0, [][]byte{b("m1"), item(10), b("m2"), item(300), b("s2"), item(1)}, false)
			tx.MSet(0, [][]byte{b("m3"), item(10)}, true)
		}},
		{"store list", func(tx *Tx) { tx.Store(0, b("st"), items(500, 80), nil, later) }},
		{"store string over list", func(tx *Tx) { tx.Store(0, b("st"), nil, item(50), 0) }},
		{"store list over string", func(tx *Tx) { tx.Store(0, b("st"), items(70, 8), nil, 0) }},
		{"store empty deletes", func(tx *Tx) { tx.Store(0, b("m3"), nil, nil, 0) }},
		{"expire persist", func(tx *Tx) {
			tx.Expire(0, b("q2"), later, ExpireAlways)
			tx.Expire(0, b("q2"), later+1, ExpireGT)
			tx.Persist(0, b("q2"))
			tx.Expire(0, b("st"), later, ExpireNX)
		}},
		{"expire in the past deletes", func(tx *Tx) {
			tx.Set(0, b("gone"), item(10), SetOptions{})
			tx.Expire(0, b("gone"), 1, ExpireAlways)
		}},
		{"rename", func(tx *Tx) { tx.Rename(0, b("st"), b("a-much-longer-key-name-for-st"), false) }},
		{"rename over existing", func(tx *Tx) { tx.Rename(0, b("m1"), b("m2"), false) }},
		{"rename nx refused", func(tx *Tx) { tx.Rename(0, b("m2"), b("q"), true) }},
		{"many keys", func(tx *Tx) {
			for i := range 20000 {
				k := []byte("k:" + strconv.Itoa(i))
				switch i % 3 {
				case 0:
					tx.Set(2, k, item(i%50), SetOptions{})
				case 1:
					tx.Push(2, k, items(1+i%4, 12), false, false)
				default:
					tx.Set(2, k, item(3), SetOptions{ExpireAt: later + int64(i)})
				}
			}
		}},
		{"delete most keys (maps shrink)", func(tx *Tx) {
			for i := range 19990 {
				tx.Del(2, [][]byte{[]byte("k:" + strconv.Itoa(i))})
			}
		}},
		{"swapdb", func(tx *Tx) { tx.SwapDB(0, 2) }},
		{"swapdb back", func(tx *Tx) { tx.SwapDB(2, 0) }},
		{"ttl keys in db 3", func(tx *Tx) {
			for i := range 50 {
				tx.Set(3, []byte("e:"+strconv.Itoa(i)), item(30), SetOptions{ExpireAt: later})
				tx.Push(3, []byte("el:"+strconv.Itoa(i)), items(3, 30), false, false)
				tx.Expire(3, []byte("el:"+strconv.Itoa(i)), later, ExpireAlways)
			}
		}},
		{"flushdb", func(tx *Tx) { tx.FlushDB(2) }},
	}
	for _, st := range steps {
		tx := ks.Begin()
		st.fn(tx)
		tx.End()
		if got, want := ks.UsedMemory()-start, recount(t, ks); got != want {
			t.Fatalf("after %s: UsedMemory counts %d bytes of data, a recount finds %d", st.name, got, want)
		}
		if st.name == "fifo cycles" {
			l, z := ks.db[0].keys["fifo"].list, 0
			for i := range l.nc {
				if l.at(i).compressed() {
					z++
				}
			}
			if (z > 0) != (depth > 0) || depth > 0 && z != l.nc-2*depth {
				t.Fatalf("depth %d: %d of %d chunks compressed", depth, z, l.nc)
			}
		}
	}

	// A blocked BLMOVE served by a push creates its destination.
	w := NewWaiter()
	w.Op = BlockOp{Dest: []byte("served"), Front: true}
	tx := ks.Begin()
	tx.Block(w, 0, [][]byte{b("bq")})
	tx.End()
	tx = ks.Begin()
	tx.Push(0, b("bq"), items(2, 64), false, false)
	tx.End()
	<-w.Ready()
	if got, want := ks.UsedMemory()-start, recount(t, ks); got != want {
		t.Fatalf("after a served BLMOVE: UsedMemory counts %d, a recount finds %d", got, want)
	}

	// Writes while a snapshot reads copy chunks but change no count.
	snap := ks.Snapshot(nil)
	tx = ks.Begin()
	tx.Push(0, b("q"), items(100, 200), false, false)
	tx.Push(0, b("q"), items(100, 200), true, false)
	tx.Pop(0, b("q"), true, 500, nil)
	tx.End()
	snap.Release()
	if got, want := ks.UsedMemory()-start, recount(t, ks); got != want {
		t.Fatalf("after writes during a snapshot: UsedMemory counts %d, a recount finds %d", got, want)
	}

	// Expiry: lazily on access, and by the active cycle.
	now = now.Add(2 * time.Minute)
	tx = ks.Begin()
	tx.Get(0, []byte("l2s"))
	tx.ExpireCycle(1000)
	tx.End()
	if got, want := ks.UsedMemory()-start, recount(t, ks); got != want {
		t.Fatalf("after expiry: UsedMemory counts %d, a recount finds %d", got, want)
	}
	if ks.UsedMemoryPeak() <= ks.UsedMemory() {
		t.Fatalf("peak %d not above the memory in use %d after deletions", ks.UsedMemoryPeak(), ks.UsedMemory())
	}

	// Delete everything that is left, by DEL in db 0, FLUSHALL for the rest.
	tx = ks.Begin()
	keys := tx.Keys(0, []byte("*"), nil)
	if len(keys) == 0 {
		t.Fatal("nothing left to delete in db 0: the steps above went wrong")
	}
	tx.Del(0, keys)
	tx.End()
	if d := ks.db[0]; len(d.keys) != 0 || d.keysMem.bytes != 0 || d.expiresMem.bytes != 0 {
		t.Fatalf("db 0 after DEL of every key: %d keys, maps account %d+%d bytes", len(d.keys), d.keysMem.bytes, d.expiresMem.bytes)
	}
	if got, want := ks.UsedMemory()-start, recount(t, ks); got != want {
		t.Fatalf("after DEL: UsedMemory counts %d, a recount finds %d", got, want)
	}
	tx = ks.Begin()
	tx.FlushAll()
	tx.End()
	if got := ks.UsedMemory(); got != start {
		t.Fatalf("UsedMemory after deleting everything = %d, want %d (start)", got, start)
	}
	ks.ResetStats()
	if ks.UsedMemoryPeak() != start {
		t.Fatalf("peak after RESETSTAT = %d, want %d", ks.UsedMemoryPeak(), start)
	}
}

func TestHeapSize(t *testing.T) {
	for _, tc := range []struct{ n, want int }{
		{0, 0}, {1, 8}, {8, 8}, {9, 16}, {33, 48}, {200, 208}, {16384, 16384}, {16385, 18432},
		{32768, 32768}, {32769, 40960}, {57344, 57344}, {100_000, 106496},
	} {
		if got := heapSize(tc.n); got != int64(tc.want) {
			t.Errorf("heapSize(%d) = %d, want %d", tc.n, got, tc.want)
		}
	}
	for _, n := range []int{1, 7, 100, 1000, 5000, 20000, 40000} {
		if got, want := heapSize(n), int64(cap(allocBuf(n))); got != want {
			t.Errorf("heapSize(%d) = %d, allocBuf gives %d", n, got, want)
		}
	}
}

// heapObjects returns the bytes of live heap objects after a full GC.
func heapObjects() int64 {
	runtime.GC()
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	return int64(s[0].Value.Uint64())
}

// TestMemoryMatchesRuntime compares what the keyspace accounts with what
// the Go runtime reports for the same data: within 10%, for queues of 10k
// to 1M items of 10 to 2000 bytes and for many small keys.
func TestMemoryMatchesRuntime(t *testing.T) {
	type build struct {
		name  string
		fill  func(tx *Tx)
		depth int // list-compress-depth
	}
	// pushN fills a queue of n items of size bytes; small queues are built
	// several times over, under different keys, so that the runtime's own
	// comings and goings (the test framework's, the GC's) stay below 1%
	// of what is measured.
	pushN := func(n, size int, front bool) func(tx *Tx) {
		return func(tx *Tx) {
			item := bytes.Repeat([]byte("x"), size)
			batch := make([][]byte, 100)
			for i := range batch {
				batch[i] = item
			}
			copies := max(1, 20_000_000/(n*size))
			for c := range copies {
				key := []byte("queue:" + strconv.Itoa(c))
				for i := 0; i < n; i += len(batch) {
					tx.Push(0, key, batch[:min(len(batch), n-i)], front, false)
				}
			}
		}
	}
	var cases []build
	for _, n := range []int{10_000, 100_000, 1_000_000} {
		for _, size := range []int{10, 200, 1000, 2000} {
			if testing.Short() && n*size > 50_000_000 {
				continue
			}
			if n*size > 500_000_000 {
				continue // 2 GB of test data is more than this machine should spend
			}
			cases = append(cases, build{name: fmt.Sprintf("list/%d×%dB", n, size), fill: pushN(n, size, size == 1000)})
		}
	}
	cases = append(cases,
		build{name: "keys/1M strings of 10B", fill: func(tx *Tx) {
			v := []byte("0123456789")
			n := 1_000_000
			if testing.Short() {
				n = 200_000
			}
			for i := range n {
				tx.Set(0, []byte("key:"+strconv.Itoa(i)), v, SetOptions{})
			}
		}},
		build{name: "keys/300k strings of 100B with TTL", fill: func(tx *Tx) {
			v := bytes.Repeat([]byte("v"), 100)
			for i := range 300_000 {
				tx.Set(0, []byte("session:"+strconv.Itoa(i)), v, SetOptions{ExpireAt: 1 << 50})
			}
		}},
		build{name: "keys/100k lists of 3 items", fill: func(tx *Tx) {
			v := [][]byte{[]byte("a"), []byte("bb"), []byte("ccc")}
			for i := range 100_000 {
				tx.Push(0, []byte("q:"+strconv.Itoa(i)), v, false, false)
			}
		}},
		build{name: "compressed/300k JSON orders at depth 1", fill: func(tx *Tx) {
			items := benchOrders(300_000)
			for i := 0; i < len(items); i += 100 {
				tx.Push(0, []byte("orders"), items[i:i+100], true, false)
			}
		}, depth: 1},
		build{name: "keys/1000 queues of 1000×200B", fill: func(tx *Tx) {
			item := bytes.Repeat([]byte("x"), 200)
			batch := [][]byte{item, item, item, item, item, item, item, item, item, item}
			for i := range 1000 {
				for range 100 {
					tx.Push(0, []byte("queue:"+strconv.Itoa(i)), batch, false, false)
				}
			}
		}},
	)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ks := New(Config{CompressDepth: tc.depth})
			if tc.depth > 0 {
				// The codec's own state is allocated on first use and is
				// runtime overhead, not data.
				warm := benchOrders(1000)
				zDec.DecodeAll(zEnc.EncodeAll(bytes.Join(warm, nil), nil), nil)
			}
			h0 := heapObjects()
			tx := ks.Begin()
			tc.fill(tx)
			tx.End()
			h1 := heapObjects()
			// Spare chunk buffers are overhead, bounded, and not data.
			used, real := ks.UsedMemory(), h1-h0-int64(ks.ep.spare.bytes+ks.ep.scratch.kept+cap(ks.ep.scratch.enc))
			ratio := float64(used) / float64(real)
			t.Logf("accounted %d, runtime %d: %.3f", used, real, ratio)
			if ratio < 0.9 || ratio > 1.1 {
				t.Errorf("accounted %d bytes, the runtime holds %d more: off by %.1f%%", used, real, (ratio-1)*100)
			}
			runtime.KeepAlive(ks)
		})
	}
}

// bufIDs returns the addresses of the chunk buffers of the list at key.
func bufIDs(ks *Keyspace, key string) map[*byte]bool {
	ids := map[*byte]bool{}
	l := ks.db[0].keys[key].list
	for i := 0; i < l.nc; i++ {
		ids[&l.at(i).b[0]] = true
	}
	return ids
}

func TestSpareChunks(t *testing.T) {
	ks := New(Config{})
	items := make([][]byte, 400)
	for i := range items {
		items[i] = bytes.Repeat([]byte{byte('a' + i%26)}, 200)
	}
	tx := ks.Begin()
	tx.Push(0, []byte("q"), items, false, false)
	tx.Push(0, []byte("q"), items, false, false)
	tx.End()
	old := bufIDs(ks, "q")

	// Emptied chunks are not reused inside the Tx that emptied them: what
	// the pop returned must stay valid until End.
	tx = ks.Begin()
	popped, _ := tx.Pop(0, []byte("q"), true, 800, nil)
	tx.Push(0, []byte("q2"), items, false, false)
	tx.Push(0, []byte("q2"), items, false, false)
	for id := range bufIDs(ks, "q2") {
		if old[id] {
			t.Fatal("a chunk emptied by a pop was reused in the same Tx")
		}
	}
	for i, p := range popped {
		if !bytes.Equal(p, items[i%len(items)]) {
			t.Fatalf("popped item %d changed before End", i)
		}
	}
	tx.End()
	if ks.ep.spare.bytes == 0 {
		t.Fatal("no spare buffers after popping whole chunks")
	}
	tx = ks.Begin()
	tx.Push(0, []byte("q3"), items, false, false)
	tx.Push(0, []byte("q3"), items, false, false)
	tx.End()
	reused := 0
	for id := range bufIDs(ks, "q3") {
		if old[id] {
			reused++
		}
	}
	if reused == 0 {
		t.Fatal("the next Tx allocated new chunks while spares were kept")
	}

	// Buffers a snapshot reads are never reused.
	snap := ks.Snapshot(nil)
	before := ks.ep.spare.bytes
	tx = ks.Begin()
	tx.Pop(0, []byte("q3"), true, 800, nil)
	tx.End()
	if ks.ep.spare.bytes != before {
		t.Fatal("chunks a snapshot reads were kept for reuse")
	}
	var n int
	snap.Each(func(db int, argv [][]byte) error {
		if string(argv[1]) == "q3" {
			for _, it := range argv[2:] {
				if !bytes.Equal(it, items[n%len(items)]) {
					t.Fatalf("snapshot item %d changed", n)
				}
				n++
			}
		}
		return nil
	})
	snap.Release()
	if n != 800 {
		t.Fatalf("snapshot holds %d items of q3, want 800", n)
	}

	// Steady churn at a queue allocates nothing once spares exist.
	batch := items[:80] // one 16 KiB chunk's worth
	key := []byte("churn")
	tx = ks.Begin()
	tx.Push(0, key, batch, false, false)
	tx.End()
	allocs := testing.AllocsPerRun(100, func() {
		tx := ks.Begin()
		tx.Push(0, key, batch, false, false)
		tx.End()
		tx = ks.Begin()
		tx.Pop(0, key, true, 80, popped[:0])
		tx.End()
	})
	if allocs > 1 {
		t.Errorf("push/pop churn allocates %.1f objects per round", allocs)
	}
	if ks.ep.spare.bytes > spareChunkMax {
		t.Errorf("spares hold %d bytes, more than %d", ks.ep.spare.bytes, spareChunkMax)
	}
}
