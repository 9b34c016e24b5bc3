package aof

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func TestOpenCreatesRedisLayout(t *testing.T) {
	dir := t.TempDir()
	mustOpen(t, testOptions(t, dir))
	ad := filepath.Join(dir, "appendonlydir")
	if got := readManifest(t, ad); got != simpleManifest {
		t.Fatalf("manifest = %q, want %q", got, simpleManifest)
	}
	for _, f := range []string{"appendonly.aof.1.base.aof", "appendonly.aof.1.incr.aof"} {
		if fileSize(t, filepath.Join(ad, f)) != 0 {
			t.Errorf("%s is not empty", f)
		}
	}
}

func TestAppendReload(t *testing.T) {
	for _, p := range []FsyncPolicy{FsyncAlways, FsyncEverySec, FsyncNo} {
		t.Run(p.String(), func(t *testing.T) {
			dir := t.TempDir()
			opts := testOptions(t, dir)
			opts.Fsync = p
			a, _ := mustOpen(t, opts)
			appendWait(t, a, 0, "LPUSH", "q", "a")
			appendWait(t, a, 0, "LPUSH", "q", "b")
			appendWait(t, a, 3, "SET", "k", "v")
			appendWait(t, a, 3, "PEXPIREAT", "k", "1700000000000")
			tk := a.Append(0, args("RPOP", "q"))
			if err := a.Sync(bg, tk); err != nil {
				t.Fatal(err)
			}
			if err := a.Close(); err != nil {
				t.Fatal(err)
			}
			got, err := loadDir(t, opts)
			if err != nil {
				t.Fatal(err)
			}
			equalStrings(t, "replay", got, []string{"SELECT 0", "LPUSH q a", "LPUSH q b", "SELECT 3", "SET k v",
				"PEXPIREAT k 1700000000000", "SELECT 0", "RPOP q"})

			// A second run appends to the same incr file and selects again.
			a2, _ := mustOpen(t, opts)
			appendWait(t, a2, 0, "LPUSH", "q", "c")
			a2.Close()
			got, err = loadDir(t, opts)
			if err != nil {
				t.Fatal(err)
			}
			if n := len(got); n != 10 || got[8] != "SELECT 0" || got[9] != "LPUSH q c" {
				t.Fatalf("after second run: %q", got)
			}
		})
	}
}

func TestAppendBeforeLoadPanics(t *testing.T) {
	a, err := Open(testOptions(t, t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	defer func() {
		if recover() == nil {
			t.Fatal("Append before Load did not panic")
		}
	}()
	a.Append(0, args("PING"))
}

func TestLoadTwice(t *testing.T) {
	a, _ := mustOpen(t, testOptions(t, t.TempDir()))
	if err := a.Load(func([][]byte) error { return nil }); !errors.Is(err, ErrLoaded) {
		t.Fatalf("second Load = %v, want ErrLoaded", err)
	}
}

func TestDirLocked(t *testing.T) {
	dir := t.TempDir()
	mustOpen(t, testOptions(t, dir))
	if _, err := Open(testOptions(t, dir)); !errors.Is(err, ErrLocked) {
		t.Fatalf("second Open = %v, want ErrLocked", err)
	}
}

func TestCloseIdempotentAndWaitAfterClose(t *testing.T) {
	a, _ := mustOpen(t, testOptions(t, t.TempDir()))
	tk := appendWait(t, a, 0, "SET", "a", "1")
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if err := a.Wait(tk); err != nil {
		t.Fatalf("Wait on a written ticket after Close = %v", err)
	}
	tk = a.Append(0, args("SET", "b", "2"))
	if err := a.Wait(tk); !errors.Is(err, ErrClosed) {
		t.Fatalf("Wait after Close = %v, want ErrClosed", err)
	}
	if err := a.Sync(bg, tk); !errors.Is(err, ErrClosed) {
		t.Fatalf("Sync after Close = %v, want ErrClosed", err)
	}
}

// TestConcurrentAppendWait: many goroutines append under one lock (the
// keyspace's) and wait; the file holds every record in lock order.
func TestConcurrentAppendWait(t *testing.T) {
	for _, p := range []FsyncPolicy{FsyncAlways, FsyncEverySec} {
		t.Run(p.String(), func(t *testing.T) {
			opts := testOptions(t, t.TempDir())
			opts.Fsync = p
			a, _ := mustOpen(t, opts)
			var (
				mu    sync.Mutex
				order []string
				wg    sync.WaitGroup
			)
			for g := range 20 {
				wg.Go(func() {
					for i := range 50 {
						v := sprint(g, "-", i)
						mu.Lock()
						tk := a.Append(g%3, args("LPUSH", "q", v))
						order = append(order, sprint("db", g%3, " LPUSH q ", v))
						mu.Unlock()
						if err := a.Wait(tk); err != nil {
							t.Error(err)
							return
						}
					}
				})
			}
			wg.Wait()
			a.Close()
			got, err := loadDir(t, opts)
			if err != nil {
				t.Fatal(err)
			}
			var replay []string
			db := "?"
			for _, c := range got {
				if strings.HasPrefix(c, "SELECT ") {
					db = strings.TrimPrefix(c, "SELECT ")
					continue
				}
				replay = append(replay, "db"+db+" "+c)
			}
			equalStrings(t, "replay", replay, order)
		})
	}
}

func TestOldStyleUpgrade(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "appendonly.aof"), []byte(resp([]string{"SET", "a", "1"})), 0o644); err != nil {
		t.Fatal(err)
	}
	_, got := mustOpen(t, testOptions(t, dir))
	equalStrings(t, "replay", got, []string{"SET a 1"})
	ad := filepath.Join(dir, "appendonlydir")
	want := "file appendonly.aof seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n"
	if m := readManifest(t, ad); m != want {
		t.Fatalf("manifest %q, want %q", m, want)
	}
}
