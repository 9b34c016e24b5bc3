package aof

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"testing/synctest"
	"time"
)

// faults is the injected file layer: real files, with errors switched on
// and off by the test (bbolt's OpenFile, beanstalkd's falloc pointer).
type faults struct {
	mu        sync.Mutex
	match     string // only files whose name contains it; "" means all
	writeErr  error  // returned by Write...
	shortN    int    // ...after writing this many bytes for real
	syncErr   error
	truncErr  error
	allocErr  error
	syncBlock chan struct{} // Sync waits for it when set

	writes, syncs, truncates atomic.Int64
}

type faultFile struct {
	File
	name string
	f    *faults
}

func (fs *faults) open(name string, flag int, perm os.FileMode) (File, error) {
	f, err := openOSFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	return &faultFile{File: f, name: name, f: fs}, nil
}

func (fs *faults) set(fn func(*faults)) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	fn(fs)
}

func (ff *faultFile) active() bool {
	return ff.f.match == "" || strings.Contains(filepath.Base(ff.name), ff.f.match)
}

func (ff *faultFile) Write(p []byte) (int, error) {
	ff.f.mu.Lock()
	err, short := ff.f.writeErr, ff.f.shortN
	ff.f.mu.Unlock()
	ff.f.writes.Add(1)
	if err != nil && ff.active() {
		n := 0
		if short > 0 {
			n, _ = ff.File.Write(p[:min(short, len(p))])
		}
		return n, &os.PathError{Op: "write", Path: ff.name, Err: err}
	}
	return ff.File.Write(p)
}

func (ff *faultFile) Sync() error {
	ff.f.mu.Lock()
	err, block := ff.f.syncErr, ff.f.syncBlock
	ff.f.mu.Unlock()
	if block != nil && ff.active() {
		<-block
	}
	ff.f.syncs.Add(1)
	if err != nil && ff.active() {
		return &os.PathError{Op: "fdatasync", Path: ff.name, Err: err}
	}
	return ff.File.Sync()
}

func (ff *faultFile) Allocate(off, n int64) error {
	ff.f.mu.Lock()
	err := ff.f.allocErr
	ff.f.mu.Unlock()
	if err != nil && ff.active() {
		return &os.PathError{Op: "fallocate", Path: ff.name, Err: err}
	}
	return ff.File.Allocate(off, n)
}

// Pad fails as Allocate does, after writing half of the padding, as a
// disk that fills up in the middle of it would.
func (ff *faultFile) Pad(off, n int64) error {
	ff.f.mu.Lock()
	err := ff.f.allocErr
	ff.f.mu.Unlock()
	if err != nil && ff.active() {
		ff.File.(padder).Pad(off, n/2)
		return &os.PathError{Op: "write", Path: ff.name, Err: err}
	}
	return ff.File.(padder).Pad(off, n)
}

func (ff *faultFile) Truncate(size int64) error {
	ff.f.mu.Lock()
	err := ff.f.truncErr
	ff.f.mu.Unlock()
	ff.f.truncates.Add(1)
	if err != nil && ff.active() {
		return err
	}
	return ff.File.Truncate(size)
}

func faultOptions(t *testing.T, p FsyncPolicy) (Options, *faults) {
	fs := &faults{match: "incr"}
	opts := testOptions(t, t.TempDir())
	opts.Fsync = p
	opts.OpenFile = fs.open
	return opts, fs
}

func infoField(a *AOF, name string) string {
	for _, f := range a.Info() {
		if f.Name == name {
			return f.Value
		}
	}
	return "<missing>"
}

// TestDiskFull: ENOSPC on write makes the log fail (Err, Wait errors),
// keeps the records, and recovers once space is back; nothing is lost.
func TestDiskFull(t *testing.T) {
	for _, p := range []FsyncPolicy{FsyncAlways, FsyncEverySec, FsyncNo} {
		for _, short := range []int{0, 7} {
			t.Run(p.String()+sprint("/short", short), func(t *testing.T) {
				opts, fs := faultOptions(t, p)
				a, _ := mustOpen(t, opts)
				appendWait(t, a, 0, "LPUSH", "q", "a")
				incr := filepath.Join(a.Dir(), "appendonly.aof.1.incr.aof")
				sizeBefore := dataSize(t, incr)

				fs.set(func(f *faults) { f.writeErr, f.shortN = syscall.ENOSPC, short })
				tb := a.Append(0, args("LPUSH", "q", "b"))
				err := a.Wait(tb)
				if !errors.Is(err, ErrFailed) || !errors.Is(err, syscall.ENOSPC) ||
					!strings.Contains(err.Error(), "no space left on device") {
					t.Fatalf("Wait = %v, want ErrFailed wrapping ENOSPC", err)
				}
				if !errors.Is(a.Err(), syscall.ENOSPC) {
					t.Fatalf("Err = %v", a.Err())
				}
				if got := infoField(a, "aof_last_write_status"); got != "err" {
					t.Fatalf("aof_last_write_status = %s", got)
				}
				// The short write was cut back.
				if got := dataSize(t, incr); got != sizeBefore {
					t.Fatalf("file is %d bytes after a failed write, want %d", got, sizeBefore)
				}
				// While failed, Wait refuses at once.
				tc := a.Append(0, args("LPUSH", "q", "c"))
				if err := a.Wait(tc); !errors.Is(err, syscall.ENOSPC) {
					t.Fatalf("Wait while failed = %v", err)
				}

				fs.set(func(f *faults) { f.writeErr = nil })
				// Sync waits through the failure until the retry lands.
				ctx, cancel := context.WithTimeout(bg, 10*time.Second)
				defer cancel()
				if err := a.Sync(ctx, tc); err != nil {
					t.Fatalf("Sync after the disk has room again: %v", err)
				}
				if err := a.Err(); err != nil {
					t.Fatalf("Err after recovery = %v", err)
				}
				if err := a.Wait(tc); err != nil {
					t.Fatalf("Wait after recovery = %v", err)
				}
				appendWait(t, a, 0, "LPUSH", "q", "d")
				if err := a.Close(); err != nil {
					t.Fatal(err)
				}
				got, err := loadDir(t, testOptions(t, opts.Dir))
				if err != nil {
					t.Fatal(err)
				}
				equalStrings(t, "replay", got, []string{"SELECT 0", "LPUSH q a", "LPUSH q b", "LPUSH q c", "LPUSH q d"})
			})
		}
	}
}

// TestLowSpaceReserve: when not even the reserve can be preallocated, Err
// reports ENOSPC (the keyspace refuses data-adding commands) while records
// are still written and acknowledged; Err clears by itself once the
// allocation succeeds again.
func TestLowSpaceReserve(t *testing.T) {
	opts, fs := faultOptions(t, FsyncAlways)
	a, _ := mustOpen(t, opts)
	appendWait(t, a, 0, "LPUSH", "q", "a") // reserves preallocChunk ahead
	fs.set(func(f *faults) { f.allocErr = syscall.ENOSPC })
	// Use up the preallocated chunk, so the next write needs more.
	big := strings.Repeat("x", 1<<20)
	for range preallocChunk/(1<<20) - 1 {
		appendWait(t, a, 0, "SET", "big", big)
	}
	if !errors.Is(a.Err(), syscall.ENOSPC) || !errors.Is(a.Err(), ErrFailed) {
		t.Fatalf("Err = %v, want ErrFailed wrapping ENOSPC", a.Err())
	}
	appendWait(t, a, 0, "RPOP", "q") // still written and acknowledged
	fs.set(func(f *faults) { f.allocErr = nil })
	deadline := time.Now().Add(5 * time.Second)
	for a.Err() != nil {
		if time.Now().After(deadline) {
			t.Fatalf("Err = %v 5s after space came back", a.Err())
		}
		time.Sleep(10 * time.Millisecond) // the owner retries every lowSpaceRetry
	}
}

// TestShortWriteTruncateFails: when the short write cannot be cut back,
// its bytes stay and the rest is written on retry (Redis's sdsrange path).
func TestShortWriteTruncateFails(t *testing.T) {
	opts, fs := faultOptions(t, FsyncEverySec)
	a, _ := mustOpen(t, opts)
	appendWait(t, a, 0, "SET", "a", "1")
	fs.set(func(f *faults) { f.writeErr, f.shortN, f.truncErr = syscall.ENOSPC, 9, syscall.EIO })
	tb := a.Append(0, args("SET", "b", "2"))
	if err := a.Wait(tb); err == nil {
		t.Fatal("Wait succeeded on a failed write")
	}
	fs.set(func(f *faults) { f.writeErr, f.truncErr = nil, nil })
	if err := a.Sync(bg, tb); err != nil {
		t.Fatal(err)
	}
	a.Close()
	got, err := loadDir(t, testOptions(t, opts.Dir))
	if err != nil {
		t.Fatal(err)
	}
	equalStrings(t, "replay", got, []string{"SELECT 0", "SET a 1", "SET b 2"})
}

// TestFsyncFailure: EIO from fdatasync fails the Waits it covers and
// makes the log refuse (Err) until a rewrite from the dataset has
// replaced the untrusted incr file and the new one synced; a second
// fdatasync of the same file is not trusted. Under everysec the
// acknowledged-but-unsynced records survive through the rewrite.
func TestFsyncFailure(t *testing.T) {
	for _, p := range []FsyncPolicy{FsyncAlways, FsyncEverySec} {
		t.Run(p.String(), func(t *testing.T) {
			opts, fs := faultOptions(t, p)
			ks := &fakeKeyspace{m: newModel()}
			opts.Source = ks
			a, _ := mustOpen(t, opts)
			ks.log = a
			a.Wait(ks.do(0, "SET", "a", "1"))
			if err := a.Sync(bg, a.appended.Load()); err != nil {
				t.Fatal(err)
			}
			fs.set(func(f *faults) { f.syncErr = syscall.EIO })
			tb := ks.do(0, "SET", "b", "2")
			ctx, cancel := context.WithTimeout(bg, 50*time.Millisecond)
			defer cancel()
			if err := a.Sync(ctx, tb); !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("Sync while fdatasync fails = %v", err)
			}
			if !errors.Is(a.Err(), syscall.EIO) || !errors.Is(a.Err(), ErrFailed) {
				t.Fatalf("Err = %v, want ErrFailed wrapping EIO", a.Err())
			}
			if err := a.Wait(ks.do(0, "SET", "c", "3")); !errors.Is(err, syscall.EIO) {
				t.Fatalf("Wait while failed = %v", err)
			}
			fs.set(func(f *faults) { f.syncErr = nil })
			ctx, cancel = context.WithTimeout(bg, 10*time.Second)
			defer cancel()
			if err := a.Sync(ctx, a.appended.Load()); err != nil {
				t.Fatalf("Sync after the disk recovered: %v", err)
			}
			if a.Err() != nil {
				t.Fatalf("Err after recovery = %v", a.Err())
			}
			if got := infoField(a, "aof_rewrites"); got == "0" {
				t.Fatal("recovered without rewriting the untrusted incr file")
			}
			// It may still be listed as history (type h) until removed.
			if got := readManifest(t, a.Dir()); strings.Contains(got, "appendonly.aof.1.incr.aof seq 1 type i") {
				t.Fatalf("the incr file whose fdatasync failed is still listed:\n%s", got)
			}
			a.Wait(ks.do(0, "SET", "d", "4"))
			a.Close()
			if got, want := replayModel(t, testOptions(t, opts.Dir)).String(), ks.m.String(); got != want {
				t.Fatalf("reloaded state differs\n got: %s\nwant: %s", got, want)
			}
		})
	}
}

// TestFsyncFailureNoSource: without a rewrite source the log can only
// retry the fdatasync; it still refuses until one succeeds.
func TestFsyncFailureNoSource(t *testing.T) {
	opts, fs := faultOptions(t, FsyncAlways)
	a, _ := mustOpen(t, opts)
	appendWait(t, a, 0, "SET", "a", "1")
	fs.set(func(f *faults) { f.syncErr = syscall.EIO })
	tb := a.Append(0, args("SET", "b", "2"))
	if err := a.Wait(tb); !errors.Is(err, syscall.EIO) || !errors.Is(err, ErrFailed) {
		t.Fatalf("Wait = %v, want ErrFailed wrapping EIO", err)
	}
	fs.set(func(f *faults) { f.syncErr = nil })
	if err := a.Sync(bg, tb); err != nil {
		t.Fatal(err)
	}
	if a.Err() != nil {
		t.Fatalf("Err after recovery = %v", a.Err())
	}
	appendWait(t, a, 0, "SET", "c", "3")
	a.Close()
	got, err := loadDir(t, testOptions(t, opts.Dir))
	if err != nil {
		t.Fatal(err)
	}
	equalStrings(t, "replay", got, []string{"SELECT 0", "SET a 1", "SET b 2", "SET c 3"})
}

// TestGroupCommit: under always, concurrent writers share fdatasyncs.
func TestGroupCommit(t *testing.T) {
	opts, fs := faultOptions(t, FsyncAlways)
	a, _ := mustOpen(t, opts)
	const goroutines, each = 50, 20
	var wg sync.WaitGroup
	var mu sync.Mutex
	for range goroutines {
		wg.Go(func() {
			for range each {
				mu.Lock()
				tk := a.Append(0, args("LPUSH", "q", "x"))
				mu.Unlock()
				if err := a.Wait(tk); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	syncs, writes := fs.syncs.Load(), fs.writes.Load()
	t.Logf("%d appends, %d writes, %d fdatasyncs", goroutines*each, writes, syncs)
	if syncs > goroutines*each/2 {
		t.Fatalf("%d fdatasyncs for %d appends: no group commit", syncs, goroutines*each)
	}
}

// TestSyncGroupCommit: under everysec, concurrent Sync calls (WAITAOF,
// the consumer) share fdatasyncs, and each returns only once an
// fdatasync covers its ticket.
func TestSyncGroupCommit(t *testing.T) {
	opts, fs := faultOptions(t, FsyncEverySec)
	a, _ := mustOpen(t, opts)
	const goroutines, each = 50, 20
	var wg sync.WaitGroup
	var mu sync.Mutex
	for range goroutines {
		wg.Go(func() {
			for range each {
				mu.Lock()
				tk := a.Append(0, args("LPUSH", "q", "x"))
				mu.Unlock()
				if err := a.Sync(bg, tk); err != nil {
					t.Error(err)
				}
				if a.synced.Load() < tk {
					t.Errorf("Sync(%d) returned with synced = %d", tk, a.synced.Load())
				}
			}
		})
	}
	wg.Wait()
	syncs := fs.syncs.Load()
	t.Logf("%d Syncs, %d fdatasyncs", goroutines*each, syncs)
	if syncs > goroutines*each/2 {
		t.Fatalf("%d fdatasyncs for %d Syncs: not shared", syncs, goroutines*each)
	}
}

// TestEverysecPostpone: while a background fdatasync hangs, writes wait,
// and after two seconds they go ahead anyway (aof_delayed_fsync).
func TestEverysecPostpone(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		opts, fs := faultOptions(t, FsyncEverySec)
		opts.Logger = nil
		a, _ := mustOpen(t, opts)
		release := make(chan struct{})
		fs.set(func(f *faults) { f.syncBlock = release })
		appendWait(t, a, 0, "SET", "a", "1") // starts the (hanging) background fdatasync
		synctest.Wait()
		if got := infoField(a, "aof_pending_bio_fsync"); got != "1" {
			t.Fatalf("aof_pending_bio_fsync = %s", got)
		}
		start := time.Now()
		appendWait(t, a, 0, "SET", "b", "2")
		if waited := time.Since(start); waited < postponeLimit {
			t.Fatalf("write went ahead after %v, before the %v postponement", waited, postponeLimit)
		}
		if got := infoField(a, "aof_delayed_fsync"); got != "1" {
			t.Fatalf("aof_delayed_fsync = %s", got)
		}
		close(release)
		if err := a.Close(); err != nil {
			t.Fatal(err)
		}
	})
}

// TestEverysecSyncsWithinASecond: dirty data gets an fdatasync without
// anyone asking.
func TestEverysecSyncsWithinASecond(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		opts, fs := faultOptions(t, FsyncEverySec)
		a, _ := mustOpen(t, opts)
		tk := appendWait(t, a, 0, "SET", "a", "1")
		time.Sleep(1500 * time.Millisecond) // fake time inside the bubble
		synctest.Wait()
		if a.synced.Load() < tk || fs.syncs.Load() == 0 {
			t.Fatalf("not synced after 1.5s: synced=%d syncs=%d", a.synced.Load(), fs.syncs.Load())
		}
		tk = appendWait(t, a, 0, "SET", "b", "2")
		time.Sleep(1500 * time.Millisecond)
		synctest.Wait()
		if a.synced.Load() < tk {
			t.Fatal("second record not synced within 1.5s")
		}
		a.Close()
	})
}

func TestSyncUnderNo(t *testing.T) {
	opts, fs := faultOptions(t, FsyncNo)
	a, _ := mustOpen(t, opts)
	tk := appendWait(t, a, 0, "SET", "a", "1")
	before := fs.syncs.Load()
	if err := a.Sync(bg, tk); err != nil {
		t.Fatal(err)
	}
	if fs.syncs.Load() == before {
		t.Fatal("Sync did not fdatasync under appendfsync no")
	}
	ctx, cancel := context.WithCancel(bg)
	cancel()
	tk = a.Append(0, args("SET", "b", "2"))
	fs.set(func(f *faults) { f.syncErr = syscall.EIO })
	if err := a.Sync(ctx, tk); !errors.Is(err, context.Canceled) {
		t.Fatalf("Sync with a cancelled ctx = %v", err)
	}
	fs.set(func(f *faults) { f.syncErr = nil })
}

func TestSetPolicy(t *testing.T) {
	opts, fs := faultOptions(t, FsyncNo)
	a, _ := mustOpen(t, opts)
	appendWait(t, a, 0, "SET", "a", "1")
	a.SetPolicy(FsyncAlways)
	if a.Policy() != FsyncAlways {
		t.Fatal(a.Policy())
	}
	before := fs.syncs.Load()
	tk := appendWait(t, a, 0, "SET", "b", "2")
	if fs.syncs.Load() == before || a.synced.Load() < tk {
		t.Fatal("Wait under always returned before an fdatasync")
	}
}

func TestParseFsyncPolicy(t *testing.T) {
	for _, s := range []string{"always", "everysec", "no", "ALWAYS"} {
		p, err := ParseFsyncPolicy(s)
		if err != nil || p.String() != strings.ToLower(s) {
			t.Errorf("ParseFsyncPolicy(%q) = %v, %v", s, p, err)
		}
	}
	if _, err := ParseFsyncPolicy("sometimes"); err == nil {
		t.Error("ParseFsyncPolicy accepted sometimes")
	}
}
