package coll

import (
	"bytes"
	"math/rand/v2"
	"unsafe"
)

// A table is the big encoding of hashes, sets and sorted sets (Redis's
// "hashtable", and the dict half of "skiplist"): a map from byte strings to
// byte strings with no pointer per element for the GC to scan.
//
// Entries live in an arena of pages: key and value packed back to back
// (entrySize each). The arena is append-only: an update appends the new
// entry and counts the old one dead; when the dead bytes outweigh the live
// ones, compact copies the live entries to fresh pages. Bytes a snapshot
// can see are therefore never written again, and the arena needs no copy
// on write.
//
// The index is open addressing with linear probing over a power-of-two
// number of uint64 slots, split into blocks of blockSlots so that a
// snapshot shares them and a writer copies only the block it changes. A
// slot holds the top 24 bits of the key's hash (a tag that spares most
// arena reads) and a reference to the entry; 0 is empty. A key's home
// slot is the top bits of its hash, so the table is ordered by hash: this
// is what SCAN's cursor relies on (see scan). Deletion shifts the rest of
// the probe run back (no tombstones), so a lookup stops at the first empty
// slot.
type table struct {
	blocks  [][]uint64
	bepochs []uint32 // epoch of each block's buffer
	lg      uint8    // log2 of the number of slots
	n       int

	pages [][]byte // arena; offsets within a page fit in 16 bits
	live  int64    // arena bytes of live entries
	dead  int64    // arena bytes of replaced and deleted entries

	ep    *Epochs
	bytes int64 // heap bytes of everything above, see recount
}

const (
	blockShift = 10
	blockSlots = 1 << blockShift // 8 KiB of slots per block
	pageMax    = 1 << 16         // offsets within a page are 16 bits
	tagShift   = 40              // slot: tag (24 bits) | ref+1 (40 bits)
	refMask    = 1<<tagShift - 1
	minLg      = 3
)

var tableHeader = heapSize(int(unsafe.Sizeof(table{})))

func newTable(ep *Epochs, hint int) *table {
	t := &table{ep: ep}
	lg := uint8(minLg)
	for 1<<lg*3/4 < hint {
		lg++
	}
	t.initIndex(lg)
	t.recount()
	return t
}

func (t *table) slots() int { return 1 << t.lg }

func (t *table) initIndex(lg uint8) {
	t.lg = lg
	size := 1 << lg
	nb := (size + blockSlots - 1) / blockSlots
	t.blocks = make([][]uint64, nb)
	t.bepochs = make([]uint32, nb)
	for i := range t.blocks {
		t.blocks[i] = make([]uint64, min(size, blockSlots))
		t.bepochs[i] = t.ep.Cur
	}
}

// recount sets bytes from the buffers' capacities; it runs after every
// change of shape (a page added, the index resized, compaction), which
// happen once per many writes.
func (t *table) recount() {
	b := tableHeader
	for _, blk := range t.blocks {
		b += sliceBytes(cap(blk), 8)
	}
	b += sliceBytes(cap(t.blocks), unsafe.Sizeof([]uint64(nil))) + sliceBytes(cap(t.bepochs), 4)
	for _, p := range t.pages {
		b += int64(cap(p))
	}
	b += sliceBytes(cap(t.pages), bytesHeader)
	t.bytes = b
}

func (t *table) slot(i int) uint64 { return t.blocks[i>>blockShift][i&(blockSlots-1)] }

func (t *table) setSlot(i int, s uint64) {
	bi := i >> blockShift
	if t.ep.shared(t.bepochs[bi]) {
		t.blocks[bi] = append(make([]uint64, 0, len(t.blocks[bi])), t.blocks[bi]...)
		t.bepochs[bi] = t.ep.Cur
	}
	t.blocks[bi][i&(blockSlots-1)] = s
}

func (t *table) mask() int { return 1<<t.lg - 1 }

func (t *table) homeOfHash(h uint64) int { return int(h >> (64 - t.lg)) }

// home is the home slot of the entry in slot s.
func (t *table) home(s uint64) int {
	if t.lg <= 24 {
		return int(s>>tagShift) >> (24 - t.lg)
	}
	k, _ := t.entry(s)
	return t.homeOfHash(hashOf(k))
}

// entry decodes the key and value that slot s refers to.
func (t *table) entry(s uint64) (k, v []byte) {
	ref := s&refMask - 1
	p := t.pages[ref>>16]
	k, off := readEntry(p, int(ref&0xFFFF))
	v, _ = readEntry(p, off)
	return k, v
}

func refSize(k, v []byte) int64 { return int64(entrySize(len(k)) + entrySize(len(v))) }

// find returns the slot holding key (found) or the empty slot that ends
// its probe run.
func (t *table) find(key []byte, h uint64) (int, bool) {
	tag := h >> tagShift
	m := t.mask()
	for i := t.homeOfHash(h); ; i = (i + 1) & m {
		s := t.slot(i)
		if s == 0 {
			return i, false
		}
		if s>>tagShift == tag {
			if k, _ := t.entry(s); bytes.Equal(k, key) {
				return i, true
			}
		}
	}
}

func (t *table) get(key []byte) ([]byte, bool) {
	i, ok := t.find(key, hashOf(key))
	if !ok {
		return nil, false
	}
	_, v := t.entry(t.slot(i))
	return v, true
}

// put sets key to val and reports whether key is new. It returns the
// arena reference of the new entry.
func (t *table) put(key, val []byte) (added bool, ref uint64) {
	h := hashOf(key)
	i, found := t.find(key, h)
	if found {
		ok, ov := t.entry(t.slot(i))
		t.dead += refSize(ok, ov)
		t.live -= refSize(ok, ov)
	} else if (t.n+1)*4 > t.slots()*3 {
		t.resize(t.lg + 1)
		i, _ = t.find(key, h)
	}
	ref = t.appendEntry(key, val)
	t.setSlot(i, h>>tagShift<<tagShift|(ref+1))
	if !found {
		t.n++
	}
	return !found, ref
}

// del removes key and reports whether it was there.
func (t *table) del(key []byte) bool {
	i, found := t.find(key, hashOf(key))
	if !found {
		return false
	}
	t.delSlot(i)
	t.maybeShrink()
	return true
}

// delSlot empties slot i and shifts the rest of its probe run back so that
// every entry stays reachable from its home (Knuth's algorithm R).
func (t *table) delSlot(i int) {
	k, v := t.entry(t.slot(i))
	t.dead += refSize(k, v)
	t.live -= refSize(k, v)
	t.n--
	m := t.mask()
	for j := (i + 1) & m; ; j = (j + 1) & m {
		s := t.slot(j)
		if s == 0 {
			break
		}
		h := t.home(s)
		// s may move to i unless its home lies cyclically in (i, j].
		if (j > i && (h <= i || h > j)) || (j < i && h <= i && h > j) {
			t.setSlot(i, s)
			i = j
		}
	}
	t.setSlot(i, 0)
}

// appendEntry packs key and val at the end of the arena and returns its
// reference: page<<16 | offset.
func (t *table) appendEntry(key, val []byte) uint64 {
	sz := entrySize(len(key)) + entrySize(len(val))
	t.live += int64(sz)
	np := len(t.pages)
	if np > 0 {
		last := t.pages[np-1]
		switch {
		case len(last)+sz <= cap(last) && len(last)+sz <= pageMax:
		case len(last)+sz <= pageMax && cap(last) < pageMax:
			// Grow the last page: small tables stay small. The old buffer
			// stays with any snapshot that holds it.
			nb := allocBuf(min(pageMax, max(2*cap(last), len(last)+sz)))
			last = append(nb, last...)
			t.bytes += int64(cap(last) - cap(t.pages[np-1]))
		default:
			np = -1
		}
		if np > 0 {
			off := len(last)
			last = appendEntry(appendEntry(last, key), val)
			t.pages[np-1] = last
			return uint64(np-1)<<16 | uint64(off)
		}
	}
	size := sz
	if sz < pageMax {
		size = min(pageMax, max(sz, 256, int(t.live/4)))
	}
	p := appendEntry(appendEntry(allocBuf(size), key), val)
	t.pages = append(t.pages, p)
	t.recount()
	return uint64(len(t.pages)-1) << 16
}

// resize rebuilds the index with 2^lg slots. Homes are the top bits of
// the hash, so walking the old slots in order inserts in nearly
// ascending home order.
func (t *table) resize(lg uint8) {
	old := t.blocks
	oldLg := t.lg
	t.initIndex(lg)
	m := t.mask()
	fast := oldLg <= 24 && lg <= 24
	for _, blk := range old {
		for _, s := range blk {
			if s == 0 {
				continue
			}
			var h int
			if fast {
				h = int(s>>tagShift) >> (24 - lg)
			} else {
				h = t.home(s)
			}
			// The new blocks are this epoch's: written directly.
			for {
				b := t.blocks[h>>blockShift]
				if b[h&(blockSlots-1)] == 0 {
					b[h&(blockSlots-1)] = s
					break
				}
				h = (h + 1) & m
			}
		}
	}
	t.recount()
}

// maybeShrink halves the index while it is under 1/8 full, so that
// random picks (which probe until they hit an entry) stay cheap.
func (t *table) maybeShrink() {
	if t.lg <= minLg || t.n*8 >= t.slots() {
		return
	}
	lg := t.lg
	for lg > minLg && t.n*8 < 1<<lg {
		lg--
	}
	// Leave room to grow before the next resize.
	if lg < t.lg {
		t.resize(lg)
	}
}

// needsCompact reports whether the dead entries take more room than the
// live ones; the owner then calls compact (after put or del, never in the
// middle of an operation that holds references).
func (t *table) needsCompact() bool { return t.dead >= 4096 && t.dead >= t.live }

// compact rewrites the arena with only the live entries. With each nil it
// walks the index; the sorted set passes its order so that it can repoint
// its own references to the entries (each yields a pointer to every ref,
// which compact updates).
func (t *table) compact(each func(func(ref *uint64))) {
	old := t.pages
	t.pages, t.live, t.dead = nil, 0, 0
	move := func(ref uint64) (k []byte, nref uint64) {
		p := old[ref>>16]
		k, off := readEntry(p, int(ref&0xFFFF))
		v, _ := readEntry(p, off)
		return k, t.appendEntry(k, v)
	}
	if each == nil {
		for i := 0; i < t.slots(); i++ {
			if s := t.slot(i); s != 0 {
				_, nref := move(s&refMask - 1)
				t.setSlot(i, s&^refMask|(nref+1))
			}
		}
	} else {
		// The index is rebuilt from the new references: a half-updated one
		// would mix old and new pages.
		t.initIndex(t.lg)
		m := t.mask()
		each(func(ref *uint64) {
			k, nref := move(*ref)
			*ref = nref
			h := hashOf(k)
			i := t.homeOfHash(h)
			for t.slot(i) != 0 {
				i = (i + 1) & m
			}
			t.setSlot(i, h&^refMask|(nref+1))
		})
	}
	t.recount()
}

// each calls fn with every entry in slot order until fn returns false.
// The slices alias the arena: valid until the table is next changed.
func (t *table) each(fn func(k, v []byte) bool) {
	for _, blk := range t.blocks {
		for _, s := range blk {
			if s != 0 {
				if k, v := t.entry(s); !fn(k, v) {
					return
				}
			}
		}
	}
}

// random returns a uniformly chosen slot holding an entry; the table must
// not be empty. The index is kept at least 1/8 full (maybeShrink), so this
// takes 8 probes at most on average.
func (t *table) random(r *rand.Rand) uint64 {
	m := uint64(t.mask())
	for {
		if s := t.slot(int(r.Uint64() & m)); s != 0 {
			return s
		}
	}
}

// scan calls fn with every entry whose hash lies in [cursor, next) and
// returns next, 0 when the scan is complete. It visits whole home buckets
// until count entries are returned.
//
// The cursor is a position in hash order, not a slot number: slot i of a
// table of 2^lg slots is home to the hashes whose top lg bits are i, so
// bucket i covers [i<<(64-lg), (i+1)<<(64-lg)). Everything with a hash
// below the cursor was returned by earlier calls. Growing the table
// splits each bucket in two, shrinking merges two, and neither moves a
// hash across a cursor boundary: an entry present for the whole scan is
// returned at least once whatever the resizes (after a shrink the cursor
// is rounded down to a bucket start, which may repeat entries, as Redis's
// reverse-binary cursor does).
func (t *table) scan(cursor uint64, count int, fn func(k, v []byte)) uint64 {
	count = max(count, 1)
	b := int(cursor >> (64 - t.lg))
	nb := t.slots()
	m := t.mask()
	emitted := 0
	for b < nb && emitted < count {
		// Entries homed at b sit in the probe run from slot b to the next
		// empty slot.
		for i := b; ; i = (i + 1) & m {
			s := t.slot(i)
			if s == 0 {
				break
			}
			if t.home(s) == b {
				k, v := t.entry(s)
				fn(k, v)
				emitted++
			}
		}
		b++
	}
	if b >= nb {
		return 0
	}
	return uint64(b) << (64 - t.lg)
}

// tableView is a table as it was when a snapshot froze it.
type tableView struct {
	blocks [][]uint64
	pages  [][]byte
}

func (t *table) view() tableView {
	return tableView{blocks: append([][]uint64(nil), t.blocks...), pages: append([][]byte(nil), t.pages...)}
}

func (v tableView) each(fn func(k, val []byte) bool) {
	for _, blk := range v.blocks {
		for _, s := range blk {
			if s == 0 {
				continue
			}
			ref := s&refMask - 1
			p := v.pages[ref>>16]
			k, off := readEntry(p, int(ref&0xFFFF))
			val, _ := readEntry(p, off)
			if !fn(k, val) {
				return
			}
		}
	}
}
