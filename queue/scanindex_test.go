package queue

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"strconv"
	"testing"
	"time"
)

// checkScanIndex checks d's index against its keys (present exactly when
// the thresholds say, holding exactly the keys, in order, blocks within
// their bounds) and returns the bytes it takes, recounted from its shape.
func checkScanIndex(t testing.TB, d *db) int64 {
	t.Helper()
	ix := d.scan
	if ix == nil {
		if len(d.keys) >= scanIndexOn {
			t.Fatalf("%d keys and no scan index", len(d.keys))
		}
		return 0
	}
	if len(d.keys) < scanIndexOff {
		t.Fatalf("%d keys and a scan index", len(d.keys))
	}
	var all []scanEntry
	for i, b := range ix.blocks {
		if cap(b) != scanBlock || len(b) == 0 || len(ix.blocks) > 1 && len(b) < scanBlock/4 {
			t.Fatalf("block %d of %d: %d entries, capacity %d", i, len(ix.blocks), len(b), cap(b))
		}
		all = append(all, b...)
	}
	if len(all) != ix.n || len(all) != len(d.keys) {
		t.Fatalf("scan index: %d entries, n %d, %d keys", len(all), ix.n, len(d.keys))
	}
	for i, e := range all {
		if i > 0 && all[i-1].compare(e) >= 0 {
			t.Fatalf("scan index out of order at %d", i)
		}
		if _, ok := d.keys[e.k]; !ok || e.h != scanHash(e.k) {
			t.Fatalf("scan index holds %q (hash ok: %v), not a key", e.k, e.h == scanHash(e.k))
		}
	}
	want := int64(len(ix.blocks))*scanBlockSize + ix.listBytes()
	if ix.bytes != want {
		t.Fatalf("scan index counts %d bytes, its blocks and list take %d", ix.bytes, want)
	}
	return ix.bytes
}

// TestScanIndexRandom inserts and removes keys at random, across the
// thresholds, checking the index after every step against the keys.
func TestScanIndexRandom(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewPCG(seed, 0))
	ks := New(Config{})
	tx := ks.Begin()
	defer tx.End()
	d := ks.db[0]
	v := []byte("v")
	live := map[string]bool{}
	var names []string
	for step := range 30000 {
		// Grow to ~3000 keys, shrink to ~100, grow again.
		grow := step < 10000 || step >= 20000
		k := "k" + strconv.Itoa(r.IntN(4000))
		if grow == (r.IntN(4) != 0) {
			if !live[k] {
				tx.Set(0, []byte(k), v, SetOptions{})
				live[k] = true
				names = append(names, k)
			}
		} else if len(names) > 0 {
			i := r.IntN(len(names))
			k = names[i]
			names[i] = names[len(names)-1]
			names = names[:len(names)-1]
			delete(live, k)
			tx.Del(0, [][]byte{[]byte(k)})
		}
		if step%97 == 0 || d.scan != nil && d.scan.n < scanBlock*2 {
			checkScanIndex(t, d)
		}
	}
	checkScanIndex(t, d)
}

// TestScanEveryKeyOnce: a full SCAN iteration returns every key exactly
// once in a database that does not change, with an index or without, for
// several COUNTs.
func TestScanEveryKeyOnce(t *testing.T) {
	for _, n := range []int{0, 1, 500, scanIndexOn, 5000} {
		for _, count := range []int{1, 10, 100, 1000} {
			t.Run(fmt.Sprintf("keys=%d/count=%d", n, count), func(t *testing.T) {
				ks := New(Config{})
				tx := ks.Begin()
				defer tx.End()
				for i := range n {
					tx.Set(0, []byte("key:"+strconv.Itoa(i)), []byte("v"), SetOptions{})
				}
				if (ks.db[0].scan != nil) != (n >= scanIndexOn) {
					t.Fatalf("%d keys, index %v", n, ks.db[0].scan != nil)
				}
				seen := map[string]int{}
				cursor, calls := uint64(0), 0
				for {
					var keys [][]byte
					keys, cursor = tx.Scan(0, cursor, nil, KindNone, count, nil)
					calls++
					if len(keys) > count {
						t.Fatalf("%d keys for COUNT %d", len(keys), count)
					}
					for _, k := range keys {
						seen[string(k)]++
					}
					if cursor == 0 {
						break
					}
				}
				if len(seen) != n {
					t.Fatalf("%d keys seen of %d", len(seen), n)
				}
				for k, c := range seen {
					if c != 1 {
						t.Fatalf("%q returned %d times", k, c)
					}
				}
				if want := n/count + 1; calls > want {
					t.Fatalf("%d calls for %d keys COUNT %d", calls, n, count)
				}
			})
		}
	}
}

// TestScanWhileChanging: keys present for the whole iteration are
// returned at least once while other keys come and go (crossing the index
// thresholds both ways), the database is swapped away and back, and a
// pattern and a type filter apply.
func TestScanWhileChanging(t *testing.T) {
	for _, base := range []int{100, 2000} {
		t.Run(fmt.Sprintf("stable=%d", base), func(t *testing.T) {
			ks := New(Config{})
			tx := ks.Begin()
			defer tx.End()
			for i := range base {
				tx.Push(0, []byte("stable:"+strconv.Itoa(i)), [][]byte{[]byte("x")}, false, false)
				tx.Set(0, []byte("str:"+strconv.Itoa(i)), []byte("x"), SetOptions{})
			}
			seen := map[string]bool{}
			cursor, step := uint64(0), 0
			indexed, unindexed := 0, 0 // calls made with and without an index
			for {
				var keys [][]byte
				keys, cursor = tx.Scan(0, cursor, []byte("stable:*"), KindList, 37, nil)
				for _, k := range keys {
					if !bytes.HasPrefix(k, []byte("stable:")) {
						t.Fatalf("SCAN MATCH stable:* TYPE list returned %q", k)
					}
					seen[string(k)] = true
				}
				// Churn: add 1200 keys, then remove them, then again,
				// so a small database gets an index and loses it.
				for j := range 400 {
					k := []byte("churn:" + strconv.Itoa(step*400+j))
					if (step/3)%2 == 0 {
						tx.Set(0, k, []byte("y"), SetOptions{})
					} else {
						tx.Del(0, [][]byte{[]byte("churn:" + strconv.Itoa((step-3)*400+j))})
					}
				}
				if ks.db[0].scan != nil {
					indexed++
				} else {
					unindexed++
				}
				if step%5 == 4 {
					tx.SwapDB(0, 1)
					tx.SwapDB(0, 1)
				}
				step++
				if cursor == 0 {
					break
				}
			}
			if base < scanIndexOff && (indexed == 0 || unindexed == 0) {
				t.Fatalf("the churn never crossed the index thresholds: %d calls with one, %d without", indexed, unindexed)
			}
			for i := range base {
				if k := "stable:" + strconv.Itoa(i); !seen[k] {
					t.Fatalf("%s, present throughout, not returned", k)
				}
			}
			checkScanIndex(t, ks.db[0])
			checkScanIndex(t, ks.db[1])
		})
	}
}

// TestScanIndexFollowsMoves: MOVE, RENAME, SWAPDB and FLUSHDB keep every
// database's index in step with its keys.
func TestScanIndexFollowsMoves(t *testing.T) {
	ks := New(Config{})
	tx := ks.Begin()
	defer tx.End()
	for i := range 3000 {
		tx.Set(0, []byte("k"+strconv.Itoa(i)), []byte("v"), SetOptions{})
	}
	for i := range 2700 {
		if _, err := tx.MoveKey(0, []byte("k"+strconv.Itoa(i)), 1); err != nil {
			t.Fatal(err)
		}
	}
	for i := 2700; i < 2800; i++ {
		tx.Rename(0, []byte("k"+strconv.Itoa(i)), []byte("renamed"+strconv.Itoa(i)), false)
	}
	tx.SwapDB(0, 1)
	for i := range 16 {
		checkScanIndex(t, ks.db[i])
	}
	if ks.db[0].scan == nil || ks.db[1].scan != nil {
		t.Fatalf("after MOVE of 2700 keys and SWAPDB: indexes %v %v", ks.db[0].scan != nil, ks.db[1].scan != nil)
	}
	if n := len(ks.db[1].keys); n != 300 {
		t.Fatalf("db 1 has %d keys, want 300", n)
	}
	tx.FlushDB(0)
	checkScanIndex(t, ks.db[0])
}

// BenchmarkScanFull measures one full SCAN iteration, COUNT 100, of a
// database of a million keys: Redis's SCAN is O(COUNT) a call, and so must
// this be (a walk of the whole map per call would take hours).
func BenchmarkScanFull(b *testing.B) {
	const n = 1_000_000
	ks := New(Config{})
	tx := ks.Begin()
	for i := range n {
		tx.Set(0, []byte("key:"+strconv.Itoa(i)), []byte("v"), SetOptions{})
	}
	tx.End()
	b.ReportAllocs()
	for b.Loop() {
		tx := ks.Begin()
		cursor, seen := uint64(0), 0
		for {
			var keys [][]byte
			keys, cursor = tx.Scan(0, cursor, nil, KindNone, 100, nil)
			seen += len(keys)
			if cursor == 0 {
				break
			}
		}
		tx.End()
		if seen != n {
			b.Fatalf("%d keys seen of %d", seen, n)
		}
	}
}

// BenchmarkPushPopKey is a push that creates a key and the pop that
// deletes it, in a database of few keys (no index) and of 100k keys,
// where the index pays an insert and a remove.
func BenchmarkPushPopKey(b *testing.B) {
	for _, n := range []int{10, 100_000} {
		b.Run(fmt.Sprintf("keys=%d", n), func(b *testing.B) {
			ks := New(Config{})
			tx := ks.Begin()
			for i := range n {
				tx.Set(0, []byte("key:"+strconv.Itoa(i)), []byte("v"), SetOptions{})
			}
			tx.End()
			key, item := []byte("queue:jobs"), [][]byte{[]byte(`{"id":12345}`)}
			b.ReportAllocs()
			for b.Loop() {
				tx := ks.Begin()
				tx.Push(0, key, item, true, false)
				tx.Pop(0, key, false, 1, nil)
				tx.End()
			}
		})
	}
}
