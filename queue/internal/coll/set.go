package coll

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"strconv"
	"unsafe"
)

// A Set is a Redis set. Following Redis 7.0, it has two encodings: an
// "intset" (sorted integers packed at the narrowest of 2, 4 or 8 bytes
// that fits them all, as Redis's intset.c) while every member is an
// integer as Redis's string2ll accepts it (ParseInt) and there are at most
// SetMaxIntsetEntries of them, and a table ("hashtable") otherwise. A set
// never converts back. (Redis 7.2 added a listpack encoding for small
// non-integer sets; 7.0 has none.)
//
// Members returned alias the set's memory or the caller's buffer, as each
// method says. A Set is not safe for concurrent use.
type Set struct {
	lim *Limits
	ep  *Epochs
	is  packed // intset: is.n values of width w bytes, ascending
	w   uint8
	t   *table
}

var setHeader = heapSize(int(unsafe.Sizeof(Set{})))

// NewSet returns an empty set in the intset encoding. SADD on a new key
// (Redis's setTypeCreate) then gives an intset if its first member is an
// integer and a hashtable otherwise, as in Redis.
func NewSet(lim *Limits, ep *Epochs) *Set { return &Set{lim: lim, ep: ep, w: 2} }

// NewSetSized returns an empty set for n members that may not all be
// integers, in the hashtable encoding sized for them; SINTERSTORE and the
// other *STORE commands that know their result is not an intset use it.
func NewSetSized(lim *Limits, ep *Epochs, n int) *Set {
	return &Set{lim: lim, ep: ep, w: 2, t: newTable(ep, n)}
}

// Len returns the number of members.
func (s *Set) Len() int {
	if s.t != nil {
		return s.t.n
	}
	return s.is.n
}

// Encoding returns the name OBJECT ENCODING reports.
func (s *Set) Encoding() string {
	if s.t != nil {
		return "hashtable"
	}
	return "intset"
}

// Bytes returns the heap memory the set takes, header included.
func (s *Set) Bytes() int64 {
	b := setHeader + int64(cap(s.is.b))
	if s.t != nil {
		b += s.t.bytes
	}
	return b
}

func widthOf(v int64) uint8 {
	switch {
	case v >= math.MinInt16 && v <= math.MaxInt16:
		return 2
	case v >= math.MinInt32 && v <= math.MaxInt32:
		return 4
	}
	return 8
}

func intAt(b []byte, w uint8, i int) int64 {
	switch w {
	case 2:
		return int64(int16(binary.LittleEndian.Uint16(b[2*i:])))
	case 4:
		return int64(int32(binary.LittleEndian.Uint32(b[4*i:])))
	}
	return int64(binary.LittleEndian.Uint64(b[8*i:]))
}

func putInt(b []byte, w uint8, v int64) {
	switch w {
	case 2:
		binary.LittleEndian.PutUint16(b, uint16(v))
	case 4:
		binary.LittleEndian.PutUint32(b, uint32(v))
	default:
		binary.LittleEndian.PutUint64(b, uint64(v))
	}
}

// isSearch returns the index of v in the intset, or where it would go.
func (s *Set) isSearch(v int64) (int, bool) {
	lo, hi := 0, s.is.n
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if intAt(s.is.b, s.w, m) < v {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo, lo < s.is.n && intAt(s.is.b, s.w, lo) == v
}

// Contains reports whether m is a member.
func (s *Set) Contains(m []byte) bool {
	if s.t != nil {
		_, ok := s.t.get(m)
		return ok
	}
	v, ok := ParseInt(m)
	if !ok {
		return false
	}
	_, found := s.isSearch(v)
	return found
}

// Add adds m and reports whether it is new.
func (s *Set) Add(m []byte) bool {
	if s.t == nil {
		v, ok := ParseInt(m)
		if !ok {
			s.convert(s.is.n + 1)
		} else {
			added := s.isAdd(v)
			if s.is.n > s.lim.SetMaxIntsetEntries {
				s.convert(s.is.n)
			}
			return added
		}
	}
	added, _ := s.t.put(m, nil)
	return added
}

func (s *Set) isAdd(v int64) bool {
	if w := widthOf(v); w > s.w {
		// Upgrade every value to the new width (intsetUpgradeAndAdd).
		nb := allocBuf(int(w) * (s.is.n + 1))[:int(w)*s.is.n]
		for i := 0; i < s.is.n; i++ {
			putInt(nb[int(w)*i:], w, intAt(s.is.b, s.w, i))
		}
		s.is.b, s.is.epoch, s.w = nb, s.ep.Cur, w
	}
	i, found := s.isSearch(v)
	if found {
		return false
	}
	w := int(s.w)
	putInt(s.is.splice(s.ep, i*w, 0, w), s.w, v)
	s.is.n++
	return true
}

// Remove removes m and reports whether it was there.
func (s *Set) Remove(m []byte) bool {
	if s.t != nil {
		if !s.t.del(m) {
			return false
		}
		if s.t.needsCompact() {
			s.t.compact(nil)
		}
		return true
	}
	v, ok := ParseInt(m)
	if !ok {
		return false
	}
	i, found := s.isSearch(v)
	if !found {
		return false
	}
	w := int(s.w)
	s.is.splice(s.ep, i*w, w, 0)
	s.is.n--
	return true
}

func (s *Set) convert(hint int) {
	t := newTable(s.ep, hint)
	var buf [20]byte
	for i := 0; i < s.is.n; i++ {
		t.put(strconv.AppendInt(buf[:0], intAt(s.is.b, s.w, i), 10), nil)
	}
	s.t, s.is = t, packed{}
}

// Each calls fn with every member until fn returns false: ascending for
// an intset (as Redis replies), in table order for a hashtable. The
// member is only valid during the call; fn must not change the set.
func (s *Set) Each(fn func(m []byte) bool) {
	if s.t != nil {
		s.t.each(func(k, _ []byte) bool { return fn(k) })
		return
	}
	eachInt(s.is.b, s.w, s.is.n, fn)
}

func eachInt(b []byte, w uint8, n int, fn func(m []byte) bool) {
	var buf [20]byte
	for i := 0; i < n; i++ {
		if !fn(strconv.AppendInt(buf[:0], intAt(b, w, i), 10)) {
			return
		}
	}
}

// Random appends a member chosen uniformly at random to buf and returns
// it; the set must not be empty.
func (s *Set) Random(r *rand.Rand, buf []byte) []byte {
	if s.t != nil {
		k, _ := s.t.entry(s.t.random(r))
		return append(buf, k...)
	}
	return strconv.AppendInt(buf, intAt(s.is.b, s.w, r.IntN(s.is.n)), 10)
}

// Pop removes a member chosen uniformly at random and appends it to buf
// (SPOP); the set must not be empty.
func (s *Set) Pop(r *rand.Rand, buf []byte) []byte {
	n := len(buf)
	buf = s.Random(r, buf)
	s.Remove(buf[n:])
	return buf
}

// Scan is SSCAN: an intset is returned whole in one call, as Redis does; a
// hashtable by about count members per call (see Hash.Scan).
func (s *Set) Scan(cursor uint64, count int, fn func(m []byte)) uint64 {
	if s.t != nil {
		return s.t.scan(cursor, count, func(k, _ []byte) { fn(k) })
	}
	eachInt(s.is.b, s.w, s.is.n, func(m []byte) bool { fn(m); return true })
	return 0
}

// A SetView is a set as a snapshot froze it (see HashView).
type SetView struct {
	is []byte
	w  uint8
	n  int
	t  tableView
}

// View returns the set's current contents for a snapshot. Call it under
// the lock, right after Epochs.Freeze.
func (s *Set) View() SetView {
	if s.t != nil {
		return SetView{t: s.t.view()}
	}
	return SetView{is: s.is.b, w: s.w, n: s.is.n}
}

// Each calls fn with every member until fn returns false; the member is
// only valid during the call.
func (v SetView) Each(fn func(m []byte) bool) {
	if v.t.blocks != nil {
		v.t.each(func(k, _ []byte) bool { return fn(k) })
		return
	}
	eachInt(v.is, v.w, v.n, fn)
}
