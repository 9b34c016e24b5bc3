package aof

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// File is the part of *os.File the log uses. Options.OpenFile returns it
// so tests can inject faults (ENOSPC on Write, EIO on Sync).
type File interface {
	io.Reader
	io.ReaderAt
	io.Writer
	// Sync flushes written data to stable storage. The os implementation
	// uses fdatasync: the file size is flushed with the data, mtime is
	// not, which saves a journal commit per call on most filesystems.
	Sync() error
	// Truncate sets the file size, and the offset the next Write goes
	// to when that was beyond it; it also frees blocks preallocated
	// beyond it.
	Truncate(size int64) error
	// Allocate reserves disk blocks for [off, off+n) without changing the
	// file size (fallocate FALLOC_FL_KEEP_SIZE). It may return
	// errors.ErrUnsupported; callers treat it as a hint.
	Allocate(off, n int64) error
	// Size returns the current file size.
	Size() (int64, error)
	Close() error
}

// padder is implemented by Files that can pad: write '#' bytes, ending in
// a newline, over [off, off+n). The writer pads ahead of its offset under
// appendfsync always (see AOF.reserve).
type padder interface {
	Pad(off, n int64) error
}

// osFile is the File that Options.OpenFile returns by default.
type osFile struct{ *os.File }

// openOSFile opens name. A file opened with O_APPEND is opened without it
// and positioned at its end instead: writes still append, and Pad can
// write ahead of them (under O_APPEND, Linux's pwrite ignores its offset
// and appends).
func openOSFile(name string, flag int, perm os.FileMode) (File, error) {
	appending := flag&os.O_APPEND != 0
	f, err := os.OpenFile(name, flag&^os.O_APPEND, perm)
	if err != nil {
		return nil, err
	}
	if appending {
		if _, err := f.Seek(0, io.SeekEnd); err != nil {
			f.Close()
			return nil, err
		}
	}
	return osFile{f}, nil
}

func (f osFile) Truncate(size int64) error {
	if err := f.File.Truncate(size); err != nil {
		return err
	}
	if pos, err := f.Seek(0, io.SeekCurrent); err == nil && pos > size {
		_, err = f.Seek(size, io.SeekStart)
		return err
	}
	return nil
}

// padBytes is a read-only run of '#' that Pad writes from.
var padBytes = bytes.Repeat([]byte{'#'}, 64<<10)

func (f osFile) Pad(off, n int64) error {
	if n <= 0 {
		return nil
	}
	for done := int64(0); done < n-1; {
		k := min(n-1-done, int64(len(padBytes)))
		if _, err := f.WriteAt(padBytes[:k], off+done); err != nil {
			return err
		}
		done += k
	}
	_, err := f.WriteAt([]byte{'\n'}, off+n-1)
	return err
}

func (f osFile) Sync() error {
	for {
		err := unix.Fdatasync(int(f.Fd()))
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return &os.PathError{Op: "fdatasync", Path: f.Name(), Err: err}
		}
		return nil
	}
}

func (f osFile) Allocate(off, n int64) error {
	err := unix.Fallocate(int(f.Fd()), unix.FALLOC_FL_KEEP_SIZE, off, n)
	if err == unix.EOPNOTSUPP || err == unix.ENOSYS {
		return errors.ErrUnsupported
	}
	if err != nil {
		return &os.PathError{Op: "fallocate", Path: f.Name(), Err: err}
	}
	return nil
}

func (f osFile) Size() (int64, error) {
	fi, err := f.Stat()
	if err != nil {
		return 0, err
	}
	return fi.Size(), nil
}

// syncDir makes renames, creations and removals in dir durable: an
// fsynced file whose directory entry was not synced can vanish in an OS
// crash. Redis does it after every manifest rename (fsyncFileDir).
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("aof: fsync directory %s: %w", dir, err)
	}
	return nil
}

// lockDir takes an exclusive flock on dir, held until the returned file is
// closed, so two processes never append to the same log. redis-server does
// not take it: do not run both on one directory.
func lockDir(dir string) (*os.File, error) {
	d, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	if err := unix.Flock(int(d.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		d.Close()
		if err == unix.EWOULDBLOCK {
			return nil, fmt.Errorf("%w: %s", ErrLocked, dir)
		}
		return nil, fmt.Errorf("aof: lock %s: %w", dir, err)
	}
	return d, nil
}

// writeFileSync writes data to path through opts.OpenFile and syncs it.
func writeFileSync(open func(string, int, os.FileMode) (File, error), path string, data []byte) error {
	f, err := open(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// truncateFile cuts path to size and syncs it, so a later crash cannot
// bring the cut bytes back.
func truncateFile(open func(string, int, os.FileMode) (File, error), path string, size int64) error {
	f, err := open(path, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	err = f.Truncate(size)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("aof: truncate %s to %d bytes: %w", filepath.Base(path), size, err)
	}
	return nil
}
