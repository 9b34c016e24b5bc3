package queue

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"
)

// dumpLocked returns every list and string of the keyspace, as
// "db/key" -> items (strings as one item). The caller holds the lock.
func dumpLocked(ks *Keyspace) map[string][][]byte {
	out := map[string][][]byte{}
	for dbi, d := range ks.db {
		for k, v := range d.keys {
			name := fmt.Sprintf("%d/%s", dbi, k)
			switch v.kind {
			case KindList:
				var items [][]byte
				v.list.iter(0, false, func(x []byte) bool {
					items = append(items, bytes.Clone(x))
					return true
				})
				out[name] = items
			case KindString:
				out[name] = [][]byte{bytes.Clone(v.str)}
			}
		}
	}
	return out
}

// randomWrite applies one random list operation.
func randomWrite(tx *Tx, r *rand.Rand, keys [][]byte, orders bool) {
	k := keys[r.IntN(len(keys))]
	item := randItem(r, orders)
	switch r.IntN(12) {
	case 0, 1, 2:
		tx.Push(0, k, [][]byte{item, randItem(r, orders)}, r.IntN(2) == 0, false)
	case 3, 4:
		tx.Pop(0, k, r.IntN(2) == 0, int64(r.IntN(4))-1, nil)
	case 5:
		if n, _ := tx.Len(0, k); n > 0 {
			tx.LSet(0, k, r.Int64N(n), item)
		}
	case 6:
		if n, _ := tx.Len(0, k); n > 0 {
			pivot, _, _ := tx.Index(0, k, r.Int64N(n))
			tx.Insert(0, k, r.IntN(2) == 0, bytes.Clone(pivot), item)
		}
	case 7:
		if n, _ := tx.Len(0, k); n > 0 {
			v, _, _ := tx.Index(0, k, r.Int64N(n))
			tx.Rem(0, k, int64(r.IntN(5)-2), bytes.Clone(v))
		}
	case 8:
		tx.Trim(0, k, int64(r.IntN(3)), int64(-1-r.IntN(3)))
	case 9:
		tx.Move(0, k, keys[r.IntN(len(keys))], r.IntN(2) == 0, r.IntN(2) == 0)
	case 10:
		tx.Set(0, []byte("str"), item, SetOptions{})
	case 11:
		if r.IntN(10) == 0 {
			tx.Del(0, [][]byte{k})
		}
	}
}

// TestSnapshotWhileWriting takes snapshots while goroutines keep pushing,
// popping, setting, inserting, removing and trimming. Each snapshot must
// emit exactly the state at the instant it was taken (recorded in cut,
// which runs under the lock), no matter what the writers did since. Run
// with -race: a writer touching a buffer the snapshot reads is a race.
// It runs with compressed lists too, reading through Each and EachValue.
func TestSnapshotWhileWriting(t *testing.T) {
	for _, depth := range []int{0, 1} {
		t.Run(fmt.Sprintf("depth%d", depth), func(t *testing.T) { snapshotWhileWriting(t, depth) })
	}
}

func snapshotWhileWriting(t *testing.T, depth int) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	ks := New(Config{CompressDepth: depth})
	orders := depth > 0
	keys := bs("a", "b", "c", "d")
	// Start with lists of many chunks, so in-place writes hit shared
	// buffers.
	init := rand.New(rand.NewPCG(seed, 0))
	for i := 0; i < 3000; i++ {
		tx := ks.Begin()
		randomWrite(tx, init, keys, orders)
		tx.End()
	}
	if depth > 0 {
		z := 0
		for _, v := range ks.db[0].keys {
			for i := 0; v.kind == KindList && i < v.list.nc; i++ {
				if v.list.at(i).compressed() {
					z++
				}
			}
		}
		if z == 0 {
			t.Fatal("no compressed chunk to snapshot")
		}
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for g := 0; g < 3; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(seed, uint64(g+1)))
			for {
				select {
				case <-stop:
					return
				default:
				}
				tx := ks.Begin()
				randomWrite(tx, r, keys, orders)
				tx.End()
			}
		}()
	}
	for round := 0; round < 20; round++ {
		var want map[string][][]byte
		snap := ks.Snapshot(func() { want = dumpLocked(ks) })
		// Let the writers run over the snapshot for a while.
		time.Sleep(time.Millisecond)
		got := map[string][][]byte{}
		var err error
		if round%2 == 1 {
			err = snap.EachValue(func(dbi int, key []byte, v *SnapValue) error {
				name := fmt.Sprintf("%d/%s", dbi, key)
				if v.Kind == KindString {
					got[name] = [][]byte{bytes.Clone(v.Str)}
					return nil
				}
				for i := range v.Nodes() {
					v.Node(i, func(it []byte) { got[name] = append(got[name], bytes.Clone(it)) })
				}
				return nil
			})
		} else {
			err = snap.Each(func(dbi int, argv [][]byte) error {
				name := fmt.Sprintf("%d/%s", dbi, argv[1])
				switch string(argv[0]) {
				case "RPUSH":
					for _, it := range argv[2:] {
						got[name] = append(got[name], bytes.Clone(it))
					}
				case "SET":
					got[name] = [][]byte{bytes.Clone(argv[2])}
				default:
					t.Errorf("unexpected record %q", argv[0])
				}
				return nil
			})
		}
		snap.Release()
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(want) {
			t.Fatalf("round %d: snapshot emitted %d keys, had %d", round, len(got), len(want))
		}
		for k, items := range want {
			if !slices.EqualFunc(items, got[k], bytes.Equal) {
				t.Fatalf("round %d: key %s: snapshot emitted %d items, had %d (or different)", round, k, len(got[k]), len(items))
			}
		}
	}
	close(stop)
	wg.Wait()
}
