package rdb

import (
	"bufio"
	"errors"
	"fmt"
	"io"
)

// reader consumes RDB bytes from a bufio.Reader, tracking the offset for
// error messages and, for files, the running CRC64 of everything consumed.
//
// The CRC is computed over consumed bytes, not over what bufio has read
// ahead, because the checksum in an RDB file covers exactly the bytes up to
// and including the EOF opcode, and because Load promises to leave a
// caller's *bufio.Reader positioned right after the RDB.
type reader struct {
	br   *bufio.Reader
	off  int64  // bytes consumed
	left int64  // bytes known to remain, or -1 for a stream of unknown size
	crc  uint64 // CRC64 of the consumed bytes, if sum is set
	sum  bool
}

// growChunk is how much appendN allocates ahead of data that has actually
// arrived when the input size is unknown, so a forged length in a short
// stream costs at most this much (plus doubling) before the read fails.
const growChunk = 64 << 10

func (r *reader) corrupt(reason string, args ...any) error {
	return &CorruptError{Offset: r.off, Reason: fmt.Sprintf(reason, args...)}
}

// ioErr turns a read failure into the error callers see: running out of
// input is corruption (a truncated payload or file), anything else is an I/O
// error from the caller's reader and is passed on wrapped.
func (r *reader) ioErr(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return &CorruptError{Offset: r.off, Reason: "unexpected end of input", Err: io.ErrUnexpectedEOF}
	}
	return fmt.Errorf("rdb: read at offset %d: %w", r.off, err)
}

// need fails early when the input is known to hold fewer than n more bytes.
func (r *reader) need(n uint64) error {
	if r.left >= 0 && n > uint64(r.left) {
		return &CorruptError{Offset: r.off, Reason: fmt.Sprintf("length %d exceeds the %d bytes left", n, r.left), Err: io.ErrUnexpectedEOF}
	}
	return nil
}

func (r *reader) consumed(p []byte) {
	r.off += int64(len(p))
	if r.left >= 0 {
		r.left -= int64(len(p))
	}
	if r.sum {
		r.crc = crc64(r.crc, p)
	}
}

func (r *reader) byte() (byte, error) {
	if r.left == 0 {
		return 0, r.ioErr(io.EOF)
	}
	b, err := r.br.ReadByte()
	if err != nil {
		return 0, r.ioErr(err)
	}
	r.off++
	if r.left > 0 {
		r.left--
	}
	if r.sum {
		r.crc = crc64Byte(r.crc, b)
	}
	return b, nil
}

// full fills p.
func (r *reader) full(p []byte) error {
	if err := r.need(uint64(len(p))); err != nil {
		return err
	}
	n, err := io.ReadFull(r.br, p)
	r.consumed(p[:n])
	if err != nil {
		return r.ioErr(err)
	}
	return nil
}

// appendN reads n bytes and appends them to dst. Memory grows with the data
// that actually arrives, never with n alone.
func (r *reader) appendN(dst []byte, n uint64) ([]byte, error) {
	if err := r.need(n); err != nil {
		return dst, err
	}
	for n > 0 {
		chunk := n
		if r.left < 0 {
			// Unknown input size: grow geometrically with what was read.
			chunk = min(n, uint64(max(growChunk, len(dst))))
		}
		if chunk > uint64(maxInt-len(dst)) {
			return dst, r.corrupt("length %d does not fit in memory", n)
		}
		k := int(chunk)
		dst = grow(dst, k)
		at := len(dst)
		dst = dst[:at+k]
		m, err := io.ReadFull(r.br, dst[at:])
		r.consumed(dst[at : at+m])
		if err != nil {
			return dst[:at+m], r.ioErr(err)
		}
		n -= chunk
	}
	return dst, nil
}

// discard skips n bytes, still checksumming them.
func (r *reader) discard(n uint64) error {
	if err := r.need(n); err != nil {
		return err
	}
	for n > 0 {
		k := min(n, uint64(r.br.Size()))
		p, err := r.br.Peek(int(k))
		r.consumed(p)
		if _, derr := r.br.Discard(len(p)); derr != nil && err == nil {
			err = derr
		}
		if err != nil {
			return r.ioErr(err)
		}
		n -= k
	}
	return nil
}

const maxInt = int(^uint(0) >> 1)

// grow returns b with room for n more bytes. It doubles the capacity rather
// than using append's growth, which drops to 1.25x for large slices and
// would copy a list assembled piece by piece many times over.
func grow(b []byte, n int) []byte {
	if cap(b)-len(b) >= n {
		return b
	}
	nb := make([]byte, len(b), max(2*cap(b), len(b)+n, 512))
	copy(nb, b)
	return nb
}
