package aof

import (
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"runtime"
	"syscall"
	"time"
)

// The writer: one goroutine (run) owns the current incr file. Append only
// copies records into a.buf; run takes the whole buffer at once, appends a
// checksum annotation and hands it to the kernel in one write(2) (group
// commit: every record appended since the last take shares it), then wakes
// exactly the waiters that write covers. fdatasync runs on a second
// goroutine (syncLoop, Redis's bio thread), so under always the next batch
// is written while the previous one is being synced, and under everysec a
// slow disk does not stall writes until Redis's two-second rule says so.

const (
	// preallocChunk is how far ahead of the write offset disk blocks are
	// reserved (fallocate KEEP_SIZE), so appends rarely allocate extents.
	preallocChunk = 16 << 20
	// padChunk is how far ahead the writer pads under always: each pad
	// costs its bytes once more in an fdatasync, so in smaller steps.
	padChunk = 4 << 20
	// fgetsPiece is how much of an annotation line Redis reads at a time
	// (fgets into a buffer of AOF_ANNOTATION_LINE_MAX_LEN, 1024 bytes).
	fgetsPiece = 1023
	// spaceReserve is the disk space kept reserved beyond the data for
	// records that free space (pops, deletes): about 30,000 RPOPs. See
	// preallocate.
	spaceReserve  = 1 << 20
	lowSpaceRetry = 100 * time.Millisecond
	// freeBufLimit: larger batch buffers are dropped, not reused, so one
	// burst does not pin memory (Redis reuses aof_buf under 4000 bytes).
	freeBufLimit = 4 << 20
	// postponeLimit is Redis's rule for everysec: while a background
	// fdatasync runs, postpone writes up to two seconds, then write anyway.
	postponeLimit = 2 * time.Second
	tick          = 250 * time.Millisecond
	gatherMax     = 100 * time.Microsecond
	maxBackoff    = time.Second
)

// switchPoint is a rewrite's cut: records up to seq (the first off bytes
// of a.buf) go to the old incr file, the rest to f.
type switchPoint struct {
	off  int
	seq  uint64
	f    File
	path string
	done chan struct{} // closed once the owner writes to f
	gen  uint64        // the writer's gen for f, set by the owner before done
}

type syncJob struct {
	f   File
	gen uint64
	off int64
	seq uint64
}

type syncResult struct {
	syncJob
	err error
}

// writer is the state of the run goroutine; nothing else touches it
// (Close reads closeErr after the goroutine has exited).
type writer struct {
	f         File
	path      string
	gen       uint64 // incremented at every file switch
	off       int64  // size of f
	allocEnd  int64  // blocks reserved up to here
	padEnd    int64  // end of the padding written ahead of off (0: none); its last byte is '\n'
	noPad     bool   // padding failed for f: reserve with fallocate only
	allocStep int64  // how far ahead to reserve; halves on ENOSPC down to spaceReserve
	noAlloc   bool   // the filesystem cannot preallocate
	lowSpace  error  // not even spaceReserve could be reserved (see preallocate)
	lowRetry  time.Time
	syncedOff int64  // f is durable up to here
	crc       uint32 // CRC of f's bytes since its last annotation: nonzero only for a resumed file

	out     []byte // annotated bytes for f, not yet written
	outSeq  uint64 // last ticket in out
	next    []byte // records for the file after a pending switch
	nextSeq uint64
	nextSw  *switchPoint
	free    []byte // a written buffer, handed back to Append at the next take

	writtenSeq   uint64
	syncing      bool
	lastSync     time.Time
	syncStart    time.Time     // when the running fdatasync was handed over
	lastSyncDur  time.Duration // how long the last one took
	gatherTarget uint64        // see gather
	gatherUntil  time.Time
	postponed    time.Time // everysec: when the current write was first postponed

	writeErr   error
	syncErr    error
	needRepair bool   // an fdatasync failed: the incr files are untrusted until a rewrite replaces them
	failedGen  uint64 // gen of the file whose fdatasync failed
	backoff    time.Duration
	retryAt    time.Time
	waking     []*waiter

	closeErr error
}

func (a *AOF) syncLoop() {
	for job := range a.syncJobs {
		a.syncDone <- syncResult{job, job.f.Sync()}
	}
}

func (a *AOF) run() {
	defer close(a.done)
	ticker := time.NewTicker(tick)
	defer ticker.Stop()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		select {
		case <-a.wake:
			// Let the connection goroutines that are already runnable
			// append their records first, so one write(2) carries them
			// all, as Redis writes once per event-loop iteration
			// (beforeSleep). Without this the owner would write almost
			// once per command when many clients send one command each,
			// costing CPU per command (docs/durability.md, "Hand-off
			// cost").
			runtime.Gosched()
		case res := <-a.syncDone:
			a.syncFinished(res)
		case now := <-ticker.C:
			a.maybeAutoRewrite(now)
		case <-timer.C:
		case <-a.quit:
			a.shutdown()
			return
		}
		now := time.Now()
		a.step(now)
		// Arm the timer for a retry after a failure or the end of a
		// postponement; the ticker covers everything else.
		var at time.Time
		w := &a.w
		if w.writeErr != nil || w.syncErr != nil {
			at = w.retryAt
		} else if w.lowSpace != nil {
			at = w.lowRetry
		} else if !w.postponed.IsZero() {
			at = w.postponed.Add(postponeLimit)
		}
		if !at.IsZero() {
			timer.Reset(max(at.Sub(now), time.Millisecond))
		}
	}
}

// step does whatever is due: take new records, repair, write, switch
// files, start an fdatasync.
func (a *AOF) step(now time.Time) {
	w := &a.w
	if w.gatherTarget != 0 {
		a.gather()
	}
	a.take()
	if (w.writeErr != nil || w.syncErr != nil) && now.Before(w.retryAt) {
		return
	}
	if w.needRepair {
		a.repair()
	}
	if w.lowSpace != nil && !now.Before(w.lowRetry) {
		a.preallocate(w.off+int64(len(w.out)), now)
	}
	for {
		if len(w.out) > 0 {
			force := w.nextSw != nil || a.syncWant.Load() > w.writtenSeq
			if FsyncPolicy(a.policy.Load()) == FsyncEverySec && w.syncing && !force {
				if w.postponed.IsZero() {
					w.postponed = now
					return
				}
				if now.Sub(w.postponed) < postponeLimit {
					return
				}
				a.stats.delayedFsync.Add(1)
				a.log.Warn("aof: asynchronous AOF fsync is taking too long (disk is busy?); " +
					"writing the AOF buffer without waiting for fsync to complete, this may slow down the server")
			}
			w.postponed = time.Time{}
			if !a.writeOut(now) {
				return
			}
		}
		if w.nextSw == nil {
			break
		}
		if w.syncing {
			return // switch once the fdatasync of the old file is back
		}
		if !a.switchFile(now) {
			return
		}
	}
	a.maybeSync(now)
}

// take moves the records appended since the last call from a.buf into
// the writer, splitting them at a pending rewrite cut.
func (a *AOF) take() {
	w := &a.w
	a.mu.Lock()
	a.signalled = false
	if len(a.buf) == 0 && a.sw == nil {
		a.mu.Unlock()
		return
	}
	data, seq, sw := a.buf, a.seq, a.sw
	a.buf, a.sw = w.free[:0], nil
	w.free = nil
	a.mu.Unlock()

	switch {
	case w.nextSw != nil:
		w.next = append(w.next, data...)
		w.nextSeq = seq
		w.recycle(data)
	case sw != nil:
		w.next = append(w.next[:0], data[sw.off:]...)
		w.nextSeq, w.nextSw = seq, sw
		a.form(data[:sw.off], sw.seq)
	default:
		a.form(data, seq)
	}
	a.stats.backlog.Store(int64(len(w.out) + len(w.next)))
}

// form appends records (tickets up to seq) and their checksum annotation
// to w.out. It may keep data's array.
func (a *AOF) form(data []byte, seq uint64) {
	w := &a.w
	if len(data) == 0 {
		w.recycle(data)
		return
	}
	sum := crc32.Update(w.crc, castagnoli, data)
	w.crc = 0
	if len(w.out) == 0 {
		w.out = appendNote(data, sum)
	} else {
		w.out = appendNote(append(w.out, data...), sum)
		w.recycle(data)
	}
	w.outSeq = seq
}

func (w *writer) recycle(b []byte) {
	if w.free == nil && cap(b) <= freeBufLimit {
		w.free = b[:0]
	}
}

// writeOut hands w.out to the kernel. On failure it truncates a short
// write back to the last good offset, as Redis's flushAppendOnlyFile, and
// keeps the bytes for a retry.
func (a *AOF) writeOut(now time.Time) bool {
	w := &a.w
	if need := w.off + int64(len(w.out)); !w.noAlloc && w.lowSpace == nil && need+spaceReserve > w.allocEnd {
		a.preallocate(need, now)
	}
	if w.padEnd > 0 && padTrap(w.padEnd-1-(w.off+int64(len(w.out)))) {
		w.out = append(w.out, "#\r\n"...)
	}
	n, err := w.f.Write(w.out)
	if err == nil && n < len(w.out) {
		err = &os.PathError{Op: "write", Path: w.path, Err: io.ErrShortWrite}
	}
	if n > 0 && err != nil {
		if terr := w.f.Truncate(w.off); terr == nil {
			n = 0
			w.allocEnd, w.padEnd = min(w.allocEnd, w.off), 0
		} else {
			a.log.Warn("aof: could not remove a short write from the AOF; it is kept and completed on retry",
				"file", w.path, "err", terr)
		}
	}
	if n > 0 {
		w.off += int64(n)
		a.stats.curOff.Store(w.off)
	}
	if err != nil {
		w.out = append(w.out[:0], w.out[n:]...)
		if w.writeErr == nil {
			a.log.Error("aof: error writing to the AOF file", "file", w.path, "err", err)
		}
		w.writeErr = fmt.Errorf("%w: %w", ErrFailed, err) // err names the op and file
		a.failed(now)
		return false
	}
	w.writtenSeq = max(w.writtenSeq, w.outSeq)
	w.recycle(w.out)
	w.out = nil
	a.stats.backlog.Store(int64(len(w.next)))
	if w.writeErr != nil {
		w.writeErr = nil
		a.log.Warn("aof: AOF write error looks solved, writes are accepted again", "file", w.path)
		if w.lowSpace != nil {
			a.preallocate(w.off, now) // so Err clears with the write error if there is room
		}
		a.recovered()
	}
	a.written.Store(w.writtenSeq)
	a.notify(&a.wWaiters, w.writtenSeq)
	return true
}

// preallocate reserves disk blocks up to need plus a step ahead
// (fallocate KEEP_SIZE: the file size, which Redis reads, stays true).
//
// It is also how a full disk is met before it breaks anything. The space
// reserved beyond what is written is kept at spaceReserve at least; when
// even that cannot be had, the log reports ENOSPC through Err (the
// keyspace refuses commands that add data: -MISCONF) but goes on writing
// into the reserve, so pops, deletes and the writes already accepted are
// still logged and acknowledged: a write does not fail because the disk
// is full until the reserve is used up. The owner retries
// the allocation every lowSpaceRetry until space is back.
func (a *AOF) preallocate(need int64, now time.Time) {
	w := &a.w
	if w.allocStep == 0 {
		w.allocStep = preallocChunk
	}
	var err error
	for {
		var end int64
		if end, err = a.reserve(need, need+w.allocStep); err == nil {
			w.allocEnd = max(w.allocEnd, end)
			if w.lowSpace != nil {
				w.lowSpace = nil
				a.log.Warn("aof: there is disk space again; writes are accepted", "file", w.path)
				a.publish()
			}
			return
		}
		if !errors.Is(err, syscall.ENOSPC) && !errors.Is(err, syscall.EDQUOT) {
			// A filesystem without fallocate does without; the disk then
			// fails on write instead, pops included.
			w.noAlloc = true
			a.log.Debug("aof: preallocation disabled", "file", w.path, "err", err)
			return
		}
		if w.allocStep <= spaceReserve {
			break
		}
		w.allocStep = max(w.allocStep/2, spaceReserve)
	}
	if w.lowSpace == nil {
		a.log.Error("aof: not enough disk space to keep the AOF's reserve; refusing writes that add data",
			"file", w.path, "reserve_bytes", spaceReserve, "err", err)
	}
	w.lowSpace = fmt.Errorf("%w: %w", ErrFailed, err)
	w.lowRetry = now.Add(lowSpaceRetry)
	a.publish()
}

// reserve makes the disk blocks of [w.off, end) the file's, need being the
// end of the bytes about to be written. It returns the end it reserved up
// to.
//
// Under appendfsync always it pads: it writes '#' bytes ending in '\n'
// from need (up to padChunk ahead), so that appends overwrite blocks that
// are already written and inside the file size, and each fdatasync
// flushes data only: no extent conversion, no size change, no journal
// commit, which makes each fdatasync, and so each reply under always,
// faster than into fallocate KEEP_SIZE space (BenchmarkFdatasyncModes
// measures both; docs/durability.md has the figures). Everysec does not
// pad: it would write every byte twice for an fdatasync nobody waits for.
//
// The padding is one line that Redis and redis-check-aof skip as an
// annotation ("#..."), so a directory left by a crash still loads in
// redis-server, and it ends in '\n' so that what redis-server appends
// after it starts a line. Load and Check cut it (see padStart); a clean
// close or a file switch truncates it.
func (a *AOF) reserve(need, end int64) (int64, error) {
	w := &a.w
	if p, ok := w.f.(padder); ok && !w.noPad && FsyncPolicy(a.policy.Load()) == FsyncAlways {
		end = min(end, need+padChunk)
		start := need
		if w.padEnd > need {
			start = w.padEnd - 1 // over its '\n': one line, one newline
		}
		if start >= end {
			return end, nil
		}
		err := p.Pad(start, end-start)
		if err == nil {
			w.padEnd = end
			return end, nil
		}
		// A part may be written, without its newline: cut all padding
		// and reserve with fallocate from now on.
		w.noPad = true
		if terr := w.f.Truncate(w.off); terr != nil {
			return 0, terr
		}
		w.allocEnd, w.padEnd = w.off, 0
		a.log.Debug("aof: padding disabled for this file", "file", w.path, "err", err)
	}
	return end, w.f.Allocate(w.off, end-w.off)
}

// padTrap reports whether padding left with run bytes of '#' before its
// newline would break Redis: fgets reads it in 1023-byte pieces, and when
// run is a multiple of that the last piece is a lone "\n", which Redis
// rejects ("Bad file format"; redis-check-aof: not valid). Checked with
// redis-server 7.0. The writer then adds a 3-byte annotation line, "#\r\n".
func padTrap(run int64) bool { return run >= 0 && run%fgetsPiece == 0 }

// publish makes Err report the writer's current error: a failed write or
// fdatasync, else a lack of space, else none.
func (a *AOF) publish() {
	w := &a.w
	err := w.writeErr
	if err == nil {
		err = w.syncErr
	}
	if err == nil {
		err = w.lowSpace
	}
	if err == nil {
		a.errv.Store(nil)
	} else {
		a.errv.Store(&err)
	}
}

// maybeSync hands an fdatasync to syncLoop when the policy, a Sync call or
// the once-a-second rule asks for one and none is running.
func (a *AOF) maybeSync(now time.Time) {
	w := &a.w
	if w.syncing || w.off == w.syncedOff && w.syncErr == nil {
		return
	}
	p := FsyncPolicy(a.policy.Load())
	if !(p == FsyncAlways || a.syncWant.Load() > a.synced.Load() || w.syncErr != nil ||
		p == FsyncEverySec && now.Sub(w.lastSync) >= time.Second) {
		return
	}
	w.syncing = true
	w.lastSync = now
	w.syncStart = time.Now()
	a.stats.pendingFsync.Store(true)
	a.syncJobs <- syncJob{f: w.f, gen: w.gen, off: w.off, seq: w.writtenSeq}
}

func (a *AOF) syncFinished(res syncResult) {
	w := &a.w
	w.syncing = false
	w.lastSyncDur = time.Since(w.syncStart)
	a.stats.pendingFsync.Store(false)
	if res.gen != w.gen {
		return // cannot happen: a switch waits for the running fdatasync
	}
	if res.err != nil {
		a.syncFailed(res.err, time.Now())
		return
	}
	a.markSynced(res.off, res.seq)
}

// markSynced records that f is durable up to off, which holds tickets up
// to seq. While a repair is pending nothing counts as synced: the bytes
// before the failed fdatasync may be gone whatever a later one says.
func (a *AOF) markSynced(off int64, seq uint64) {
	w := &a.w
	w.syncedOff = off
	if w.needRepair {
		return
	}
	if w.syncErr != nil {
		w.syncErr = nil
		a.log.Warn("aof: AOF fsync error looks solved", "file", w.path)
		a.recovered()
	}
	if seq > a.synced.Load() {
		a.synced.Store(seq)
		if n := a.notify(&a.sWaiters, seq); n >= 2 && FsyncPolicy(a.policy.Load()) == FsyncAlways {
			// Give the n clients just released a moment to send their
			// next record, so it joins the next fdatasync instead of the
			// one after (see gather).
			w.gatherTarget = a.appended.Load() + uint64(n)
			w.gatherUntil = time.Now().Add(min(w.lastSyncDur/4, gatherMax))
		}
	}
}

// gather is group commit's batching delay (MySQL's
// binlog_group_commit_sync_delay, made adaptive). Under always, the
// clients released by one fdatasync come back with their next records a
// few microseconds later; starting the next fdatasync at once would catch
// only some of them and split the clients into two cohorts, each getting
// half the batch. So the owner yields until as many records as it
// released have arrived, or a quarter of the last fdatasync's duration has
// passed. Timers are too coarse for this (about 1 ms), hence the
// runtime.Gosched loop, bounded by gatherMax.
func (a *AOF) gather() {
	w := &a.w
	// The clock is read every 8 yields only: on a VM time.Now can cost
	// more than a Gosched (docs/durability.md).
	for i := 0; a.appended.Load() < w.gatherTarget; i++ {
		if i%8 == 0 && !time.Now().Before(w.gatherUntil) {
			break
		}
		runtime.Gosched()
	}
	w.gatherTarget = 0
}

// syncFailed handles an fdatasync error. After one, Linux may have dropped
// the dirty pages and marked them clean, so a retried fdatasync can
// succeed without the data being on disk ("fsyncgate", PostgreSQL 2018).
// The bytes written since the last good fdatasync cannot be trusted, so
// the log is repaired from the dataset instead: a rewrite (see repair).
//
// Why not keep the unsynced bytes and write them again? Under everysec
// that is up to a second of traffic (tens of MB at 150k ops/s) copied on
// every write for a failure that almost never happens; the keyspace
// already holds the same data, for free. Redis, for comparison, exits
// under always and retries the fdatasync under everysec.
func (a *AOF) syncFailed(err error, now time.Time) {
	w := &a.w
	if w.syncErr == nil {
		a.log.Error("aof: error syncing the AOF file", "file", w.path, "err", err)
	}
	w.syncErr = fmt.Errorf("%w: %w", ErrFailed, err) // err names the op and file
	if a.opts.Source != nil {
		if !w.needRepair {
			a.log.Warn("aof: the AOF will be rewritten from memory before writes are accepted again")
		}
		w.needRepair = true
		w.failedGen = w.gen
	} else {
		a.log.Error("aof: no rewrite source to repair the AOF from; records written since the last "+
			"successful fsync may be lost if the OS crashes", "file", w.path)
	}
	a.failed(now)
}

// repair runs on the owner while an fdatasync failure is pending. It
// starts a rewrite (with backoff, as every retry) unless one runs; once a
// rewrite whose cut came after the failure has swapped the manifest, the
// untrusted files are history, and the next fdatasync of the current file
// clears the error.
//
// Ensures: the error stays (MISCONF, no Wait or Sync succeeds for any
// record) until the dataset is on disk through a new, fsynced base plus
// an incr file whose fdatasync succeeded after the switch.
func (a *AOF) repair() {
	w := &a.w
	if a.rwDoneGen.Load() > w.failedGen {
		w.needRepair = false
		a.log.Warn("aof: the AOF was rewritten after the fsync error")
		return
	}
	if a.stats.rewriting.Load() {
		return // a running rewrite may be the repair; if not, retried after it
	}
	if err := a.Rewrite(a.opts.Source); err != nil && !errors.Is(err, ErrRewriteInProgress) {
		a.log.Warn("aof: could not start the repairing rewrite", "err", err)
	}
}

// switchFile moves writing to the incr file of a rewrite's cut: it makes
// the old file durable (the manifest already lists the new one after it,
// so the old one must be complete before anything lands in the new one),
// frees its preallocated blocks and closes it.
func (a *AOF) switchFile(now time.Time) bool {
	w := &a.w
	// Under a pending repair the old files are about to become history:
	// syncing them again proves nothing (see syncFailed).
	if !w.needRepair && (w.off > w.syncedOff || w.syncErr != nil) {
		if err := w.f.Sync(); err != nil {
			a.syncFailed(err, now)
			return false
		}
		a.markSynced(w.off, w.writtenSeq)
	}
	if w.allocEnd > w.off {
		if err := w.f.Truncate(w.off); err != nil {
			a.log.Warn("aof: could not free preallocated space", "file", w.path, "err", err)
		}
	}
	if err := w.f.Close(); err != nil {
		a.log.Warn("aof: close incr file", "file", w.path, "err", err)
	}
	a.stats.incrOthers.Add(w.off)
	sw := w.nextSw
	w.f, w.path = sw.f, sw.path
	w.gen++
	w.off, w.allocEnd, w.syncedOff, w.crc, w.noAlloc = 0, 0, 0, 0, false
	w.padEnd, w.noPad = 0, false
	w.allocStep = preallocChunk
	a.stats.curOff.Store(0)
	w.nextSw = nil
	sw.gen = w.gen
	next := w.next
	w.next = nil
	a.form(next, w.nextSeq)
	close(sw.done)
	return true
}

// failed publishes the writer's error, releases the Wait calls it affects
// and schedules a retry with exponential backoff.
func (a *AOF) failed(now time.Time) {
	w := &a.w
	w.backoff = min(max(2*w.backoff, 10*time.Millisecond), maxBackoff)
	w.retryAt = now.Add(w.backoff)
	err := w.writeErr
	if err == nil {
		err = w.syncErr
	}
	a.errv.Store(&err)
	a.wmu.Lock()
	a.failErr = err
	ws := a.wWaiters.popFailed(w.waking[:0])
	ws = a.sWaiters.popFailed(ws)
	a.wmu.Unlock()
	for _, wt := range ws {
		wt.err = err
		wt.wake()
	}
	w.waking = ws[:0]
}

// recovered clears the published error once neither a write nor an fsync
// is failing.
func (a *AOF) recovered() {
	w := &a.w
	if w.writeErr != nil || w.syncErr != nil {
		a.failed(time.Now())
		return
	}
	w.backoff = 0
	a.publish()
	a.wmu.Lock()
	a.failErr = nil
	a.wmu.Unlock()
}

// notify wakes the waiters in h whose ticket is covered by mark.
func (a *AOF) notify(h *waiterHeap, mark uint64) int {
	w := &a.w
	a.wmu.Lock()
	if len(*h) == 0 || (*h)[0].ticket > mark {
		a.wmu.Unlock()
		return 0
	}
	ws := h.popUpTo(mark, w.waking[:0])
	a.wmu.Unlock()
	// Only goroutines blocked in Wait count for gather: a Notify callback
	// (an event loop) sends its clients' replies, and gets their next
	// commands, on its own schedule, which a writer yielding in gather
	// would only delay.
	n := 0
	for _, wt := range ws {
		wt.err = nil
		if wt.fn == nil {
			n++
		}
		wt.wake()
	}
	clear(ws)
	w.waking = ws[:0]
	return n
}

// shutdown runs on the owner when Close is called: one last attempt to
// write and fdatasync everything, then release every waiter.
func (a *AOF) shutdown() {
	w := &a.w
	now := time.Now()
	if w.syncing {
		a.syncFinished(<-a.syncDone)
	}
	close(a.syncJobs)
	a.take()
	var err error
	for {
		if len(w.out) > 0 && !a.writeOut(now) {
			break
		}
		if w.nextSw == nil || !a.switchFile(now) {
			break
		}
	}
	if w.writeErr == nil && (w.off > w.syncedOff || w.syncErr != nil) {
		if serr := w.f.Sync(); serr != nil {
			a.syncFailed(serr, now)
		} else {
			a.markSynced(w.off, w.writtenSeq)
		}
	}
	if w.writeErr != nil {
		err = w.writeErr
	} else if w.syncErr != nil || w.needRepair {
		err = w.syncErr
	}
	if w.allocEnd > w.off {
		w.f.Truncate(w.off)
	}
	if cerr := w.f.Close(); cerr != nil && err == nil {
		err = fmt.Errorf("aof: close %s: %w", w.path, cerr)
	}
	if w.nextSw != nil {
		w.nextSw.f.Close()
	}
	w.closeErr = err

	a.wmu.Lock()
	a.stopped = true
	ws := a.wWaiters.popAll(nil)
	ws = a.sWaiters.popAll(ws)
	a.wmu.Unlock()
	for _, wt := range ws {
		if err != nil {
			wt.err = err
		} else {
			wt.err = ErrClosed
		}
		wt.wake()
	}
}
