package aof

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"
)

// Load replays the base file and then the incr files in manifest order,
// calling apply for every command, SELECT included, as Redis's fake AOF
// client executes them. argv and its elements alias Load's read buffer:
// they are valid only during the call, so apply must copy what it keeps.
//
// The commands of a MULTI…EXEC block are buffered and passed only when
// its EXEC is read, MULTI and EXEC included, one call each; a block the
// file ends inside is a torn tail.
//
// A torn tail in the last incr file (a crash during write(2)) is cut back
// to the last whole command when Options.LoadTruncated is set, with a
// warning naming the file and offset; otherwise, and for any damage
// elsewhere, Load returns a *CorruptError. Zero bytes from a command
// boundary to the end of a file end its data and are trimmed. An error
// from apply stops Load and is returned wrapped with the file and offset.
//
// Load must be called once, before Append. On success the log is open for
// appending after the last replayed byte.
func (a *AOF) Load(apply func(argv [][]byte) error) error {
	a.mu.Lock()
	if a.loading || a.closing {
		a.mu.Unlock()
		if a.closing {
			return ErrClosed
		}
		return ErrLoaded
	}
	a.loading = true
	a.mu.Unlock()

	a.manMu.Lock()
	m := a.man.clone()
	a.manMu.Unlock()
	files := a.files(&m)

	ld := loader{a: a, apply: apply, started: time.Now(), lastLog: time.Now()}
	for _, fi := range files {
		st, err := os.Stat(filepath.Join(a.dir, fi.name))
		if err != nil {
			return fmt.Errorf("aof: %w", err)
		}
		ld.total += st.Size()
	}
	var sizes []int64
	var last fileResult
	for i, fi := range files {
		res, err := ld.loadFile(filepath.Join(a.dir, fi.name), fi.typ != typeBase, i == len(files)-1)
		if err != nil {
			return err
		}
		sizes = append(sizes, res.end)
		last = res
	}
	if a.opts.Progress != nil {
		a.opts.Progress(ld.done, ld.total)
	}
	a.log.Info("aof: loaded", "files", len(files), "bytes", ld.done, "commands", ld.commands,
		"seconds", time.Since(ld.started).Seconds())

	// Open the last incr file for appending after its last whole record.
	lastInfo := files[len(files)-1]
	path := filepath.Join(a.dir, lastInfo.name)
	f, err := a.opts.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("aof: open %s for appending: %w", lastInfo.name, err)
	}
	w := &a.w
	w.f, w.path = f, path
	w.off, w.syncedOff, w.crc = last.end, last.end, last.crc
	a.stats.curOff.Store(last.end)
	var others int64
	if m.base != nil {
		a.stats.baseSize.Store(sizes[0])
		a.stats.rwBaseSize.Store(sizes[0])
		sizes = sizes[1:]
	}
	for _, s := range sizes[:len(sizes)-1] {
		others += s
	}
	a.stats.incrOthers.Store(others)

	a.mu.Lock()
	if a.closing {
		a.mu.Unlock()
		f.Close()
		return ErrClosed
	}
	a.loaded = true
	a.mu.Unlock()
	go a.syncLoop()
	go a.run()
	return nil
}

// loader carries the state of one Load across files.
type loader struct {
	a        *AOF
	apply    func(argv [][]byte) error
	total    int64 // bytes in all files
	done     int64 // bytes of the files already replayed
	commands int64
	started  time.Time
	lastLog  time.Time
	reported int64

	// The commands of an open MULTI block, copied: argv of the scanner
	// is overwritten by the next command.
	multiData []byte
	multiOffs []int
	multiArgv [][]byte
}

// fileResult says where a replayed file's good data ends and the CRC of
// its bytes after the last annotation, so appends continue its span.
type fileResult struct {
	end int64
	crc uint32
}

var (
	cmdMulti = []byte("multi")
	cmdExec  = []byte("exec")
)

func isCmd(argv [][]byte, name []byte) bool {
	return len(argv[0]) == len(name) && bytes.EqualFold(argv[0], name)
}

// loadFile replays one file. incr says it is an incr file, which may end
// in the writer's padding; last that it is the last incr file, the only
// one whose torn tail may be cut.
func (ld *loader) loadFile(path string, incr, last bool) (fileResult, error) {
	a := ld.a
	name := filepath.Base(path)
	f, err := a.opts.OpenFile(path, os.O_RDONLY, 0)
	if err != nil {
		return fileResult{}, fmt.Errorf("aof: open %s: %w", name, err)
	}
	defer f.Close()
	size, err := f.Size()
	if err != nil {
		return fileResult{}, fmt.Errorf("aof: stat %s: %w", name, err)
	}
	// The padding the writer keeps ahead of its offset under always is
	// left at the end of the file by a crash: the data ends before it.
	end := size
	if incr {
		if end, err = padStart(f, size); err != nil {
			return fileResult{}, fmt.Errorf("aof: read %s: %w", name, err)
		}
	}
	sc := newScanner(io.LimitReader(f, end), end, a.opts.MaxBulkLen)

	if sc.fill(5) && string(sc.buf[sc.r:sc.r+5]) == "REDIS" {
		if a.opts.LoadRDB == nil {
			return fileResult{}, fmt.Errorf("%w (file %s)", ErrRDBBase, path)
		}
		if err := a.opts.LoadRDB(sc, ld.apply); err != nil {
			return fileResult{}, fmt.Errorf("aof: load RDB %s: %w", name, err)
		}
		// The RDB payload carries its own checksum; the span of ours
		// starts after it.
		sc.crc, sc.spanStart = 0, sc.pos()
	}

	var (
		valid    = sc.pos() // end of the last whole command outside MULTI
		validCRC uint32
		inMulti  bool
		reason   string // why the data ends early: a torn tail
		scanErr  *scanError
	)
loop:
	for {
		kind, err := sc.next()
		if err != nil {
			if !errors.As(err, &scanErr) {
				return fileResult{}, fmt.Errorf("aof: %s: %w", name, err)
			}
			if !scanErr.truncated && !scanErr.checksum && last && sc.zeroFrom(scanErr.off) {
				// The filesystem extended the file but the data never
				// reached the disk: a torn tail of zeros.
				scanErr.truncated = true
				scanErr.reason = "zero bytes from offset " + fmt.Sprint(scanErr.off) + " to the end of the file inside a command"
			}
			if !scanErr.truncated {
				return fileResult{}, &CorruptError{Path: path, Offset: scanErr.off, Reason: scanErr.reason}
			}
			reason = scanErr.reason
			break loop
		}
		switch kind {
		case itemEnd:
			break loop
		case itemZeroTail:
			if !inMulti {
				a.log.Warn("aof: trimming a zero-filled tail", "file", name, "offset", sc.start, "size", size)
				if err := truncateFile(a.opts.OpenFile, path, sc.start); err != nil {
					return fileResult{}, err
				}
				ld.done += sc.start
				return fileResult{end: sc.start, crc: sc.crc}, nil
			}
			break loop
		case itemNote:
			if !inMulti {
				valid, validCRC = sc.pos(), sc.crc
			}
		case itemCommand:
			argv := sc.argv
			switch {
			case inMulti && isCmd(argv, cmdExec):
				ld.buffer(argv)
				if err := ld.flushMulti(); err != nil {
					return fileResult{}, fmt.Errorf("aof: replay %s at offset %d: %w", name, sc.start, err)
				}
				inMulti = false
				valid, validCRC = sc.pos(), sc.crc
			case isCmd(argv, cmdMulti):
				if inMulti {
					return fileResult{}, &CorruptError{Path: path, Offset: sc.start, Reason: "MULTI inside MULTI"}
				}
				inMulti = true
				ld.buffer(argv)
			case inMulti:
				ld.buffer(argv)
			case isCmd(argv, cmdExec):
				return fileResult{}, &CorruptError{Path: path, Offset: sc.start, Reason: "EXEC without MULTI"}
			default:
				if err := ld.apply(argv); err != nil {
					return fileResult{}, fmt.Errorf("aof: replay %s at offset %d: %w", name, sc.start, err)
				}
				valid, validCRC = sc.pos(), sc.crc
			}
			ld.commands++
			if ld.commands&4095 == 0 {
				ld.progress(sc.pos())
			}
		}
	}
	if inMulti && reason == "" {
		reason = "the file ends inside MULTI without EXEC"
	}
	ld.multiData, ld.multiOffs = ld.multiData[:0], ld.multiOffs[:0]
	if reason == "" {
		if end < size {
			a.log.Info("aof: trimming the preallocated padding a crash left", "file", name, "offset", end, "size", size)
			if err := truncateFile(a.opts.OpenFile, path, end); err != nil {
				return fileResult{}, err
			}
		}
		ld.done += size
		return fileResult{end: end, crc: sc.crc}, nil
	}
	// A torn tail.
	if end < size {
		reason += fmt.Sprintf(" (followed by %d bytes of preallocated padding)", size-end)
	}
	switch {
	case !last:
		return fileResult{}, &CorruptError{Path: path, Offset: valid,
			Reason: reason + " (a torn tail is only allowed in the last incr file)"}
	case !a.opts.LoadTruncated:
		return fileResult{}, &CorruptError{Path: path, Offset: valid,
			Reason: reason + " (aof-load-truncated is off; set it to load the file up to the last whole command)"}
	}
	a.log.Warn("aof: short read while loading the AOF file; truncating it at the last whole command",
		"file", name, "offset", valid, "size", size, "reason", reason)
	if err := truncateFile(a.opts.OpenFile, path, valid); err != nil {
		return fileResult{}, err
	}
	ld.done += valid
	return fileResult{end: valid, crc: validCRC}, nil
}

// padStart returns where the writer's padding (see AOF.reserve) begins in
// a file of the given size, or size if the file has none: the start of
// its longest suffix of '#' and '\n' bytes, moved past a '\n' that ends a
// "\r\n". Commands and annotations end in "\r\n", so the suffix never
// takes a byte of a whole one: a file that Redis wrote, or one closed
// cleanly, keeps its size. A torn command may lose bytes to the suffix
// and stays torn.
func padStart(r io.ReaderAt, size int64) (int64, error) {
	buf := make([]byte, min(size, 64<<10))
	p := size
	for p > 0 {
		b := buf[:min(p, int64(len(buf)))]
		if _, err := r.ReadAt(b, p-int64(len(b))); err != nil {
			return 0, err
		}
		i := len(b)
		for i > 0 && (b[i-1] == '#' || b[i-1] == '\n') {
			i--
		}
		p -= int64(len(b) - i)
		if i > 0 {
			break
		}
	}
	if p > 0 && p < size {
		var two [2]byte
		if _, err := r.ReadAt(two[:], p-1); err != nil {
			return 0, err
		}
		if two == [2]byte{'\r', '\n'} {
			p++
		}
	}
	return p, nil
}

// buffer copies a command of an open MULTI block.
func (ld *loader) buffer(argv [][]byte) {
	ld.multiOffs = append(ld.multiOffs, -len(argv))
	for _, arg := range argv {
		ld.multiOffs = append(ld.multiOffs, len(ld.multiData))
		ld.multiData = append(ld.multiData, arg...)
		ld.multiOffs = append(ld.multiOffs, len(ld.multiData))
	}
}

// flushMulti applies the buffered block, MULTI through EXEC.
func (ld *loader) flushMulti() error {
	offs := ld.multiOffs
	for len(offs) > 0 {
		n := -offs[0]
		offs = offs[1:]
		ld.multiArgv = ld.multiArgv[:0]
		for i := 0; i < n; i++ {
			s, e := offs[2*i], offs[2*i+1]
			ld.multiArgv = append(ld.multiArgv, ld.multiData[s:e:e])
		}
		offs = offs[2*n:]
		if err := ld.apply(ld.multiArgv); err != nil {
			return err
		}
	}
	ld.multiData, ld.multiOffs = ld.multiData[:0], ld.multiOffs[:0]
	return nil
}

// progress reports large loads to Options.Progress (every 16 MiB) and the
// log (every 5 seconds).
func (ld *loader) progress(pos int64) {
	done := ld.done + pos
	if done-ld.reported < 16<<20 {
		return
	}
	ld.reported = done
	if p := ld.a.opts.Progress; p != nil {
		p(done, ld.total)
	}
	if now := time.Now(); now.Sub(ld.lastLog) >= 5*time.Second {
		ld.lastLog = now
		ld.a.log.Info("aof: loading", "done_bytes", done, "total_bytes", ld.total,
			"percent", fmt.Sprintf("%.1f", 100*float64(done)/float64(max(ld.total, 1))))
	}
}

// zeroFrom reports whether every byte from file offset off (within the
// buffer) to the end of the file is zero.
func (s *scanner) zeroFrom(off int64) bool {
	i := off - s.off
	if i < 0 || i > int64(s.w) {
		return false
	}
	s.r = int(i)
	s.mark = s.r
	zero, err := s.restIsZero()
	return err == nil && zero
}
