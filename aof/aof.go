package aof

import (
	"container/heap"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
)

// AOF is an open append-only file directory. Open it, call Load once to
// replay it, then Append from the keyspace and Wait before replying.
// All methods are safe for concurrent use.
type AOF struct {
	opts Options // immutable after Open
	dir  string  // the AOF directory, Dir/DirName
	log  *slog.Logger
	lock *os.File // flock on dir

	policy    atomic.Int32 // FsyncPolicy
	rwPercent atomic.Int64
	rwMinSize atomic.Int64
	preamble  atomic.Bool // write RDB bases (Options.RDBPreamble)

	// manMu guards man. Open and the rewrite goroutine change the
	// manifest (one rewrite at a time); Load and Info read it.
	manMu sync.Mutex
	man   manifest

	// mu guards the append side. Append runs under the keyspace lock, so
	// nothing done under mu may block on I/O.
	mu        sync.Mutex
	buf       []byte        // encoded records the owner has not taken yet
	seq       uint64        // last ticket handed out
	appended  atomic.Uint64 // seq, readable without mu
	db        int           // db of the last record; -1 forces a SELECT
	sw        *switchPoint  // a rewrite's cut not yet taken by the owner
	signalled bool          // a wake was sent since the owner's last take
	loading   bool          // Load has started
	loaded    bool          // Load succeeded: the owner runs
	closing   bool          // Close has started
	rwRun     *rewriteRun   // the rewrite running or last run; nil before the first

	// wake tells the owner "there is work". It is buffered 1 and sent to
	// without blocking: a send that finds it full is dropped, as the
	// owner will look at everything pending when it takes the one there.
	wake chan struct{}

	rwDoneGen atomic.Uint64 // writer gen of the incr file of the last rewrite that completed

	written atomic.Uint64 // last ticket handed to the kernel
	synced  atomic.Uint64 // last ticket covered by an fdatasync

	// wmu guards the waiter heaps, failErr and stopped.
	wmu      sync.Mutex
	waiters  *sync.Pool // of *waiter, for Wait
	wWaiters waiterHeap // Wait under everysec and no: wait for written
	sWaiters waiterHeap // Wait under always, and Sync: wait for synced
	failErr  error      // sticky write or fsync failure
	stopped  bool       // the owner has exited
	syncWant atomic.Uint64
	errv     atomic.Pointer[error] // failErr, for a lock-free Err

	w         writer // owned by the run goroutine
	syncJobs  chan syncJob
	syncDone  chan syncResult
	quit      chan struct{} // closed by Close: the owner flushes and exits
	done      chan struct{} // closed when the owner has exited
	rwStop    chan struct{} // closed by Close: abort a running rewrite
	wg        sync.WaitGroup
	closeOnce sync.Once
	closeErr  error

	stats stats
}

// stats are the counters behind Info, updated with atomics.
type stats struct {
	baseSize       atomic.Int64 // size of the base file
	incrOthers     atomic.Int64 // sizes of the incr files before the current one
	curOff         atomic.Int64 // size of the current incr file
	rwBaseSize     atomic.Int64 // AOF size after the last rewrite or at load (aof_base_size)
	backlog        atomic.Int64 // bytes the owner holds unwritten
	delayedFsync   atomic.Int64
	pendingFsync   atomic.Bool
	rewriting      atomic.Bool
	rewriteStart   atomic.Int64 // unix nanoseconds
	lastRewriteSec atomic.Int64
	lastRewriteErr atomic.Bool
	rewrites       atomic.Int64
	rwFailures     atomic.Int64 // consecutive
	lastPause      atomic.Int64 // nanoseconds spent inside the last cut
	nextAutoRW     atomic.Int64 // unix nanoseconds before which no automatic rewrite starts
}

// Open opens the AOF directory Dir/DirName, creating it with an empty base
// and incr file and a manifest if it does not exist, as redis-server does
// on first start. It removes history and temp files a crash left behind
// and locks the directory. Call Load next.
func Open(opts Options) (*AOF, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	opts = opts.withDefaults()
	a := &AOF{
		opts:     opts,
		dir:      filepath.Join(opts.Dir, opts.DirName),
		log:      opts.Logger,
		db:       -1,
		wake:     make(chan struct{}, 1),
		syncJobs: make(chan syncJob, 1),
		syncDone: make(chan syncResult, 1),
		quit:     make(chan struct{}),
		done:     make(chan struct{}),
		rwStop:   make(chan struct{}),
		waiters:  newWaiterPool(),
	}
	a.policy.Store(int32(opts.Fsync))
	a.rwPercent.Store(int64(opts.RewritePercentage))
	a.rwMinSize.Store(opts.RewriteMinSize)
	a.preamble.Store(opts.RDBPreamble)
	a.stats.lastRewriteSec.Store(-1)

	if err := os.MkdirAll(a.dir, 0o755); err != nil {
		return nil, fmt.Errorf("aof: create directory: %w", err)
	}
	lock, err := lockDir(a.dir)
	if err != nil {
		return nil, err
	}
	a.lock = lock
	if err := a.openManifest(); err != nil {
		lock.Close()
		return nil, err
	}
	return a, nil
}

// openManifest reads or creates the manifest and brings the directory to
// the state Load expects: one incr file at least, no history.
func (a *AOF) openManifest() error {
	var m manifest
	dirty := false
	data, err := os.ReadFile(a.manifestPath())
	switch {
	case err == nil:
		if m, err = parseManifest(data); err != nil {
			return fmt.Errorf("aof: %s: %w", a.manifestPath(), err)
		}
	case errors.Is(err, fs.ErrNotExist):
		if err := a.upgradeOldStyle(&m); err != nil {
			return err
		}
		dirty = true
	default:
		return fmt.Errorf("aof: read manifest: %w", err)
	}
	prefix := a.opts.FileName
	if m.base == nil && len(m.incr) == 0 {
		// Redis forces an (empty) base file when it starts with no data
		// (aofOpenIfNeededOnServerStart); do the same so the layouts match.
		name := baseName(prefix, m.baseSeq+1, a.rdbBase())
		if err := writeFileSync(a.opts.OpenFile, filepath.Join(a.dir, name), nil); err != nil {
			return fmt.Errorf("aof: create base file: %w", err)
		}
		m.baseSeq++
		m.base = &aofInfo{name: name, seq: m.baseSeq, typ: typeBase}
		dirty = true
	}
	// History files are rewritten data whose deletion a crash interrupted.
	for _, h := range m.history {
		if err := os.Remove(filepath.Join(a.dir, h.name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("aof: remove history file: %w", err)
		}
		a.log.Info("aof: removed history file", "file", h.name)
		dirty = true
	}
	m.history = nil
	if len(m.incr) == 0 {
		m.incrSeq++
		name := incrName(prefix, m.incrSeq)
		if err := writeFileSync(a.opts.OpenFile, filepath.Join(a.dir, name), nil); err != nil {
			return fmt.Errorf("aof: create incr file: %w", err)
		}
		m.incr = append(m.incr, aofInfo{name: name, seq: m.incrSeq, typ: typeIncr})
		dirty = true
	}
	if dirty {
		if err := persistManifest(&a.opts, a.dir, &m); err != nil {
			return err
		}
	}
	// A temp base or manifest is a rewrite or a manifest swap that a crash
	// interrupted; nothing refers to it.
	temps, _ := filepath.Glob(filepath.Join(a.dir, "temp-*"))
	for _, t := range temps {
		os.Remove(t)
	}
	for _, ai := range a.files(&m) {
		if _, err := os.Stat(filepath.Join(a.dir, ai.name)); err != nil {
			return fmt.Errorf("aof: %s is listed in the manifest but cannot be read: %w", ai.name, err)
		}
	}
	a.man = m
	return nil
}

// upgradeOldStyle adopts a Redis 6 single-file AOF (Dir/FileName) as the
// base, as Redis 7's aofUpgradePrepare: manifest first, then the move, so
// a crash in between is retried at the next start.
func (a *AOF) upgradeOldStyle(m *manifest) error {
	old := filepath.Join(a.opts.Dir, a.opts.FileName)
	if _, err := os.Stat(old); err != nil {
		return nil
	}
	m.baseSeq = 1
	m.base = &aofInfo{name: a.opts.FileName, seq: 1, typ: typeBase}
	if err := persistManifest(&a.opts, a.dir, m); err != nil {
		return err
	}
	if err := os.Rename(old, filepath.Join(a.dir, a.opts.FileName)); err != nil {
		return fmt.Errorf("aof: move old-style AOF into %s: %w", a.dir, err)
	}
	if err := syncDir(a.opts.Dir); err != nil {
		return err
	}
	a.log.Info("aof: migrated an old-style AOF file into the AOF directory", "file", old, "dir", a.dir)
	return nil
}

// files lists the files Load replays, in order.
func (a *AOF) files(m *manifest) []aofInfo {
	var fs []aofInfo
	if m.base != nil {
		fs = append(fs, *m.base)
	}
	return append(fs, m.incr...)
}

// Append adds one command for database db to the log and returns its
// ticket for Wait and Sync. Tickets increase by one per call. A SELECT is
// logged first when db differs from the previous record's (db < 0 never
// selects). Append copies argv and never blocks on I/O, so it may be
// called under the keyspace lock; log order is call order.
//
// Append panics if Load has not succeeded: records must follow the
// replayed tail, which Load may cut. After Close it returns a ticket that
// Wait reports as ErrClosed.
func (a *AOF) Append(db int, argv [][]byte) uint64 {
	a.mu.Lock()
	if !a.loaded {
		a.mu.Unlock()
		panic("aof: Append called before Load")
	}
	a.seq++
	t := a.seq
	a.appended.Store(t)
	if a.closing {
		a.mu.Unlock()
		return t
	}
	if db >= 0 && db != a.db {
		a.buf = appendSelect(a.buf, db)
		a.db = db
	}
	a.buf = appendCommand(a.buf, argv)
	// Only the first record after the owner's last take wakes it: the
	// others would only contend on the channel's lock to find it full.
	signal := !a.signalled
	a.signalled = true
	a.mu.Unlock()
	if signal {
		select {
		case a.wake <- struct{}{}:
		default:
		}
	}
	return t
}

// Wait blocks until the record with ticket t, and every record before it,
// is as durable as the fsync policy promises: written with write(2) under
// everysec and no, covered by fdatasync under always. A non-nil error
// (wrapping ErrFailed, or ErrClosed) means the record may not survive a
// crash and must not be acknowledged; while the log is failed, Wait
// returns at once. t must come from Append.
func (a *AOF) Wait(t uint64) error {
	mark, h := &a.written, &a.wWaiters
	if FsyncPolicy(a.policy.Load()) == FsyncAlways {
		mark, h = &a.synced, &a.sWaiters
	}
	if t <= mark.Load() {
		return nil
	}
	w := a.waiters.Get().(*waiter)
	a.wmu.Lock()
	if t <= mark.Load() {
		a.wmu.Unlock()
		a.waiters.Put(w)
		return nil
	}
	if err := a.failErr; err != nil {
		a.wmu.Unlock()
		a.waiters.Put(w)
		return err
	}
	if a.stopped {
		a.wmu.Unlock()
		a.waiters.Put(w)
		return ErrClosed
	}
	w.ticket, w.persistent, w.err = t, false, nil
	heap.Push(h, w)
	a.wmu.Unlock()
	<-w.ch
	err := w.err
	a.waiters.Put(w)
	return err
}

// Notify is Wait without a goroutine blocked on it. If the record with
// ticket t is already as durable as the policy promises, or cannot become
// so (the log failed or is closed), it returns done true and the error
// Wait would return, and fn is not called. Otherwise it returns done false
// and calls fn exactly once, with what Wait would return, as soon as Wait
// would: an event loop can go on serving other clients while an fdatasync
// under appendfsync always is in flight. fn runs on the log's goroutine:
// it must be quick and must not call into the log.
func (a *AOF) Notify(t uint64, fn func(error)) (done bool, err error) {
	mark, h := &a.written, &a.wWaiters
	if FsyncPolicy(a.policy.Load()) == FsyncAlways {
		mark, h = &a.synced, &a.sWaiters
	}
	if t <= mark.Load() {
		return true, nil
	}
	a.wmu.Lock()
	defer a.wmu.Unlock()
	switch {
	case t <= mark.Load():
		return true, nil
	case a.failErr != nil:
		return true, a.failErr
	case a.stopped:
		return true, ErrClosed
	}
	heap.Push(h, &waiter{ticket: t, fn: fn})
	return false, nil
}

// Sync blocks until an fdatasync covers the record with ticket t, whatever
// the policy, forcing one if needed; or until ctx is done. Unlike Wait it
// waits through write and fsync failures (the writer keeps retrying), so
// it returns nil once the record is durable, ctx.Err(), or ErrClosed.
func (a *AOF) Sync(ctx context.Context, t uint64) error {
	if t <= a.synced.Load() {
		return nil
	}
	w := &waiter{ticket: t, persistent: true, ch: make(chan struct{}, 1)}
	a.wmu.Lock()
	if t <= a.synced.Load() {
		a.wmu.Unlock()
		return nil
	}
	if a.stopped {
		a.wmu.Unlock()
		return ErrClosed
	}
	heap.Push(&a.sWaiters, w)
	a.wmu.Unlock()
	for {
		want := a.syncWant.Load()
		if t <= want || a.syncWant.CompareAndSwap(want, t) {
			break
		}
	}
	select {
	case a.wake <- struct{}{}:
	default:
	}
	select {
	case <-w.ch:
		return w.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Err returns the sticky write or fsync error (wrapping ErrFailed and the
// cause, such as syscall.ENOSPC), or nil. It clears once the writer's
// retries succeed. While it is set the keyspace should refuse commands
// that add data, as Redis's MISCONF.
func (a *AOF) Err() error {
	if p := a.errv.Load(); p != nil {
		return *p
	}
	return nil
}

// Close stops a running rewrite, writes and fdatasyncs everything
// appended, fsyncs the directory, stops the goroutines and unlocks the
// directory. It returns the first error met; later calls return the
// same.
func (a *AOF) Close() error {
	a.closeOnce.Do(func() {
		a.mu.Lock()
		a.closing = true
		loaded := a.loaded
		a.mu.Unlock()
		close(a.rwStop)
		a.wg.Wait()
		if loaded {
			close(a.quit)
			<-a.done
			a.closeErr = a.w.closeErr
		}
		a.wmu.Lock()
		a.stopped = true
		a.wmu.Unlock()
		if err := syncDir(a.dir); err != nil && a.closeErr == nil {
			a.closeErr = err
		}
		a.lock.Close()
	})
	return a.closeErr
}

// Policy returns the current fsync policy.
func (a *AOF) Policy() FsyncPolicy { return FsyncPolicy(a.policy.Load()) }

// WaitSyncs reports whether Wait waits for an fdatasync: the policy is
// FsyncAlways (queue.SyncReporter).
func (a *AOF) WaitSyncs() bool { return FsyncPolicy(a.policy.Load()) == FsyncAlways }

// SetPolicy changes the fsync policy at run time (CONFIG SET appendfsync).
// Waits already blocked keep the policy they started with.
func (a *AOF) SetPolicy(p FsyncPolicy) {
	a.policy.Store(int32(p))
	select {
	case a.wake <- struct{}{}:
	default:
	}
}

// SetRewritePercentage sets auto-aof-rewrite-percentage; 0 disables
// automatic rewrites.
func (a *AOF) SetRewritePercentage(p int) { a.rwPercent.Store(int64(max(p, 0))) }

// SetRewriteMinSize sets auto-aof-rewrite-min-size, in bytes.
func (a *AOF) SetRewriteMinSize(n int64) { a.rwMinSize.Store(max(n, 0)) }

// SetRDBPreamble follows CONFIG SET aof-use-rdb-preamble: the next
// rewrite writes an RDB base if on (and Options.WriteRDB is set).
func (a *AOF) SetRDBPreamble(on bool) { a.preamble.Store(on) }

// rdbBase reports whether the next base is written in RDB format.
func (a *AOF) rdbBase() bool { return a.preamble.Load() && a.opts.WriteRDB != nil }

// Dir returns the AOF directory (Options.Dir joined with DirName).
func (a *AOF) Dir() string { return a.dir }

// currentSize is aof_current_size: the base plus every incr file.
func (a *AOF) currentSize() int64 {
	return a.stats.baseSize.Load() + a.stats.incrOthers.Load() + a.stats.curOff.Load()
}
