package coll

import (
	"bytes"
	"slices"
	"unsafe"
)

// A zorder keeps a big sorted set's members in (score, member) order with
// ranks: Redis's skiplist, without a node (and its pointers) per member.
// It is a two-level B-tree of sorted blocks, as queue's scanIndex is: the
// ordered list of blocks of at most zblock entries, each entry a score and
// the reference of the member's entry in the set's table arena. A block
// that fills splits in two; one under a quarter full merges with or
// borrows from a neighbour. Ranks come from a Fenwick tree over the block
// lengths, kept up to date on inserts and deletes inside a block and
// rebuilt lazily after a split or merge (each costs O(blocks), once per
// about zblock/4 writes at least).
type zorder struct {
	blocks [][]zent
	lasts  []zent // lasts[i] is blocks[i]'s last entry: search reads one array
	n      int
	fen    []int32 // fen[1..len(blocks)]: Fenwick tree over len(blocks[i])
	fenOK  bool
	bytes  int64
}

type zent struct {
	score float64
	ref   uint64 // page<<16 | offset of the member's entry in the table arena
}

const zblock = 128 // 128 entries of 16 bytes: a 2 KiB size class

var (
	zblockBytes  = heapSize(zblock * int(unsafe.Sizeof(zent{})))
	zorderHeader = heapSize(int(unsafe.Sizeof(zorder{})))
)

func (o *zorder) recount() {
	o.bytes = zorderHeader + int64(len(o.blocks))*zblockBytes +
		sliceBytes(cap(o.blocks), unsafe.Sizeof([]zent(nil))) + sliceBytes(cap(o.fen), 4) +
		sliceBytes(cap(o.lasts), unsafe.Sizeof(zent{}))
}

// member returns the member an entry refers to.
func (t *table) member(ref uint64) []byte {
	k, _ := readEntry(t.pages[ref>>16], int(ref&0xFFFF))
	return k
}

// search returns the position of the first entry for which pred holds;
// pred must be false then true along the order. (len(blocks), 0) if none.
func (o *zorder) search(pred func(e zent) bool) (int, int) {
	lo, hi := 0, len(o.blocks)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if pred(o.lasts[m]) {
			hi = m
		} else {
			lo = m + 1
		}
	}
	if lo == len(o.blocks) {
		return lo, 0
	}
	b := o.blocks[lo]
	i, j := 0, len(b)
	for i < j {
		m := int(uint(i+j) >> 1)
		if pred(b[m]) {
			j = m
		} else {
			i = m + 1
		}
	}
	return lo, i
}

// seek is search specialised for (score, member), the hot path of ZADD,
// ZREM and ZRANK: the first entry >= (score, member), or > if after.
// Scores compare inline; a member is read from the arena only on a tie.
func (o *zorder) seek(t *table, score float64, member []byte, after bool) (int, int) {
	past := func(e zent) bool {
		if e.score != score {
			return e.score > score
		}
		c := bytes.Compare(t.member(e.ref), member)
		return c > 0 || c == 0 && !after
	}
	lo, hi := 0, len(o.lasts)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if e := o.lasts[m]; e.score > score || e.score == score && past(e) {
			hi = m
		} else {
			lo = m + 1
		}
	}
	if lo == len(o.blocks) {
		return lo, 0
	}
	b := o.blocks[lo]
	i, j := 0, len(b)
	for i < j {
		m := int(uint(i+j) >> 1)
		if e := b[m]; e.score > score || e.score == score && past(e) {
			j = m
		} else {
			i = m + 1
		}
	}
	return lo, i
}

func (o *zorder) buildFen() {
	nb := len(o.blocks)
	if cap(o.fen) < nb+1 || cap(o.fen) > 4*(nb+1) {
		o.fen = make([]int32, nb+1, nb+1+nb/4)
		o.recount()
	}
	o.fen = o.fen[:nb+1]
	clear(o.fen)
	for i, b := range o.blocks {
		o.fen[i+1] += int32(len(b))
		if j := (i + 1) + (i+1)&-(i+1); j <= nb {
			o.fen[j] += o.fen[i+1]
		}
	}
	o.fenOK = true
}

func (o *zorder) fenAdd(bi int, d int32) {
	if !o.fenOK {
		return
	}
	for i := bi + 1; i < len(o.fen); i += i & -i {
		o.fen[i] += d
	}
}

// rank returns the rank of position (bi, i).
func (o *zorder) rank(bi, i int) int {
	if bi == len(o.blocks) {
		return o.n
	}
	if !o.fenOK {
		o.buildFen()
	}
	r := i
	for j := bi; j > 0; j -= j & -j {
		r += int(o.fen[j])
	}
	return r
}

// at returns the position of rank r (0 <= r < n).
func (o *zorder) at(r int) (int, int) {
	if !o.fenOK {
		o.buildFen()
	}
	pos := 0
	nb := len(o.blocks)
	step := 1
	for step*2 <= nb {
		step *= 2
	}
	for ; step > 0; step >>= 1 {
		if pos+step <= nb && int(o.fen[pos+step]) <= r {
			pos += step
			r -= int(o.fen[pos])
		}
	}
	return pos, r
}

// insert puts e at position (bi, i).
func (o *zorder) insert(bi, i int, e zent) {
	if len(o.blocks) == 0 {
		o.blocks = append(o.blocks, make([]zent, 0, zblock))
		o.lasts = append(o.lasts, zent{})
		o.fenOK = false
		o.recount()
	}
	if bi == len(o.blocks) {
		bi--
		i = len(o.blocks[bi])
	}
	b := o.blocks[bi]
	b = append(b, zent{})
	copy(b[i+1:], b[i:])
	b[i] = e
	o.blocks[bi] = b
	o.lasts[bi] = b[len(b)-1]
	o.n++
	if len(b) < zblock {
		o.fenAdd(bi, 1)
		return
	}
	// Split the full block in two halves.
	nb := make([]zent, zblock/2, zblock)
	copy(nb, b[zblock/2:])
	o.blocks[bi] = b[:zblock/2]
	o.blocks = append(o.blocks, nil)
	copy(o.blocks[bi+2:], o.blocks[bi+1:])
	o.blocks[bi+1] = nb
	o.lasts = slices.Insert(o.lasts, bi, o.blocks[bi][zblock/2-1])
	o.fenOK = false
	o.recount()
}

// remove deletes the entry at (bi, i).
func (o *zorder) remove(bi, i int) {
	b := o.blocks[bi]
	copy(b[i:], b[i+1:])
	b = b[:len(b)-1]
	o.blocks[bi] = b
	if len(b) > 0 {
		o.lasts[bi] = b[len(b)-1]
	}
	o.n--
	switch {
	case len(b) == 0:
		o.dropBlock(bi)
	case len(b) < zblock/4 && len(o.blocks) > 1:
		// Merge with a neighbour if both fit in one block, else even out.
		nbi := bi + 1
		if nbi == len(o.blocks) {
			nbi = bi - 1
		}
		lo, hi := min(bi, nbi), max(bi, nbi)
		a, c := o.blocks[lo], o.blocks[hi]
		if len(a)+len(c) <= zblock*3/4 {
			o.blocks[lo] = append(a, c...)
			o.lasts[lo] = o.lasts[hi]
			o.dropBlock(hi)
		} else {
			all := append(append(make([]zent, 0, len(a)+len(c)), a...), c...)
			half := len(all) / 2
			o.blocks[lo] = append(a[:0], all[:half]...)
			o.blocks[hi] = append(c[:0], all[half:]...)
			o.lasts[lo] = all[half-1]
			o.fenOK = false
		}
	default:
		o.fenAdd(bi, -1)
	}
}

func (o *zorder) dropBlock(bi int) {
	copy(o.blocks[bi:], o.blocks[bi+1:])
	o.blocks[len(o.blocks)-1] = nil
	o.blocks = o.blocks[:len(o.blocks)-1]
	o.lasts = slices.Delete(o.lasts, bi, bi+1)
	if cap(o.blocks) > 64 && len(o.blocks) < cap(o.blocks)/4 {
		o.blocks = append([][]zent(nil), o.blocks...)
		o.lasts = append([]zent(nil), o.lasts...)
	}
	o.fenOK = false
	o.recount()
}

// iter calls fn with the entries from rank r on, ascending or descending,
// until fn returns false.
func (o *zorder) iter(r int, reverse bool, fn func(e zent) bool) {
	if r < 0 || r >= o.n {
		return
	}
	bi, i := o.at(r)
	if !reverse {
		for ; bi < len(o.blocks); bi, i = bi+1, 0 {
			for _, e := range o.blocks[bi][i:] {
				if !fn(e) {
					return
				}
			}
		}
		return
	}
	for {
		b := o.blocks[bi]
		for ; i >= 0; i-- {
			if !fn(b[i]) {
				return
			}
		}
		if bi == 0 {
			return
		}
		bi--
		i = len(o.blocks[bi]) - 1
	}
}

// eachRef yields a pointer to every entry's reference, for table.compact.
func (o *zorder) eachRef(fn func(ref *uint64)) {
	for bi, b := range o.blocks {
		for i := range b {
			fn(&b[i].ref)
		}
		o.lasts[bi] = b[len(b)-1]
	}
}
