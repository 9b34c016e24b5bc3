package aof

import (
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"time"
)

// Source gives the rewrite a consistent view of the dataset. The keyspace
// implements it.
type Source interface {
	// Snapshot calls cut while no write can be applied (the log switches to
	// a new incr file there) and returns the dataset as it was at that
	// instant. cut only touches memory; its duration is the rewrite's
	// pause, reported by LastRewritePause.
	Snapshot(cut func()) Dataset
}

// Dataset is a snapshot taken by Source.Snapshot.
type Dataset interface {
	// Each emits commands that rebuild the dataset (RPUSH key v1..v64, SET,
	// PEXPIREAT, ...), per db, and stops with emit's error if it returns
	// one. argv is only read during the call.
	Each(emit func(db int, argv [][]byte) error) error
	// Release frees the snapshot; the rewrite calls it once it is done.
	Release()
}

const (
	// baseSpan is the size of a checksummed span in a rewritten base.
	baseSpan = 1 << 20
	// baseSyncEvery: fdatasync the base every 4 MiB while writing it, as
	// Redis's aof-rewrite-incremental-fsync (REDIS_AUTOSYNC_BYTES), so the
	// kernel never holds a huge burst that would stall the incr file's
	// fdatasync.
	baseSyncEvery = 4 << 20
)

// Rewrite starts a background rewrite (BGREWRITEAOF): a new incr file is
// created and listed in the manifest, src.Snapshot cuts the log over to
// it, a goroutine writes the snapshot as the new base, and the manifest is
// swapped atomically to the new base and incr file; the old files are then
// removed. There is no fork and clients only wait for the cut. It returns
// ErrRewriteInProgress if one is running; the outcome shows in Info
// (aof_last_bgrewrite_status) and the log.
func (a *AOF) Rewrite(src Source) error {
	if src == nil {
		return errors.New("aof: Rewrite needs a Source")
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	switch {
	case a.closing:
		return ErrClosed
	case !a.loaded:
		return errors.New("aof: Rewrite called before Load")
	case !a.stats.rewriting.CompareAndSwap(false, true):
		return ErrRewriteInProgress
	}
	// wg.Add under mu: Close sets closing under mu before wg.Wait.
	a.wg.Add(1)
	run := &rewriteRun{done: make(chan struct{})}
	a.rwRun = run
	go func() {
		defer a.wg.Done()
		defer close(run.done)
		run.err = a.rewrite(src)
	}()
	return nil
}

// rewriteRun is one rewrite: done is closed when it has ended, with err.
type rewriteRun struct {
	done chan struct{}
	err  error
}

// WaitRewrite waits until the rewrite started last (by Rewrite or
// automatically) has ended, and returns its error; nil if none was
// started. Close aborts a running rewrite: wait here first to let it
// finish, as BGREWRITEAOF with appendonly off does.
func (a *AOF) WaitRewrite() error {
	a.mu.Lock()
	run := a.rwRun
	a.mu.Unlock()
	if run == nil {
		return nil
	}
	<-run.done
	return run.err
}

func (a *AOF) rewrite(src Source) error {
	start := time.Now()
	a.stats.rewriteStart.Store(start.UnixNano())
	a.stats.rewrites.Add(1)
	a.log.Info("aof: background append only file rewriting started")
	err := a.doRewrite(src)
	a.stats.lastRewriteSec.Store(int64(time.Since(start).Seconds()))
	if err != nil {
		a.stats.lastRewriteErr.Store(true)
		n := a.stats.rwFailures.Add(1)
		if n >= 3 {
			// Like Redis's aofRewriteLimited: back off automatic rewrites
			// after repeated failures, 1 minute doubling up to an hour.
			d := min(time.Minute<<min(n-3, 6), time.Hour)
			a.stats.nextAutoRW.Store(time.Now().Add(d).UnixNano())
		}
		a.log.Error("aof: background AOF rewrite failed", "err", err)
	} else {
		a.stats.lastRewriteErr.Store(false)
		a.stats.rwFailures.Store(0)
		a.stats.nextAutoRW.Store(0)
		a.log.Info("aof: background AOF rewrite finished successfully",
			"seconds", time.Since(start).Seconds(), "pause", time.Duration(a.stats.lastPause.Load()))
	}
	a.stats.rewriteStart.Store(0)
	a.stats.rewriting.Store(false)
	return err
}

func (a *AOF) doRewrite(src Source) error {
	// 1. A new incr file, listed in the manifest before anything is
	//    written to it (Redis's openNewIncrAofForAppend).
	a.manMu.Lock()
	m := a.man.clone()
	a.manMu.Unlock()
	m.incrSeq++
	name := incrName(a.opts.FileName, m.incrSeq)
	path := filepath.Join(a.dir, name)
	f, err := a.opts.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("aof: create %s: %w", name, err)
	}
	m.incr = append(m.incr, aofInfo{name: name, seq: m.incrSeq, typ: typeIncr})
	if err := persistManifest(&a.opts, a.dir, &m); err != nil {
		f.Close()
		os.Remove(path)
		return err
	}
	a.manMu.Lock()
	a.man = m
	a.manMu.Unlock()
	a.log.Info("aof: creating AOF incr file on background rewrite", "file", name)

	// 2. The cut: everything appended so far goes to the old incr files,
	//    the rest to the new one; the dataset is the state at this point.
	sw := &switchPoint{f: f, path: path, done: make(chan struct{})}
	var cutDone atomic.Bool
	ds := src.Snapshot(func() {
		t0 := time.Now()
		a.mu.Lock()
		sw.off, sw.seq = len(a.buf), a.seq
		a.sw = sw
		a.db = -1 // the new file starts with a SELECT
		a.mu.Unlock()
		select {
		case a.wake <- struct{}{}:
		default:
		}
		cutDone.Store(true)
		a.stats.lastPause.Store(int64(time.Since(t0)))
	})
	if ds != nil {
		defer ds.Release()
	}
	if !cutDone.Load() {
		// The manifest lists the new incr file; it stays empty, which
		// Redis and Load accept.
		f.Close()
		return errors.New("aof: Source.Snapshot returned without calling cut")
	}
	if ds == nil {
		return errors.New("aof: Source.Snapshot returned a nil Dataset")
	}

	// 3. The new base, written to a temp file. Whatever happens, return
	//    only once the owner has switched files: a later rewrite's cut
	//    must not find this one still pending.
	tmp := filepath.Join(a.dir, "temp-rewriteaof-bg-"+strconv.Itoa(os.Getpid())+".aof")
	useRDB := a.rdbBase()
	var size int64
	if useRDB {
		size, err = a.writeRDBBase(tmp, ds)
	} else {
		size, err = a.writeBase(tmp, ds)
	}
	select {
	case <-sw.done:
	case <-a.rwStop:
		err = ErrClosed
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}

	// 4. Swap: the old incr files are complete (the owner fdatasynced
	//    them at the switch), so they and the old base become history and
	//    are deleted (backgroundRewriteDoneHandler + aofDelHistoryFiles).
	a.manMu.Lock()
	m = a.man.clone()
	a.manMu.Unlock()
	m.baseSeq++
	bname := baseName(a.opts.FileName, m.baseSeq, useRDB)
	bpath := filepath.Join(a.dir, bname)
	if err := os.Rename(tmp, bpath); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("aof: rename the new base: %w", err)
	}
	var hist []aofInfo
	if m.base != nil {
		hist = append(hist, aofInfo{name: m.base.name, seq: m.base.seq, typ: typeHistory})
	}
	for _, ai := range m.incr[:len(m.incr)-1] {
		hist = append(hist, aofInfo{name: ai.name, seq: ai.seq, typ: typeHistory})
	}
	m.base = &aofInfo{name: bname, seq: m.baseSeq, typ: typeBase}
	m.history = hist
	m.incr = m.incr[len(m.incr)-1:]
	if err := persistManifest(&a.opts, a.dir, &m); err != nil {
		os.Remove(bpath)
		return err
	}
	a.manMu.Lock()
	a.man = m
	a.manMu.Unlock()
	// The files before sw are history now: an fdatasync failure in them
	// is repaired (see AOF.repair).
	a.rwDoneGen.Store(sw.gen)
	select {
	case a.wake <- struct{}{}:
	default:
	}
	a.stats.baseSize.Store(size)
	a.stats.incrOthers.Store(0)
	a.stats.rwBaseSize.Store(size + a.stats.curOff.Load())

	for _, h := range hist {
		if err := os.Remove(filepath.Join(a.dir, h.name)); err != nil && !errors.Is(err, os.ErrNotExist) {
			a.log.Warn("aof: could not remove a history file; it is retried at the next start", "file", h.name, "err", err)
			return nil
		}
		a.log.Info("aof: removed the history file", "file", h.name)
	}
	m.history = nil
	if err := persistManifest(&a.opts, a.dir, &m); err != nil {
		a.log.Warn("aof: could not drop history entries from the manifest; retried at the next start", "err", err)
		return nil
	}
	a.manMu.Lock()
	a.man = m
	a.manMu.Unlock()
	return nil
}

// writeBase writes ds to path as RESP commands with checksum annotations
// and makes it durable. It returns the file size.
func (a *AOF) writeBase(path string, ds Dataset) (int64, error) {
	f, err := a.opts.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return 0, fmt.Errorf("aof: create temp base: %w", err)
	}
	defer f.Close()
	var (
		buf      = make([]byte, 0, baseSpan+64<<10)
		size     int64
		unsynced int64
		db       = -1
	)
	flush := func() error {
		if len(buf) == 0 {
			return nil
		}
		buf = appendNote(buf, crc32.Checksum(buf, castagnoli))
		if _, err := f.Write(buf); err != nil {
			return fmt.Errorf("aof: write temp base: %w", err)
		}
		size += int64(len(buf))
		unsynced += int64(len(buf))
		buf = buf[:0]
		if unsynced >= baseSyncEvery {
			unsynced = 0
			if err := f.Sync(); err != nil {
				return fmt.Errorf("aof: fdatasync temp base: %w", err)
			}
		}
		return nil
	}
	err = ds.Each(func(d int, argv [][]byte) error {
		select {
		case <-a.rwStop:
			return ErrClosed
		default:
		}
		if len(argv) == 0 {
			return errors.New("aof: Dataset emitted an empty command")
		}
		if d != db && d >= 0 {
			buf = appendSelect(buf, d)
			db = d
		}
		buf = appendCommand(buf, argv)
		if len(buf) >= baseSpan {
			return flush()
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
	if err == nil {
		if err = f.Sync(); err != nil {
			err = fmt.Errorf("aof: fdatasync temp base: %w", err)
		}
	}
	if err != nil {
		return 0, err
	}
	return size, nil
}

// writeRDBBase writes ds to path in RDB format through Options.WriteRDB
// and makes it durable, with an fdatasync every baseSyncEvery bytes as
// writeBase. It returns the file size.
func (a *AOF) writeRDBBase(path string, ds Dataset) (int64, error) {
	f, err := a.opts.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return 0, fmt.Errorf("aof: create temp base: %w", err)
	}
	defer f.Close()
	sw := &syncWriter{f: f, stop: a.rwStop}
	if err := a.opts.WriteRDB(sw, ds); err != nil {
		if sw.err != nil {
			return 0, sw.err
		}
		return 0, fmt.Errorf("aof: write RDB base: %w", err)
	}
	if err := f.Sync(); err != nil {
		return 0, fmt.Errorf("aof: fdatasync temp base: %w", err)
	}
	return sw.size, nil
}

// syncWriter writes the RDB base, fdatasyncing every baseSyncEvery bytes
// and failing with ErrClosed once the AOF is closing.
type syncWriter struct {
	f        File
	stop     <-chan struct{}
	size     int64
	unsynced int64
	err      error
}

func (w *syncWriter) Write(p []byte) (int, error) {
	select {
	case <-w.stop:
		w.err = ErrClosed
		return 0, w.err
	default:
	}
	n, err := w.f.Write(p)
	w.size += int64(n)
	w.unsynced += int64(n)
	if err != nil {
		w.err = fmt.Errorf("aof: write temp base: %w", err)
		return n, w.err
	}
	if w.unsynced >= baseSyncEvery {
		w.unsynced = 0
		if err := w.f.Sync(); err != nil {
			w.err = fmt.Errorf("aof: fdatasync temp base: %w", err)
			return n, w.err
		}
	}
	return n, nil
}

// maybeAutoRewrite starts a rewrite when the AOF has grown past
// auto-aof-rewrite-min-size and by auto-aof-rewrite-percentage since the
// last one, as Redis's serverCron. It runs on the owner every tick.
func (a *AOF) maybeAutoRewrite(now time.Time) {
	src := a.opts.Source
	perc := a.rwPercent.Load()
	if src == nil || perc <= 0 || a.stats.rewriting.Load() || now.UnixNano() < a.stats.nextAutoRW.Load() {
		return
	}
	cur := a.currentSize()
	if cur <= a.rwMinSize.Load() {
		return
	}
	base := max(a.stats.rwBaseSize.Load(), 1)
	growth := cur*100/base - 100
	if growth < perc {
		return
	}
	a.log.Info("aof: starting automatic rewriting of AOF", "growth_percent", growth)
	if err := a.Rewrite(src); err != nil && !errors.Is(err, ErrRewriteInProgress) && !errors.Is(err, ErrClosed) {
		a.log.Warn("aof: automatic rewrite did not start", "err", err)
	}
}
