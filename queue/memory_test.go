package queue

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

// TestMemoryReturnsToBase runs every kind of write, then deletes
// everything in several ways; the accounted memory must come back to
// exactly where it started, or maxmemory would drift.
func TestMemoryReturnsToBase(t *testing.T) {
	now := time.UnixMilli(1_000_000)
	ks := New(Config{Now: func() time.Time { return now }})
	base := ks.UsedMemory()
	r := rand.New(rand.NewPCG(1, 2))
	keys := bs("a", "b", "c", "d", "e")
	for i := 0; i < 20000; i++ {
		tx := ks.Begin()
		randomWrite(tx, r, keys, false)
		if i%1000 == 0 {
			tx.Push(3, b(fmt.Sprint("db3-", i)), bs("x", "y"), false, false)
			tx.Set(1, b(fmt.Sprint("s", i)), []byte("value"), SetOptions{})
			tx.Expire(0, keys[r.IntN(len(keys))], now.UnixMilli()+int64(r.IntN(2000)), ExpireAlways)
			tx.Rename(0, keys[r.IntN(len(keys))], keys[r.IntN(len(keys))], false)
			tx.IncrBy(2, b("counter"), 5)
		}
		if i%5000 == 0 {
			tx.SwapDB(0, 4)
			tx.SwapDB(0, 4)
		}
		tx.End()
		now = now.Add(time.Millisecond)
	}
	if ks.UsedMemory() <= base {
		t.Fatalf("used %d after writes, base %d", ks.UsedMemory(), base)
	}
	// Drain some lists by popping, let some keys expire, delete the rest,
	// and flush the other databases.
	tx := ks.Begin()
	for _, k := range keys[:2] {
		for {
			items, _ := tx.Pop(0, k, true, 7, nil)
			if len(items) == 0 {
				break
			}
		}
	}
	tx.End()
	now = now.Add(time.Hour)
	tx = ks.Begin()
	tx.ExpireCycle(1 << 20)
	tx.Del(0, keys)
	tx.Del(0, bs("str"))
	tx.FlushDB(1)
	tx.FlushDB(2)
	tx.FlushAll()
	tx.End()
	if got := ks.UsedMemory(); got != base {
		t.Fatalf("used %d after deleting everything, base %d", got, base)
	}
}

// TestMemoryAfterListEdits checks that LSET, LINSERT, LREM, LTRIM and
// LMOVE account exactly: deleting the edited lists frees all they took.
func TestMemoryAfterListEdits(t *testing.T) {
	ks := New(Config{})
	base := ks.UsedMemory()
	tx := ks.Begin()
	k := b("k")
	for i := 0; i < 5000; i++ {
		tx.Push(0, k, bs(fmt.Sprintf("item-%d", i)), i%2 == 0, false)
	}
	tx.LSet(0, k, 2500, []byte("changed"))
	tx.Insert(0, k, true, b("changed"), b("inserted"))
	tx.Rem(0, k, 0, b("item-10"))
	tx.Trim(0, k, 100, -100)
	tx.Move(0, k, b("other"), true, false)
	tx.Del(0, bs("k", "other"))
	tx.End()
	if got := ks.UsedMemory(); got != base {
		t.Fatalf("used %d, base %d", got, base)
	}
}
