package queue

import (
	"bytes"
	"encoding/binary"
	"slices"
)

// A list is a deque of byte strings stored the way Redis's quicklist of
// listpacks stores them: items are packed back to back into chunks, so ten
// million queued items cost ten million headers of a few bytes each instead
// of ten million Go objects. A full chunk is 16 to 64 KiB (fullSize picks
// the size that wastes least for the items it holds); a new list's first
// chunk starts at chunkMin bytes and doubles up to that, so short lists stay
// small; an item of chunkMax bytes or more gets a chunk of its own; edits in
// the middle repack to rebuildMax. The GC sees one pointer per chunk, never
// one per item.
//
// Entry layout inside a chunk, chosen so a chunk can be walked from either
// end (listpack's backlen trick):
//
//	len(n) | n bytes of data | len(n) with its bytes reversed
//
// where len(n) takes 1, 2 or 5 bytes (see lenSize).
//
// Chunks live in a ring, so pushing and popping at either end is O(1). A
// chunk that was opened by a push at the head fills from its end towards its
// start; one opened at the tail fills from start to end; each keeps its free
// space on the side that grows.
type list struct {
	ring  []chunk // circular; ring[(head+i)%len(ring)] is the i-th chunk
	head  int
	nc    int   // chunks in use
	n     int64 // items
	bytes int64 // accounted memory, see memSize
	ep    *epochs
	// depth is list-compress-depth as it was when the list was made (as
	// in Redis, CONFIG SET changes it for new lists only): the chunks
	// that many from each end stay raw, the others are compressed; 0
	// compresses nothing. See compress.go.
	depth int
	// spareBuf is the buffer of the last chunk removed, if small and not
	// visible to a snapshot, for the next newChunk: a list that keeps
	// going from empty to one chunk and back allocates nothing.
	spareBuf []byte
}

// A chunk holds entries in b[lo:hi]. b is never resliced: cap(b) == len(b).
type chunk struct {
	b      []byte
	lo, hi int32
	n      int32  // entries
	epoch  uint32 // epochs.cur when b was allocated; see epochs
	z      int32  // > 0: compressed, z raw bytes; see compress.go
}

// epochs lets a snapshot (AOF rewrite) read chunk buffers while writers keep
// going. Chunks whose epoch is <= frozen were visible to a live snapshot; a
// writer that wants to modify such a buffer in place copies it first. Pops
// only move lo and hi, which the snapshot copied, so they need no copy.
//
// Every list of a keyspace points to the same epochs, which is therefore
// also where the keyspace keeps its spare chunk buffers (see spares).
type epochs struct {
	cur     uint32 // epoch stamped on new buffers
	frozen  uint32 // buffers with epoch <= frozen are shared; 0: none
	spare   spares
	scratch scratch // decompressed chunks read during the Tx
}

const (
	// chunkMax is the largest chunk; an item too big for one gets a chunk
	// of its own. See fullSize for how big a full chunk is.
	chunkMax = 65536
	// rebuildMax is the size chunks are packed to when edits in the middle
	// rewrite them.
	rebuildMax = 32768
	// chunkMin is the first allocation for a new list's chunk; it doubles
	// up to a full chunk so short lists stay small.
	chunkMin = 64
)

// Item lengths are encoded in 1, 2 or 5 bytes, chosen so the queue's
// typical payloads (tens to a few hundred bytes) pay 2 bytes per item in
// all, header and trailer together; listpack pays 4 for a 200-byte string.
//
//	n < 224:          [n]
//	n < 224+4096:     [0xE0 | m>>8, m&0xFF] with m = n-224
//	otherwise:        [0xF0, n as 4 bytes little-endian]
//
// The trailer is the header reversed, so its last byte tells a backward
// reader which form it is: < 0xE0 one byte, 0xE0..0xEF two, 0xF0 five.
const (
	short1 = 0xE0
	short2 = 224 + 4096
	long5  = 0xF0
)

func lenSize(n int) int {
	switch {
	case n < short1:
		return 1
	case n < short2:
		return 2
	}
	return 5
}

// entrySize is the packed size of an item of n bytes.
func entrySize(n int) int { return n + 2*lenSize(n) }

// putEntry writes v packed into dst, which must be exactly entrySize(len(v)).
func putEntry(dst, v []byte) {
	n := len(v)
	var k int
	switch {
	case n < short1:
		dst[0] = byte(n)
		k = 1
	case n < short2:
		m := n - short1
		dst[0], dst[1] = short1|byte(m>>8), byte(m)
		k = 2
	default:
		dst[0] = long5
		binary.LittleEndian.PutUint32(dst[1:5], uint32(n))
		k = 5
	}
	copy(dst[k:], v)
	tail := dst[k+n:]
	for i := 0; i < k; i++ {
		tail[i] = dst[k-1-i]
	}
}

// entryAt decodes the entry starting at p and returns its data and the
// offset just past it.
func entryAt(b []byte, p int) (data []byte, next int) {
	var n, k int
	switch b0 := b[p]; {
	case b0 < short1:
		n, k = int(b0), 1
	case b0 < long5:
		n, k = short1+(int(b0&0x0F)<<8|int(b[p+1])), 2
	default:
		n, k = int(binary.LittleEndian.Uint32(b[p+1:p+5])), 5
	}
	start := p + k
	end := start + n
	return b[start:end:end], end + k
}

// entryBefore decodes the entry ending at q and returns its data and its
// start offset.
func entryBefore(b []byte, q int) (data []byte, start int) {
	var n, k int
	switch last := b[q-1]; {
	case last < short1:
		n, k = int(last), 1
	case last < long5:
		n, k = short1+(int(last&0x0F)<<8|int(b[q-2])), 2
	default:
		n = int(b[q-2]) | int(b[q-3])<<8 | int(b[q-4])<<16 | int(b[q-5])<<24
		k = 5
	}
	end := q - k
	s := end - n
	return b[s:end:end], s - k
}

// allocSize rounds n up to what the Go allocator actually hands out, so that
// accounting matches the heap. slices.Grow rounds to the size class.
func allocBuf(n int) []byte {
	b := slices.Grow([]byte(nil), n)
	return b[:cap(b)]
}

// chunkSizes are the sizes a full chunk may have: Go's size classes from
// 16 KiB to 32 KiB, then whole 8 KiB pages up to 64 KiB, so the allocator
// hands out exactly what is asked for.
var chunkSizes = [...]int{16384, 18432, 19072, 20480, 21760, 24576, 27264, 28672, 32768, 40960, 49152, 57344, 65536}

// fullSize is the size of a full chunk for entries of sz bytes: of the
// candidate sizes, the one whose tail left after packing whole entries is
// the smallest fraction of the chunk. For 200-byte items it is 16 KiB
// (0.1% waste), for 1000-byte items 56 KiB (0.2%); an 8 KiB chunk would
// waste 1.4% and 2%. Big chunks also mean few objects for the GC and the
// allocator's metadata. Queues hold items of similar size, so the entry
// that opens a chunk is a good guide.
func fullSize(sz int) int {
	if sz >= chunkMax {
		return sz
	}
	best, bestWaste := chunkSizes[0], chunkSizes[0]%sz
	for _, c := range chunkSizes[1:] {
		w := c % sz
		// Ties go to the bigger chunk: fewer objects for the GC and fewer
		// spans for the allocator to describe.
		if w*best <= bestWaste*c { // w/c <= bestWaste/best
			best, bestWaste = c, w
		}
	}
	return best
}

// memSize is the memory the list takes: its header, its ring and its
// chunk buffers.
func (l *list) memSize() int64 { return l.bytes + listHeader }

func (l *list) at(i int) *chunk { return &l.ring[(l.head+i)%len(l.ring)] }

func (l *list) growRing() {
	old := l.ring
	n := len(old) * 2
	if n == 0 {
		n = 4
	}
	ring := make([]chunk, n)
	for i := 0; i < l.nc; i++ {
		ring[i] = old[(l.head+i)%len(old)]
	}
	l.bytes += ringBytes(n) - ringBytes(len(old))
	l.ring, l.head = ring, 0
}

// shrinkRing gives back ring memory after a big drain.
func (l *list) shrinkRing() {
	if len(l.ring) <= 8 || l.nc > len(l.ring)/8 {
		return
	}
	n := len(l.ring) / 4
	ring := make([]chunk, n)
	for i := 0; i < l.nc; i++ {
		ring[i] = l.ring[(l.head+i)%len(l.ring)]
	}
	l.bytes -= ringBytes(len(l.ring)) - ringBytes(n)
	l.ring, l.head = ring, 0
}

// spareMax is the largest chunk buffer a list keeps for reuse.
const spareMax = 1024

func (l *list) newChunk(size int, atHead bool) chunk {
	var b []byte
	if sb := l.spareBuf; len(sb) >= size && len(sb) <= 4*size {
		// The list's own small buffer (see removeChunk).
		b, l.spareBuf = sb, nil
	} else {
		b = l.ep.spare.alloc(size)
	}
	l.bytes += int64(len(b))
	c := chunk{b: b, epoch: l.ep.cur}
	if atHead {
		c.lo, c.hi = int32(len(b)), int32(len(b))
	}
	return c
}

func (l *list) insertChunk(pos int, c chunk) {
	if l.nc == len(l.ring) {
		l.growRing()
	}
	switch {
	case pos == 0:
		l.head = (l.head - 1 + len(l.ring)) % len(l.ring)
		l.ring[l.head] = c
	case pos == l.nc:
		l.ring[(l.head+l.nc)%len(l.ring)] = c
	default:
		// Shift the tail part right by one slot.
		for i := l.nc; i > pos; i-- {
			*l.at(i) = *l.at(i - 1)
		}
		*l.at(pos) = c
	}
	l.nc++
}

func (l *list) removeChunk(pos int) {
	c := l.at(pos)
	l.bytes -= int64(len(c.b))
	if len(c.b) <= spareMax && (l.ep.frozen == 0 || c.epoch > l.ep.frozen) {
		// A small buffer stays with its list for the next chunk: a queue
		// that hovers near empty then allocates nothing. Not shared with
		// a snapshot: it may be written again.
		l.spareBuf = c.b
	} else {
		// Full-size buffers go to the keyspace's pool, reusable once the
		// Tx ends.
		l.ep.release(c)
	}
	switch {
	case pos == 0:
		*l.at(0) = chunk{}
		l.head = (l.head + 1) % len(l.ring)
	case pos == l.nc-1:
		*l.at(pos) = chunk{}
	default:
		for i := pos; i < l.nc-1; i++ {
			*l.at(i) = *l.at(i + 1)
		}
		*l.at(l.nc - 1) = chunk{}
	}
	l.nc--
	if l.nc == 0 {
		l.head = 0
	}
	l.shrinkRing()
}

// own makes c's buffer safe to write: a buffer visible to a live snapshot is
// copied first.
func (l *list) own(c *chunk) {
	if l.ep.frozen != 0 && c.epoch <= l.ep.frozen {
		nb := allocBuf(len(c.b))
		copy(nb, c.b)
		c.b, c.epoch = nb, l.ep.cur
	}
}

// resize gives c a buffer of at least need bytes and at most full,
// moving the entries to the end of the buffer if atHead (free space in
// front) or to the start.
func (l *list) resize(c *chunk, need, full int, atHead bool) {
	size := min(max(len(c.b)*2, need), full)
	nb := l.ep.spare.alloc(size)
	used := int(c.hi - c.lo)
	var lo int
	if atHead {
		lo = len(nb) - used
	}
	copy(nb[lo:], c.b[c.lo:c.hi])
	l.bytes += int64(len(nb) - len(c.b))
	l.ep.release(c)
	c.b, c.lo, c.hi, c.epoch = nb, int32(lo), int32(lo+used), l.ep.cur
}

// pushFront adds v at the head.
func (l *list) pushFront(v []byte) {
	sz := entrySize(len(v))
	full := fullSize(sz)
	if l.nc > 0 {
		c := l.at(0)
		if int(c.lo) >= sz {
			l.own(c)
			putEntry(c.b[int(c.lo)-sz:c.lo], v)
			c.lo -= int32(sz)
			c.n++
			l.n++
			return
		}
		if used := int(c.hi - c.lo); used+sz <= full && len(c.b) < full {
			l.resize(c, used+sz, full, true)
			putEntry(c.b[int(c.lo)-sz:c.lo], v)
			c.lo -= int32(sz)
			c.n++
			l.n++
			return
		}
	}
	size := full
	if l.nc == 0 {
		size = max(chunkMin, sz)
	}
	c := l.newChunk(max(size, sz), true)
	putEntry(c.b[int(c.lo)-sz:c.lo], v)
	c.lo -= int32(sz)
	c.n = 1
	l.insertChunk(0, c)
	l.n++
	if l.depth > 0 {
		l.fixEnds()
	}
}

// pushBack adds v at the tail.
func (l *list) pushBack(v []byte) {
	sz := entrySize(len(v))
	full := fullSize(sz)
	if l.nc > 0 {
		c := l.at(l.nc - 1)
		if len(c.b)-int(c.hi) >= sz {
			l.own(c)
			putEntry(c.b[c.hi:int(c.hi)+sz], v)
			c.hi += int32(sz)
			c.n++
			l.n++
			return
		}
		if used := int(c.hi - c.lo); used+sz <= full && len(c.b) < full {
			l.resize(c, used+sz, full, false)
			putEntry(c.b[c.hi:int(c.hi)+sz], v)
			c.hi += int32(sz)
			c.n++
			l.n++
			return
		}
	}
	size := full
	if l.nc == 0 {
		size = max(chunkMin, sz)
	}
	c := l.newChunk(max(size, sz), false)
	putEntry(c.b[:sz], v)
	c.hi = int32(sz)
	c.n = 1
	l.insertChunk(l.nc, c)
	l.n++
	if l.depth > 0 {
		l.fixEnds()
	}
}

// popFront removes and returns the head item. The returned slice aliases
// the list's memory: it is valid until the list is next modified.
func (l *list) popFront() []byte {
	c := l.at(0)
	v, next := entryAt(c.b, int(c.lo))
	c.lo = int32(next)
	c.n--
	l.n--
	if c.n == 0 {
		l.removeChunk(0)
		if l.depth > 0 {
			l.fixEnds()
		}
	}
	return v
}

// popBack removes and returns the tail item, aliasing like popFront.
func (l *list) popBack() []byte {
	c := l.at(l.nc - 1)
	v, start := entryBefore(c.b, int(c.hi))
	c.hi = int32(start)
	c.n--
	l.n--
	if c.n == 0 {
		l.removeChunk(l.nc - 1)
		if l.depth > 0 {
			l.fixEnds()
		}
	}
	return v
}

// locate returns the chunk index holding item i (0 <= i < n) and i's index
// within that chunk, walking from the nearer end.
func (l *list) locate(i int64) (ci int, k int) {
	if i < l.n/2 {
		for ci = 0; ci < l.nc; ci++ {
			n := int64(l.at(ci).n)
			if i < n {
				return ci, int(i)
			}
			i -= n
		}
	} else {
		j := l.n - 1 - i // index from the tail
		for ci = l.nc - 1; ci >= 0; ci-- {
			n := int64(l.at(ci).n)
			if j < n {
				return ci, int(n - 1 - j)
			}
			j -= n
		}
	}
	panic("queue: list index out of range")
}

// offsetOf returns the byte offset of entry k in chunk c.
func offsetOf(c *chunk, k int) int {
	if k <= int(c.n)/2 {
		p := int(c.lo)
		for ; k > 0; k-- {
			_, p = entryAt(c.b, p)
		}
		return p
	}
	q := int(c.hi)
	for j := int(c.n) - k; j > 0; j-- {
		_, q = entryBefore(c.b, q)
	}
	return q
}

// index returns item i (0-based from the head), aliasing list memory.
func (l *list) index(i int64) []byte {
	ci, k := l.locate(i)
	c := l.rawAt(ci)
	v, _ := entryAt(c.b, offsetOf(&c, k))
	return v
}

// iter walks items from the head (or the tail when reverse), calling fn
// with each item (aliasing list memory) until fn returns false. start is
// the index to begin at, counted from the end the walk begins at.
func (l *list) iter(start int64, reverse bool, fn func(v []byte) bool) {
	if start >= l.n || start < 0 {
		return
	}
	if !reverse {
		ci, k := l.locate(start)
		c := l.rawAt(ci)
		p := offsetOf(&c, k)
		for {
			for p < int(c.hi) {
				var v []byte
				v, p = entryAt(c.b, p)
				if !fn(v) {
					return
				}
			}
			ci++
			if ci >= l.nc {
				return
			}
			c = l.rawAt(ci)
			p = int(c.lo)
		}
	}
	ci, k := l.locate(l.n - 1 - start)
	c := l.rawAt(ci)
	q := offsetOf(&c, k+1)
	for {
		for q > int(c.lo) {
			var v []byte
			v, q = entryBefore(c.b, q)
			if !fn(v) {
				return
			}
		}
		ci--
		if ci < 0 {
			return
		}
		c = l.rawAt(ci)
		q = int(c.hi)
	}
}

// rebuild replaces chunk ci with chunks holding items, packing them afresh.
// It is the one path for edits in the middle (LSET, LINSERT, LREM), which
// Redis also implements by rewriting the listpack.
func (l *list) rebuild(ci int, items [][]byte) {
	old := *l.at(ci)
	l.n -= int64(old.n)
	l.removeChunkKeepRing(ci)
	pos := ci
	for len(items) > 0 {
		size := 0
		k := 0
		for k < len(items) {
			sz := entrySize(len(items[k]))
			if k > 0 && size+sz > rebuildMax {
				break
			}
			size += sz
			k++
		}
		c := l.newChunk(size, false)
		p := 0
		for _, v := range items[:k] {
			sz := entrySize(len(v))
			putEntry(c.b[p:p+sz], v)
			p += sz
		}
		c.hi = int32(p)
		c.n = int32(k)
		l.insertChunk(pos, c)
		pos++
		l.n += int64(k)
		items = items[k:]
	}
	if l.nc == 0 {
		l.head = 0
	}
}

// removeChunkKeepRing removes chunk pos without shrinking the ring (rebuild
// re-inserts right away).
func (l *list) removeChunkKeepRing(pos int) {
	l.bytes -= int64(len(l.at(pos).b))
	l.ep.release(l.at(pos))
	for i := pos; i < l.nc-1; i++ {
		*l.at(i) = *l.at(i + 1)
	}
	*l.at(l.nc - 1) = chunk{}
	l.nc--
}

// chunkItems returns copies of the items of chunk ci.
func (l *list) chunkItems(ci int) [][]byte {
	c := l.rawAt(ci)
	items := make([][]byte, 0, c.n)
	for p := int(c.lo); p < int(c.hi); {
		var v []byte
		v, p = entryAt(c.b, p)
		items = append(items, bytes.Clone(v))
	}
	return items
}

// set replaces item i with v.
func (l *list) set(i int64, v []byte) {
	ci, k := l.locate(i)
	items := l.chunkItems(ci)
	items[k] = v
	l.rebuild(ci, items)
	l.fixAll()
}

// insertAt inserts v so that it becomes item i (0 <= i <= n).
func (l *list) insertAt(i int64, v []byte) {
	switch {
	case i == 0:
		l.pushFront(v)
	case i == l.n:
		l.pushBack(v)
	default:
		ci, k := l.locate(i)
		items := l.chunkItems(ci)
		items = slices.Insert(items, k, v)
		l.rebuild(ci, items)
		l.fixAll()
	}
}

// removeWhere deletes up to limit items equal to v (all when limit is 0),
// scanning from the tail when fromTail, and returns how many it removed.
func (l *list) removeWhere(v []byte, limit int64, fromTail bool) int64 {
	var removed int64
	ci, step := 0, 1
	if fromTail {
		ci, step = l.nc-1, -1
	}
	for ci >= 0 && ci < l.nc && (limit == 0 || removed < limit) {
		c := l.rawAt(ci)
		// Cheap scan first: most chunks hold no match.
		hit := false
		for p := int(c.lo); p < int(c.hi); {
			var e []byte
			e, p = entryAt(c.b, p)
			if bytes.Equal(e, v) {
				hit = true
				break
			}
		}
		if !hit {
			ci += step
			continue
		}
		items := l.chunkItems(ci)
		kept := items[:0:0]
		if fromTail {
			kept = make([][]byte, len(items))
			w := len(items)
			for j := len(items) - 1; j >= 0; j-- {
				if (limit == 0 || removed < limit) && bytes.Equal(items[j], v) {
					removed++
					continue
				}
				w--
				kept[w] = items[j]
			}
			kept = kept[w:]
		} else {
			for _, e := range items {
				if (limit == 0 || removed < limit) && bytes.Equal(e, v) {
					removed++
					continue
				}
				kept = append(kept, e)
			}
		}
		before := l.nc
		if len(kept) == 0 {
			l.n -= int64(l.at(ci).n)
			l.removeChunkKeepRing(ci)
		} else {
			l.rebuild(ci, kept)
		}
		added := l.nc - before // chunks added (or -1 if removed)
		if step > 0 {
			ci += added + 1
		} else {
			ci--
		}
	}
	if l.nc == 0 {
		l.head = 0
	}
	l.shrinkRing()
	l.fixAll()
	return removed
}

// trim keeps items [start, stop] (inclusive, already clamped by the
// caller, start <= stop < n) and drops the rest.
func (l *list) trim(start, stop int64) {
	dropFront, dropBack := start, l.n-1-stop
	for dropFront > 0 && int64(l.at(0).n) <= dropFront {
		dropFront -= int64(l.at(0).n)
		l.n -= int64(l.at(0).n)
		l.removeChunk(0)
	}
	l.fixEnds()
	for ; dropFront > 0; dropFront-- {
		l.popFront()
	}
	for dropBack > 0 && int64(l.at(l.nc-1).n) <= dropBack {
		dropBack -= int64(l.at(l.nc - 1).n)
		l.n -= int64(l.at(l.nc - 1).n)
		l.removeChunk(l.nc - 1)
	}
	l.fixEnds()
	for ; dropBack > 0; dropBack-- {
		l.popBack()
	}
}

// snapshot returns a copy of the list's chunk descriptors for a reader that
// runs while the list keeps changing; see epochs.
func (l *list) snapshot() []chunk {
	out := make([]chunk, l.nc)
	for i := range out {
		out[i] = *l.at(i)
	}
	return out
}
