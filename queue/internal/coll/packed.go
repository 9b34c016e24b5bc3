package coll

// A packed buffer is the small encoding of every collection (Redis's
// listpack and intset): entries back to back in one []byte, so a small
// hash costs one allocation and the GC one pointer. Writers change it in
// place unless a snapshot shares it (see Epochs), in which case splice
// copies it first.
type packed struct {
	b     []byte
	n     int    // entries (pairs for a hash)
	epoch uint32 // ep.Cur when b was allocated
}

// splice replaces del bytes at off by add bytes and returns the region to
// fill. Like listpack's realloc, the buffer is sized to the allocator's
// size class for what it holds, and given back when mostly empty.
func (p *packed) splice(ep *Epochs, off, del, add int) []byte {
	old := len(p.b)
	newLen := old - del + add
	if ep.shared(p.epoch) || newLen > cap(p.b) || newLen < cap(p.b)/4 && cap(p.b) > 64 {
		nb := allocBuf(newLen)[:newLen]
		copy(nb, p.b[:off])
		copy(nb[off+add:], p.b[off+del:])
		p.b, p.epoch = nb, ep.Cur
	} else {
		p.b = p.b[:max(old, newLen)]
		copy(p.b[off+add:], p.b[off+del:old])
		p.b = p.b[:newLen]
	}
	return p.b[off : off+add]
}

// putEntry writes v as an entry at the start of dst and returns its size.
func putEntry(dst, v []byte) int {
	e := appendEntry(dst[:0], v)
	return len(e)
}
