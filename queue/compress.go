package queue

import (
	"github.com/klauspost/compress/zstd"
)

// Compressed chunks (list-compress-depth N). With N > 0 every chunk except
// the N at each end of a list is held zstd-compressed: a queue pushes and
// pops at the ends, so the chunks in between are only written once, when
// they fill, and read once, when the consumer reaches them. Compressing
// them is what lets a backlog of JSON payloads hold four to five times as
// many items under maxmemory (docs/configuration.md has the measurements
// and why zstd rather than Redis's LZF).
//
// A compressed chunk has z > 0: b[lo:hi] is the zstd frame of the z bytes
// of entries the raw chunk held, and b is a buffer of its own, sized to
// the allocator's size class, so used memory counts the compressed size
// exactly. Its buffer is never written: it is replaced whole when the
// chunk is decompressed, which is what lets a Snapshot read it without
// copying (see epochs). A chunk that did not shrink when tried is marked
// z == incompressible so it is not tried again; it is raw.
//
// Invariant, kept after every operation when depth > 0: the chunks at
// positions [depth, nc-depth) are compressed (or incompressible), the rest
// raw. Push and pop therefore only ever touch raw chunks; reads of the
// middle (LINDEX, LRANGE, LPOS...) decompress into scratch buffers that
// live until the Tx ends (see scratch), and edits of the middle (LSET,
// LINSERT, LREM) rebuild the chunk raw and compress the result.

const incompressible = -1

// minCompress is the smallest chunk worth compressing: Redis's
// MIN_COMPRESS_BYTES.
const minCompress = 48

// The codec: zstd at its fastest level, one frame per chunk, no checksum
// (the data never leaves memory). Both are safe for concurrent use; the
// pools are small because calls come from the keyspace's lock holder and
// the occasional snapshot reader.
var (
	zEnc, _ = zstd.NewWriter(nil,
		zstd.WithEncoderLevel(zstd.SpeedFastest),
		zstd.WithEncoderConcurrency(2),
		zstd.WithEncoderCRC(false),
		zstd.WithZeroFrames(true),
		zstd.WithSingleSegment(true),
		zstd.WithLowerEncoderMem(true))
	zDec, _ = zstd.NewReader(nil,
		zstd.WithDecoderConcurrency(4),
		zstd.IgnoreChecksum(true))
)

// compressed reports whether c holds compressed entries.
func (c *chunk) compressed() bool { return c.z > 0 }

// inflate decompresses c's entries into dst (which must have room for
// c.z bytes) and returns them.
func inflate(c *chunk, dst []byte) []byte {
	out, err := zDec.DecodeAll(c.b[c.lo:c.hi], dst[:0])
	if err != nil || len(out) != int(c.z) {
		// Only this package writes these frames; a failure is memory
		// corruption, not bad input.
		panic("queue: compressed chunk does not decompress")
	}
	return out
}

// mustCompress reports whether position i must be held compressed.
func (l *list) mustCompress(i int) bool {
	return l.depth > 0 && i >= l.depth && i < l.nc-l.depth
}

// compressAt compresses chunk i in place if it is raw and shrinks.
func (l *list) compressAt(i int) {
	c := l.at(i)
	if c.z != 0 {
		return
	}
	raw := c.b[c.lo:c.hi]
	if len(raw) < minCompress {
		c.z = incompressible
		return
	}
	s := &l.ep.scratch
	s.enc = zEnc.EncodeAll(raw, s.enc[:0])
	if heapSize(len(s.enc)) >= int64(len(c.b)) {
		c.z = incompressible
		return
	}
	nb := allocBuf(len(s.enc))
	copy(nb, s.enc)
	l.bytes += int64(len(nb) - len(c.b))
	l.ep.release(c)
	*c = chunk{b: nb, lo: 0, hi: int32(len(s.enc)), n: c.n, epoch: l.ep.cur, z: int32(len(raw))}
}

// decompressAt makes chunk i raw in place, its entries at the end of the
// buffer on the head side (where pushes at the head go) and at the start
// otherwise.
func (l *list) decompressAt(i int) {
	c := l.at(i)
	if c.z <= 0 {
		c.z = 0 // it may have changed neighbours: try again when it is inner
		return
	}
	size := int(c.z)
	nb := l.ep.spare.alloc(chunkSizeFor(size))
	lo := 0
	if i < l.depth {
		lo = len(nb) - size
	}
	inflate(c, nb[lo:lo+size])
	l.bytes += int64(len(nb) - len(c.b))
	l.ep.release(c)
	*c = chunk{b: nb, lo: int32(lo), hi: int32(lo + size), n: c.n, epoch: l.ep.cur}
}

// chunkSizeFor is the size of buffer to hold n bytes of entries: the
// smallest full-chunk size that fits, so that the buffer comes from and
// goes back to the spares (see spares), or n itself past them.
func chunkSizeFor(n int) int {
	for _, c := range chunkSizes {
		if c >= n {
			return c
		}
	}
	return n
}

// fixAt brings chunk i to the state its position asks for.
func (l *list) fixAt(i int) {
	if i < 0 || i >= l.nc {
		return
	}
	if l.mustCompress(i) {
		l.compressAt(i)
	} else if l.at(i).z != 0 {
		l.decompressAt(i)
	}
}

// fixEnds restores the invariant after chunks were added or removed at the
// ends: the chunks that may have crossed a boundary are the end zones and
// the first inner chunk on each side.
func (l *list) fixEnds() {
	if l.depth == 0 {
		return
	}
	d := min(l.depth, l.nc)
	for i := 0; i <= d; i++ {
		l.fixAt(i)
	}
	for i := max(l.nc-d-1, d+1); i < l.nc; i++ {
		l.fixAt(i)
	}
}

// fixAll restores the invariant over the whole list, after an edit in the
// middle.
func (l *list) fixAll() {
	if l.depth == 0 {
		return
	}
	for i := 0; i < l.nc; i++ {
		l.fixAt(i)
	}
}

// rawAt returns chunk i as a raw chunk to read: itself, or for a
// compressed one a copy whose entries were decompressed into a scratch
// buffer valid until the Tx ends.
func (l *list) rawAt(i int) chunk {
	c := l.at(i)
	if c.z <= 0 {
		return *c
	}
	b := inflate(c, l.ep.scratch.get(int(c.z)))
	return chunk{b: b, lo: 0, hi: int32(len(b)), n: c.n}
}

// scratch holds buffers the reads of compressed chunks decompress into:
// the items they return alias them, so they are reused only once the Tx
// ends. Up to scratchKeep bytes of them are kept for the next Tx.
type scratch struct {
	used [][]byte
	free [][]byte
	kept int
	enc  []byte // compressAt's output, copied out at once
}

const scratchKeep = 1 << 20

func (s *scratch) get(n int) []byte {
	for i, b := range s.free {
		if cap(b) >= n {
			last := len(s.free) - 1
			s.free[i], s.free[last] = s.free[last], nil
			s.free = s.free[:last]
			s.kept -= cap(b)
			s.used = append(s.used, b)
			return b[:n]
		}
	}
	b := make([]byte, n, max(n, chunkMax))
	s.used = append(s.used, b)
	return b
}

// settle makes the buffers of the Tx that ends reusable; Tx.End calls it.
func (s *scratch) settle() {
	for i, b := range s.used {
		if s.kept+cap(b) <= scratchKeep {
			s.free = append(s.free, b)
			s.kept += cap(b)
		}
		s.used[i] = nil
	}
	s.used = s.used[:0]
}
