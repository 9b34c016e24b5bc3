package queue

import (
	"testing"
	"time"
)

// TestWatchDirtiness pins which operations dirty a watched list key. The
// expectations are Redis 7.0's (server/compat_multi_test.go checks the same
// through EXEC against redis-server): a change dirties, a no-op does not,
// except LTRIM, which Redis signals even when it removes nothing.
func TestWatchDirtiness(t *testing.T) {
	k, other := b("k"), b("other")
	cases := []struct {
		name  string
		op    func(tx *Tx)
		dirty bool
	}{
		{"LPUSH", func(tx *Tx) { tx.Push(0, k, bs("x"), true, false) }, true},
		{"RPUSHX", func(tx *Tx) { tx.Push(0, k, bs("x"), false, true) }, true},
		{"LPUSHX missing", func(tx *Tx) { tx.Push(0, b("nosuch"), bs("x"), true, true) }, false},
		{"LPOP", func(tx *Tx) { tx.Pop(0, k, true, -1, nil) }, true},
		{"RPOP 2", func(tx *Tx) { tx.Pop(0, k, false, 2, nil) }, true},
		{"LPOP 0", func(tx *Tx) { tx.Pop(0, k, true, 0, nil) }, false},
		{"LPOP all", func(tx *Tx) { tx.Pop(0, k, true, 10, nil) }, true},
		{"LSET", func(tx *Tx) { tx.LSet(0, k, 0, b("x")) }, true},
		{"LSET out of range", func(tx *Tx) { tx.LSet(0, k, 9, b("x")) }, false},
		{"LINSERT", func(tx *Tx) { tx.Insert(0, k, true, b("b"), b("x")) }, true},
		{"LINSERT no pivot", func(tx *Tx) { tx.Insert(0, k, true, b("nope"), b("x")) }, false},
		{"LREM", func(tx *Tx) { tx.Rem(0, k, 0, b("a")) }, true},
		{"LREM none", func(tx *Tx) { tx.Rem(0, k, 0, b("nope")) }, false},
		{"LTRIM keep all", func(tx *Tx) { tx.Trim(0, k, 0, -1) }, true},
		{"LTRIM some", func(tx *Tx) { tx.Trim(0, k, 1, -1) }, true},
		{"LTRIM empty", func(tx *Tx) { tx.Trim(0, k, 5, 10) }, true},
		{"LMOVE k k", func(tx *Tx) { tx.Move(0, k, k, true, false) }, true},
		{"LMOVE k other", func(tx *Tx) { tx.Move(0, k, other, true, false) }, true},
		{"LMOVE missing k", func(tx *Tx) { tx.Move(0, b("nosuch"), k, true, true) }, false},
		{"LMPOP", func(tx *Tx) { tx.MPop(0, bs("nosuch", "k"), true, 9, nil) }, true},
		{"reads", func(tx *Tx) {
			tx.Range(0, k, 0, -1, nil)
			tx.Len(0, k)
			tx.Index(0, k, 0)
			tx.Pos(0, k, b("a"), 1, 0, 0, nil)
		}, false},
		{"DEL", func(tx *Tx) { tx.Del(0, bs("k")) }, true},
		{"DEL other", func(tx *Tx) { tx.Del(0, bs("nosuch")) }, false},
		{"SET", func(tx *Tx) { tx.Set(0, k, b("v"), SetOptions{}) }, true},
		{"other db", func(tx *Tx) { tx.Push(1, k, bs("x"), true, false) }, false},
		{"FLUSHDB", func(tx *Tx) { tx.FlushDB(0) }, true},
		{"FLUSHDB other", func(tx *Tx) { tx.FlushDB(1) }, false},
		{"SWAPDB", func(tx *Tx) { tx.SwapDB(0, 1) }, true},
		{"RENAME", func(tx *Tx) { tx.Rename(0, k, other, false) }, true},
		{"RENAME onto", func(tx *Tx) { tx.Rename(0, b("str"), k, false) }, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ks := New(Config{})
			tx := ks.Begin()
			tx.Push(0, k, bs("a", "b", "c"), false, false)
			tx.Set(0, b("str"), b("v"), SetOptions{})
			var w Watch
			tx.Watch(&w, 0, k)
			tx.End()
			tx = ks.Begin()
			tc.op(tx)
			tx.End()
			tx = ks.Begin()
			defer tx.End()
			if got := tx.Dirty(&w); got != tc.dirty {
				t.Fatalf("dirty %v, want %v", got, tc.dirty)
			}
			tx.Unwatch(&w)
			if ks.watching != 0 {
				t.Fatalf("watching %d after Unwatch", ks.watching)
			}
		})
	}
}

// TestWatchExpired follows Redis 7: a key that expires after WATCH makes
// EXEC fail; one already expired when watched does not, even once it is
// deleted, but it does if it is then created again.
func TestWatchExpired(t *testing.T) {
	now := time.UnixMilli(1_000_000)
	ks := New(Config{Now: func() time.Time { return now }})
	k := b("k")
	tx := ks.Begin()
	tx.Push(0, k, bs("a"), false, false)
	tx.Expire(0, k, now.UnixMilli()+100, ExpireAlways)
	var w Watch
	tx.Watch(&w, 0, k)
	tx.End()
	now = now.Add(200 * time.Millisecond)
	tx = ks.Begin()
	if !tx.Dirty(&w) {
		t.Fatal("a key that expired after WATCH must make the watch dirty")
	}
	tx.Unwatch(&w)
	// k is expired but not yet deleted: watch it now.
	tx.Watch(&w, 0, k)
	if tx.Dirty(&w) {
		t.Fatal("watched already expired: not dirty")
	}
	tx.Exists(0, bs("k")) // lazily deletes it
	if tx.Dirty(&w) {
		t.Fatal("deleting an already-expired watched key is no change")
	}
	tx.Push(0, k, bs("new"), false, false)
	if !tx.Dirty(&w) {
		t.Fatal("re-creating the key is a change")
	}
	tx.Unwatch(&w)
	tx.End()
}

func TestWatchFlushOfExpiredKey(t *testing.T) {
	now := time.UnixMilli(1_000_000)
	ks := New(Config{Now: func() time.Time { return now }})
	k := b("k")
	tx := ks.Begin()
	tx.Push(0, k, bs("a"), false, false)
	tx.Expire(0, k, now.UnixMilli()+100, ExpireAlways)
	tx.End()
	now = now.Add(time.Second)
	tx = ks.Begin()
	defer tx.End()
	var w Watch
	tx.Watch(&w, 0, k)
	tx.FlushAll()
	if tx.Dirty(&w) {
		t.Fatal("flushing an already-expired watched key is no change")
	}
}

// TestWatchSwapDBStaleKeys follows Redis 7's multi.tcl: SWAPDB does not
// dirty a watch on a stale (expired) key that goes away or is replaced by
// another stale key, nor a watch on a missing key replaced by a stale one;
// it does dirty one on a live key replaced by nothing.
func TestWatchSwapDBStaleKeys(t *testing.T) {
	cases := []struct {
		name      string
		db0, db1  string // "", "live", "stale"
		wantDirty bool
		existsAt0 bool // after the swap, whether x exists (logically) in db 0
	}{
		{"stale replaced by nothing", "stale", "", false, false},
		{"nothing replaced by stale", "", "stale", false, false},
		{"stale replaced by stale", "stale", "stale", false, false},
		{"stale replaced by live", "stale", "live", true, true},
		{"live replaced by nothing", "live", "", true, false},
		{"nothing replaced by live", "", "live", true, true},
		{"nothing replaced by nothing", "", "", false, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			now := time.UnixMilli(1_000_000)
			ks := New(Config{Now: func() time.Time { return now }})
			x := b("x")
			tx := ks.Begin()
			for dbi, state := range []string{tc.db0, tc.db1} {
				if state == "" {
					continue
				}
				tx.Push(dbi, x, bs("v"), false, false)
				if state == "stale" {
					tx.Expire(dbi, x, now.UnixMilli()+1, ExpireAlways)
				}
			}
			tx.End()
			now = now.Add(time.Second)
			tx = ks.Begin()
			defer tx.End()
			var w Watch
			tx.Watch(&w, 0, x)
			tx.SwapDB(0, 1)
			if got := tx.Dirty(&w); got != tc.wantDirty {
				t.Fatalf("dirty %v, want %v", got, tc.wantDirty)
			}
			if got := tx.Exists(0, bs("x")) == 1; got != tc.existsAt0 {
				t.Fatalf("x exists in db 0: %v", got)
			}
		})
	}
}
