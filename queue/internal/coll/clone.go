package coll

import "slices"

// Clones are for COPY: a full copy of the buffers, with no rehashing or
// re-sorting (Redis's COPY duplicates the value too). The copy shares
// nothing with the original, so each can change without the other seeing
// it, and Bytes() of each counts its own buffers.

func (p packed) clone(ep *Epochs) packed {
	if p.b == nil {
		return packed{}
	}
	return packed{b: append(allocBuf(len(p.b)), p.b...), n: p.n, epoch: ep.Cur}
}

func (t *table) clone() *table {
	c := &table{lg: t.lg, n: t.n, live: t.live, dead: t.dead, ep: t.ep}
	c.blocks = make([][]uint64, len(t.blocks), cap(t.blocks))
	c.bepochs = make([]uint32, len(t.blocks), cap(t.bepochs))
	for i, b := range t.blocks {
		c.blocks[i] = slices.Clone(b)
		c.bepochs[i] = t.ep.Cur
	}
	c.pages = make([][]byte, len(t.pages), cap(t.pages))
	for i, p := range t.pages {
		c.pages[i] = append(allocBuf(cap(p)), p...)
	}
	c.recount()
	return c
}

func (o *zorder) clone() *zorder {
	c := &zorder{n: o.n, fenOK: o.fenOK}
	c.lasts = append(make([]zent, 0, cap(o.lasts)), o.lasts...)
	c.fen = append(make([]int32, 0, cap(o.fen)), o.fen...)
	c.blocks = make([][]zent, len(o.blocks), cap(o.blocks))
	for i, b := range o.blocks {
		c.blocks[i] = append(make([]zent, 0, zblock), b...)
	}
	c.recount()
	return c
}

// Clone returns a copy of the hash in the same encoding.
func (h *Hash) Clone() *Hash {
	c := &Hash{lim: h.lim, ep: h.ep, lp: h.lp.clone(h.ep)}
	if h.t != nil {
		c.t = h.t.clone()
	}
	return c
}

// Clone returns a copy of the set in the same encoding.
func (s *Set) Clone() *Set {
	c := &Set{lim: s.lim, ep: s.ep, is: s.is.clone(s.ep), w: s.w}
	if s.t != nil {
		c.t = s.t.clone()
	}
	return c
}

// Clone returns a copy of the sorted set in the same encoding.
func (z *ZSet) Clone() *ZSet {
	c := &ZSet{lim: z.lim, ep: z.ep, lp: z.lp.clone(z.ep)}
	if z.t != nil {
		c.t, c.o = z.t.clone(), z.o.clone()
	}
	return c
}
