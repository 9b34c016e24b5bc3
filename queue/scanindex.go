package queue

import (
	"cmp"
	"slices"
	"unsafe"
)

// A scanIndex keeps a database's keys in SCAN order, (scanHash(key), key),
// so that a SCAN call costs O(log N + COUNT) instead of a walk of the whole
// map: a full iteration of a million keys COUNT 100 is then a second, not
// hours. Redis gets the same from its reverse-binary cursor over the hash
// table's buckets; a Go map has no stable bucket order to resume from.
//
// The index is two levels of sorted slices: blocks of at most scanBlock
// entries, and the ordered list of those blocks. An insert or delete
// binary-searches the list, then moves at most scanBlock entries within a
// block; a full block splits in two, and a block under a quarter full is
// merged with (or refilled from) a neighbour, so every block but a lone one
// holds at least scanBlock/4 entries. The key strings are the map's own:
// an entry costs its 24 bytes in a block, and blocks are allocated with a
// capacity of exactly scanBlock entries, a size class, so memory is
// counted exactly (bytes).
//
// A database keeps an index only while it has many keys (scanIndexOn):
// below that, SCAN's walk of the map is cheap, and the queue's hot path (a
// few keys created by a push and deleted by the pop that empties them)
// pays nothing for the index but a nil check.
type scanIndex struct {
	blocks [][]scanEntry // in order, none empty
	n      int           // entries
	bytes  int64         // heap bytes: the blocks and the block list
}

type scanEntry struct {
	h uint64
	k string
}

const (
	// scanBlock is the capacity of a block: 64 entries of 24 bytes are
	// 1536 bytes, one of the allocator's size classes.
	scanBlock = 64
	// A database gets an index when it reaches scanIndexOn keys and drops
	// it below scanIndexOff; the gap keeps a database hovering around the
	// threshold from building and dropping it over and over.
	scanIndexOn  = 1024
	scanIndexOff = 512
)

var (
	scanEntrySize = int(unsafe.Sizeof(scanEntry{}))
	scanBlockSize = heapSize(scanBlock * scanEntrySize)
	scanSliceSize = int(unsafe.Sizeof([]scanEntry(nil)))
)

func (a scanEntry) compare(b scanEntry) int {
	if c := cmp.Compare(a.h, b.h); c != 0 {
		return c
	}
	return cmp.Compare(a.k, b.k)
}

// newScanIndex builds the index of keys.
func newScanIndex(keys map[string]*value) *scanIndex {
	all := make([]scanEntry, 0, len(keys))
	for k := range keys {
		all = append(all, scanEntry{scanHash(k), k})
	}
	slices.SortFunc(all, scanEntry.compare)
	// Blocks three quarters full leave room for inserts before splits.
	const fill = scanBlock * 3 / 4
	ix := &scanIndex{n: len(all)}
	ix.blocks = make([][]scanEntry, 0, (len(all)+fill-1)/fill)
	for i := 0; i < len(all); i += fill {
		b := make([]scanEntry, 0, scanBlock)
		ix.blocks = append(ix.blocks, append(b, all[i:min(i+fill, len(all))]...))
	}
	ix.bytes = int64(len(ix.blocks))*scanBlockSize + ix.listBytes()
	return ix
}

func (ix *scanIndex) listBytes() int64 { return heapSize(cap(ix.blocks) * scanSliceSize) }

// block returns the index of the block that holds e or where e belongs:
// the first whose last entry is >= e, or the last block.
//
// The searches are written out rather than slices.BinarySearchFunc's: a
// comparison through a func value makes e's key escape, and then every
// caller of dropKey would allocate the string it converts a key to.
func (ix *scanIndex) block(e scanEntry) int {
	lo, hi := 0, len(ix.blocks)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if b := ix.blocks[m]; b[len(b)-1].compare(e) < 0 {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return min(lo, len(ix.blocks)-1)
}

// search returns where e is or belongs in b, and whether it is there.
func search(b []scanEntry, e scanEntry) (int, bool) {
	lo, hi := 0, len(b)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if b[m].compare(e) < 0 {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo, lo < len(b) && b[lo].compare(e) == 0
}

// insert adds key, which must be absent, and returns the bytes it added.
func (ix *scanIndex) insert(key string) int64 {
	e := scanEntry{scanHash(key), key}
	before := ix.bytes
	ix.n++
	if len(ix.blocks) == 0 {
		ix.blocks = append(ix.blocks, append(make([]scanEntry, 0, scanBlock), e))
		ix.bytes = scanBlockSize + ix.listBytes()
		return ix.bytes - before
	}
	bi := ix.block(e)
	b := ix.blocks[bi]
	if len(b) == scanBlock {
		// Split: the upper half moves to a new block after this one.
		nb := append(make([]scanEntry, 0, scanBlock), b[scanBlock/2:]...)
		clear(b[scanBlock/2:])
		b = b[:scanBlock/2]
		ix.blocks[bi] = b
		oldCap := cap(ix.blocks)
		ix.blocks = slices.Insert(ix.blocks, bi+1, nb)
		ix.bytes += scanBlockSize
		if cap(ix.blocks) != oldCap {
			ix.bytes += heapSize(cap(ix.blocks)*scanSliceSize) - heapSize(oldCap*scanSliceSize)
		}
		if e.compare(nb[0]) >= 0 {
			bi++
			b = nb
		}
	}
	i, _ := search(b, e)
	ix.blocks[bi] = slices.Insert(b, i, e)
	return ix.bytes - before
}

// remove deletes key, which must be present, and returns the bytes it
// freed.
func (ix *scanIndex) remove(key string) int64 {
	e := scanEntry{scanHash(key), key}
	before := ix.bytes
	bi := ix.block(e)
	b := ix.blocks[bi]
	i, found := search(b, e)
	if !found {
		panic("queue: scan index out of step with the keys")
	}
	b = slices.Delete(b, i, i+1)
	ix.blocks[bi] = b
	ix.n--
	if len(b) < scanBlock/4 && len(ix.blocks) > 1 {
		// Merge with a neighbour if both fit in one block, else even
		// them out, so no block but a lone one is under a quarter full.
		lo := max(bi-1, 0)
		left, right := ix.blocks[lo], ix.blocks[lo+1]
		if len(left)+len(right) <= scanBlock {
			ix.blocks[lo] = append(left, right...)
			ix.blocks = slices.Delete(ix.blocks, lo+1, lo+2) // right is dropped
			ix.bytes -= scanBlockSize
		} else {
			all := append(append(make([]scanEntry, 0, len(left)+len(right)), left...), right...)
			half := len(all) / 2
			// Zero what the shorter halves leave behind, so no
			// stale entry keeps a deleted key's string alive.
			clear(left)
			clear(right)
			ix.blocks[lo] = append(left[:0], all[:half]...)
			ix.blocks[lo+1] = append(right[:0], all[half:]...)
		}
	}
	if len(b) == 0 && len(ix.blocks) == 1 {
		ix.blocks = ix.blocks[:0]
		ix.bytes = ix.listBytes()
	}
	return before - ix.bytes
}

// scan calls fn for up to count entries whose hash is at or after cursor,
// in order, and returns the hash of the entry after them (0: none).
func (ix *scanIndex) scan(cursor uint64, count int, fn func(key string)) uint64 {
	if len(ix.blocks) == 0 {
		return 0
	}
	start := scanEntry{h: cursor}
	bi := ix.block(start)
	i, _ := search(ix.blocks[bi], start)
	n := 0
	for ; bi < len(ix.blocks); bi, i = bi+1, 0 {
		for _, e := range ix.blocks[bi][i:] {
			if n == count {
				return e.h
			}
			fn(e.k)
			n++
		}
	}
	return 0
}
