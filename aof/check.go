package aof

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// Check verifies an AOF directory the way redis-check-aof does: the
// manifest, then the base and every incr file, reporting for each file its
// size and how far it is valid (ok_up_to), and the first bad offset with
// the reason. dir is the AOF directory, its manifest, or the working
// directory that holds opts.DirName. Only opts' DirName, FileName,
// MaxBulkLen and OpenFile are used.
//
// With fix, damage in the last incr file (a torn tail, garbage, a checksum
// mismatch) is repaired by truncating the file back to the last good
// command, as redis-check-aof --fix; damage in any other file is refused
// with a message, since cutting it would drop the data of the files after
// it. Check returns nil when every file is valid (or was fixed), the first
// *CorruptError otherwise. It takes the directory lock when fixing, so it
// refuses to fix a directory a running server holds.
func Check(dir string, opts Options, fix bool, out io.Writer) error {
	opts = opts.withDefaults()
	if st, err := os.Stat(dir); err == nil && !st.IsDir() {
		dir = filepath.Dir(dir)
	} else if _, err := os.Stat(filepath.Join(dir, opts.FileName+".manifest")); errors.Is(err, fs.ErrNotExist) {
		dir = filepath.Join(dir, opts.DirName)
	}
	mpath := filepath.Join(dir, opts.FileName+".manifest")
	data, err := os.ReadFile(mpath)
	if err != nil {
		return fmt.Errorf("aof: read manifest: %w", err)
	}
	if fix {
		lock, err := lockDir(dir)
		if err != nil {
			return err
		}
		defer lock.Close()
	}
	fmt.Fprintln(out, "Start checking Multi Part AOF")
	m, err := parseManifest(data)
	if err != nil {
		fmt.Fprintf(out, "Invalid manifest %s: %v\n", mpath, err)
		return fmt.Errorf("aof: %s: %w", mpath, err)
	}
	var files []aofInfo
	if m.base != nil {
		files = append(files, *m.base)
	}
	files = append(files, m.incr...)
	if len(files) == 0 {
		fmt.Fprintln(out, "The manifest lists no base or incr file")
		return nil
	}
	var firstErr error
	for i, fi := range files {
		last := i == len(files)-1
		kind := "INCR"
		if fi.typ == typeBase {
			kind = "BASE"
			fmt.Fprintln(out, "Start to check BASE AOF (RESP format).")
		} else if i == 0 || files[i-1].typ == typeBase {
			fmt.Fprintln(out, "Start to check INCR files.")
		}
		path := filepath.Join(dir, fi.name)
		r, err := checkFile(path, &opts, fi.typ != typeBase)
		if err != nil {
			fmt.Fprintf(out, "%s AOF %s: %v\n", kind, fi.name, err)
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		if r.size == 0 {
			fmt.Fprintf(out, "%s AOF %s is empty\n", kind, fi.name)
			continue
		}
		if r.bad != nil {
			fmt.Fprintf(out, "0x%16x: %s\n", r.bad.Offset, r.bad.Reason)
		} else if r.padFrom < r.size {
			fmt.Fprintf(out, "%s AOF %s ends in %d bytes of preallocated padding from offset %d "+
				"(left by a crash under appendfsync always; redis-server skips it, mullet cuts it on load)\n",
				kind, fi.name, r.size-r.padFrom, r.padFrom)
		}
		fmt.Fprintf(out, "AOF analyzed: filename=%s, size=%d, ok_up_to=%d, diff=%d\n",
			fi.name, r.size, r.okUpTo, r.size-r.okUpTo)
		if r.bad == nil {
			fmt.Fprintf(out, "%s AOF %s is valid\n", kind, fi.name)
			continue
		}
		if !fix {
			fmt.Fprintf(out, "%s AOF %s is not valid. Use `mullet aof check --fix` to truncate it "+
				"(only the last incr file can be fixed).\n", kind, fi.name)
		} else if !last && !r.zeroTail && !r.padTail {
			fmt.Fprintf(out, "%s AOF %s is corrupt before its end and it is not the last file: "+
				"refusing to fix it, since truncating it would lose the data of the files after it. "+
				"Restore it from a backup, or cut it at offset %d by hand if you accept losing what follows.\n",
				kind, fi.name, r.okUpTo)
		} else {
			if err := truncateFile(opts.OpenFile, path, r.okUpTo); err != nil {
				fmt.Fprintf(out, "Failed to truncate %s: %v\n", fi.name, err)
				if firstErr == nil {
					firstErr = err
				}
				continue
			}
			fmt.Fprintf(out, "Successfully truncated AOF %s from %d to %d bytes\n", fi.name, r.size, r.okUpTo)
			continue
		}
		if firstErr == nil {
			firstErr = r.bad
		}
	}
	if firstErr == nil {
		fmt.Fprintln(out, "All AOF files and manifest are valid")
	}
	return firstErr
}

// findPadTrap returns the offset of the first line in the padding
// [from, size) that Redis's fgets would split into a lone "\n" (see
// padTrap), or -1.
func findPadTrap(r io.ReaderAt, from, size int64) (int64, error) {
	buf := make([]byte, min(size-from, 64<<10))
	lineStart := from
	for off := from; off < size; {
		b := buf[:min(size-off, int64(len(buf)))]
		if _, err := r.ReadAt(b, off); err != nil {
			return 0, err
		}
		for i, c := range b {
			if c == '\n' {
				if padTrap(off + int64(i) - lineStart) {
					return lineStart, nil
				}
				lineStart = off + int64(i) + 1
			}
		}
		off += int64(len(b))
	}
	return -1, nil
}

type checkResult struct {
	size     int64
	okUpTo   int64
	bad      *CorruptError
	zeroTail bool  // bad is only a zero-filled tail: cutting it loses nothing
	padTail  bool  // bad is only padding Redis cannot read: cutting it loses nothing
	padFrom  int64 // where the writer's padding begins (size: none)
}

// checkFile scans one file without applying anything. incr says it is an
// incr file, which may end in the writer's padding (see padStart).
func checkFile(path string, opts *Options, incr bool) (checkResult, error) {
	f, err := opts.OpenFile(path, os.O_RDONLY, 0)
	if err != nil {
		return checkResult{}, err
	}
	defer f.Close()
	size, err := f.Size()
	if err != nil {
		return checkResult{}, err
	}
	res := checkResult{size: size, padFrom: size}
	end := size
	if incr {
		if end, err = padStart(f, size); err != nil {
			return res, err
		}
		res.padFrom = end
	}
	sc := newScanner(io.LimitReader(f, end), end, opts.MaxBulkLen)
	var rdbEnd int64 // where an RDB preamble ends
	if sc.fill(5) && string(sc.buf[sc.r:sc.r+5]) == "REDIS" {
		if opts.LoadRDB == nil {
			res.bad = &CorruptError{Path: path, Reason: "RDB-format base: this check cannot read RDB data; " +
				"use redis-check-aof, or set Options.LoadRDB"}
			return res, nil
		}
		// Parsing it checks its structure and its CRC64.
		if err := opts.LoadRDB(sc, func([][]byte) error { return nil }); err != nil {
			res.bad = &CorruptError{Path: path, Reason: "RDB preamble: " + err.Error()}
			return res, nil
		}
		sc.crc, sc.spanStart = 0, sc.pos()
		rdbEnd = sc.pos()
	}
	var (
		valid      = rdbEnd
		spanStart  = rdbEnd // end of the last '#' line: a checksum covers what follows
		inMulti    bool
		multiStart int64
		scanErr    *scanError
	)
	for {
		kind, err := sc.next()
		if err != nil {
			if !errors.As(err, &scanErr) {
				return res, err
			}
			res.okUpTo = valid
			if scanErr.checksum {
				// Every command of the span is suspect.
				res.okUpTo = min(valid, spanStart)
			}
			res.bad = &CorruptError{Path: path, Offset: scanErr.off, Reason: scanErr.reason}
			return res, nil
		}
		switch kind {
		case itemEnd, itemZeroTail:
			if inMulti {
				res.okUpTo = valid
				res.bad = &CorruptError{Path: path, Offset: multiStart, Reason: "the file ends inside MULTI without EXEC"}
				return res, nil
			}
			res.okUpTo = sc.start
			if kind == itemZeroTail {
				res.bad = &CorruptError{Path: path, Offset: sc.start, Reason: "zero-filled tail"}
				res.zeroTail = true
				return res, nil
			}
			if end < size {
				trap, err := findPadTrap(f, end, size)
				if err != nil {
					return res, err
				}
				if trap >= 0 {
					res.bad = &CorruptError{Path: path, Offset: trap, Reason: "preallocated padding that redis-server " +
						"cannot read (a line of '#' whose length is a multiple of 1023 bytes)"}
					res.padTail = true
					return res, nil
				}
				res.okUpTo = size
			}
			return res, nil
		case itemNote:
			spanStart = sc.pos()
			if !inMulti {
				valid = sc.pos()
			}
		case itemCommand:
			switch {
			case isCmd(sc.argv, cmdMulti):
				if inMulti {
					res.okUpTo = valid
					res.bad = &CorruptError{Path: path, Offset: sc.start, Reason: "MULTI inside MULTI"}
					return res, nil
				}
				inMulti, multiStart = true, sc.start
			case isCmd(sc.argv, cmdExec):
				if !inMulti {
					res.okUpTo = valid
					res.bad = &CorruptError{Path: path, Offset: sc.start, Reason: "EXEC without MULTI"}
					return res, nil
				}
				inMulti = false
				valid = sc.pos()
			case !inMulti:
				valid = sc.pos()
			}
		}
	}
}
