package coll

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"math/rand/v2"
	"unsafe"
)

// A ZSet is a Redis sorted set: members with float64 scores, ordered by
// (score, member bytes). Small ones are packed (encoding "listpack":
// member, score, member, score... in order, as Redis's listpack); a set
// converts (encoding "skiplist") when a member is added beyond
// ZsetMaxListpackEntries or longer than ZsetMaxListpackValue bytes, and
// never converts back. The big encoding is a table from member to score
// (Redis's dict) and a zorder for ranks and ranges (Redis's skiplist).
//
// Scores compare as floats: -0 and 0 are the same score (a skiplist keeps
// the sign a member was given, a listpack stores 0, as Redis 7.0 does),
// NaN is never stored. Ranks are 0-based from the
// lowest score. Byte slices returned alias the set's memory and are valid
// until it is next changed, or only during a callback where one is taken.
// A ZSet is not safe for concurrent use.
type ZSet struct {
	lim *Limits
	ep  *Epochs
	lp  packed // listpack: member entry, then the score as 8 bytes
	t   *table // skiplist: member -> score as 8 bytes
	o   *zorder
}

var zsetHeader = heapSize(int(unsafe.Sizeof(ZSet{})))

// ErrNaN is returned when an increment makes a score NaN (inf + -inf):
// Redis's "resulting score is not a number (NaN)".
var ErrNaN = errors.New("coll: resulting score is not a number (NaN)")

// NewZSet returns an empty sorted set in the listpack encoding; ZADD on a
// new key converts on its first member as Redis's zaddGenericCommand
// would create it (skiplist when the limits are 0 or the member too long).
func NewZSet(lim *Limits, ep *Epochs) *ZSet { return &ZSet{lim: lim, ep: ep} }

// NewZSetFor returns an empty sorted set for n members of at most maxLen
// bytes: a listpack if they fit in one, else a skiplist. The *STORE
// commands, which know their result before storing it, use it as Redis's
// zsetConvertToListpackIfNeeded does.
func NewZSetFor(lim *Limits, ep *Epochs, n, maxLen int) *ZSet {
	z := &ZSet{lim: lim, ep: ep}
	if n > lim.ZsetMaxListpackEntries || maxLen > lim.ZsetMaxListpackValue {
		z.t, z.o = newTable(ep, n), &zorder{}
		z.o.recount()
	}
	return z
}

// Len returns the number of members.
func (z *ZSet) Len() int {
	if z.t != nil {
		return z.t.n
	}
	return z.lp.n
}

// Encoding returns the name OBJECT ENCODING reports.
func (z *ZSet) Encoding() string {
	if z.t != nil {
		return "skiplist"
	}
	return "listpack"
}

// Bytes returns the heap memory the sorted set takes, header included.
func (z *ZSet) Bytes() int64 {
	b := zsetHeader + int64(cap(z.lp.b))
	if z.t != nil {
		b += z.t.bytes + z.o.bytes
	}
	return b
}

func scoreBytes(buf *[8]byte, s float64) []byte {
	binary.LittleEndian.PutUint64(buf[:], math.Float64bits(s))
	return buf[:]
}

func scoreOf(b []byte) float64 { return math.Float64frombits(binary.LittleEndian.Uint64(b)) }

// lpNext decodes the listpack entry at p.
func lpNext(b []byte, p int) (member []byte, score float64, next int) {
	member, p = readEntry(b, p)
	return member, scoreOf(b[p:]), p + 8
}

func (z *ZSet) lpFind(member []byte) (off, end int, score float64) {
	b := z.lp.b
	for p := 0; p < len(b); {
		m, s, next := lpNext(b, p)
		if bytes.Equal(m, member) {
			return p, next, s
		}
		p = next
	}
	return -1, -1, 0
}

// lpInsert inserts member in order. Like Redis 7.0's listpack, which keeps
// a score as the text d2string gives and reads "-0" back as an integer 0,
// a listpack stores -0 as 0; a skiplist keeps the sign.
func (z *ZSet) lpInsert(member []byte, score float64) {
	if score == 0 {
		score = 0
	}
	b := z.lp.b
	p := 0
	for p < len(b) {
		m, s, next := lpNext(b, p)
		if s > score || s == score && bytes.Compare(m, member) > 0 {
			break
		}
		p = next
	}
	sz := entrySize(len(member))
	dst := z.lp.splice(z.ep, p, 0, sz+8)
	putEntry(dst, member)
	binary.LittleEndian.PutUint64(dst[sz:], math.Float64bits(score))
	z.lp.n++
}

// Score returns member's score.
func (z *ZSet) Score(member []byte) (float64, bool) {
	if z.t != nil {
		v, ok := z.t.get(member)
		if !ok {
			return 0, false
		}
		return scoreOf(v), true
	}
	off, _, s := z.lpFind(member)
	return s, off >= 0
}

// AddFlags are ZADD's options.
type AddFlags uint8

// ZADD's options; Redis rejects NX with XX, GT or LT, and GT with LT,
// before calling Add.
const (
	AddNX   AddFlags = 1 << iota // only add new members
	AddXX                        // only update existing members
	AddGT                        // only update to a greater score
	AddLT                        // only update to a lower score
	AddIncr                      // add score to the current one (ZINCRBY, ZADD INCR)
)

// AddResult is what Add did.
type AddResult uint8

// Add's outcomes.
const (
	Nop     AddResult = iota // nothing changed (NX, XX, GT, LT, or same score)
	Added                    // a new member
	Updated                  // an existing member's score changed
)

// Add is Redis's zsetAdd: it adds member with score, or updates it, as
// the flags allow, and returns what it did and the member's score after
// it. With AddIncr, score is added to the current one. stopped is Redis's
// ZADD_OUT_NOP: NX, XX, GT or LT kept Add from acting, and ZADD INCR then
// replies nil; Nop without stopped means the score did not change (ZADD
// INCR replies newScore). A NaN score or result gives ErrNaN and changes
// nothing.
func (z *ZSet) Add(member []byte, score float64, f AddFlags) (res AddResult, newScore float64, stopped bool, err error) {
	if math.IsNaN(score) {
		return Nop, 0, false, ErrNaN
	}
	cur, exists := z.Score(member)
	if exists {
		if f&AddNX != 0 {
			return Nop, cur, true, nil
		}
		if f&AddIncr != 0 {
			score += cur
			if math.IsNaN(score) {
				return Nop, 0, false, ErrNaN
			}
		}
		if f&AddLT != 0 && score >= cur || f&AddGT != 0 && score <= cur {
			return Nop, cur, true, nil
		}
		if score == cur {
			// -0 and 0 are equal: the member keeps its score, the reply
			// shows the one computed, as Redis's does.
			return Nop, score, false, nil
		}
		z.update(member, cur, score)
		return Updated, score, false, nil
	}
	if f&AddXX != 0 {
		return Nop, 0, true, nil
	}
	z.insert(member, score)
	return Added, score, false, nil
}

func (z *ZSet) update(member []byte, cur, score float64) {
	if z.t == nil {
		off, end, _ := z.lpFind(member)
		z.lp.splice(z.ep, off, end-off, 0)
		z.lp.n--
		z.lpInsert(member, score)
		return
	}
	bi, i := z.o.seek(z.t, cur, member, false)
	z.o.remove(bi, i)
	var sb [8]byte
	_, ref := z.t.put(member, scoreBytes(&sb, score))
	bi, i = z.o.seek(z.t, score, member, true)
	z.o.insert(bi, i, zent{score, ref})
	z.tidy()
}

func (z *ZSet) insert(member []byte, score float64) {
	if z.t == nil {
		if z.lp.n+1 > z.lim.ZsetMaxListpackEntries || len(member) > z.lim.ZsetMaxListpackValue {
			z.convert()
		} else {
			z.lpInsert(member, score)
			return
		}
	}
	var sb [8]byte
	_, ref := z.t.put(member, scoreBytes(&sb, score))
	bi, i := z.o.seek(z.t, score, member, true)
	z.o.insert(bi, i, zent{score, ref})
}

// tidy compacts the table's arena when dead entries dominate, repointing
// the order's references.
func (z *ZSet) tidy() {
	if z.t.needsCompact() {
		z.t.compact(z.o.eachRef)
	}
}

func (z *ZSet) convert() {
	t, o := newTable(z.ep, z.lp.n+1), &zorder{}
	b := z.lp.b
	var sb [8]byte
	for p := 0; p < len(b); {
		m, s, next := lpNext(b, p)
		_, ref := t.put(m, scoreBytes(&sb, s))
		o.insert(len(o.blocks), 0, zent{s, ref}) // in order: append
		p = next
	}
	o.recount()
	z.t, z.o, z.lp = t, o, packed{}
}

// Remove removes member and reports whether it was there.
func (z *ZSet) Remove(member []byte) bool {
	score, ok := z.Score(member)
	if !ok {
		return false
	}
	if z.t == nil {
		off, end, _ := z.lpFind(member)
		z.lp.splice(z.ep, off, end-off, 0)
		z.lp.n--
		return true
	}
	bi, i := z.o.seek(z.t, score, member, false)
	z.o.remove(bi, i)
	z.t.del(member)
	z.tidy()
	return true
}

// Rank returns member's 0-based rank, from the highest score if reverse.
func (z *ZSet) Rank(member []byte, reverse bool) (int, bool) {
	score, ok := z.Score(member)
	if !ok {
		return 0, false
	}
	var r int
	if z.t != nil {
		r = z.o.rank(z.o.seek(z.t, score, member, false))
	} else {
		r = z.firstWhere(func(s float64, m []byte) bool {
			return s > score || s == score && bytes.Compare(m, member) >= 0
		})
	}
	if reverse {
		r = z.Len() - 1 - r
	}
	return r, true
}

// firstWhere returns the rank of the first member for which pred holds;
// pred must be false then true along the order. Len() if none.
func (z *ZSet) firstWhere(pred func(score float64, member []byte) bool) int {
	if z.t != nil {
		bi, i := z.o.search(func(e zent) bool { return pred(e.score, z.t.member(e.ref)) })
		return z.o.rank(bi, i)
	}
	b := z.lp.b
	r := 0
	for p := 0; p < len(b); r++ {
		m, s, next := lpNext(b, p)
		if pred(s, m) {
			return r
		}
		p = next
	}
	return r
}

// Iter calls fn with the members from rank start on, ascending (or, if
// reverse, descending from rank start counted from the lowest), until fn
// returns false. fn must not change the set.
func (z *ZSet) Iter(start int, reverse bool, fn func(member []byte, score float64) bool) {
	if start < 0 || start >= z.Len() {
		return
	}
	if z.t != nil {
		z.o.iter(start, reverse, func(e zent) bool { return fn(z.t.member(e.ref), e.score) })
		return
	}
	b := z.lp.b
	if !reverse {
		r := 0
		for p := 0; p < len(b); r++ {
			m, s, next := lpNext(b, p)
			if r >= start && !fn(m, s) {
				return
			}
			p = next
		}
		return
	}
	var stack [256]int
	offs := stack[:0]
	for p, r := 0, 0; r <= start; r++ {
		offs = append(offs, p)
		_, _, p = lpNext(b, p)
	}
	for i := len(offs) - 1; i >= 0; i-- {
		m, s, _ := lpNext(b, offs[i])
		if !fn(m, s) {
			return
		}
	}
}

// At returns the member at rank r (0 <= r < Len()).
func (z *ZSet) At(r int) (member []byte, score float64) {
	z.Iter(r, false, func(m []byte, s float64) bool {
		member, score = m, s
		return false
	})
	return member, score
}

// Random returns a member chosen uniformly at random; the set must not be
// empty.
func (z *ZSet) Random(r *rand.Rand) ([]byte, float64) { return z.At(r.IntN(z.Len())) }

// Each calls fn with every member in order until fn returns false.
func (z *ZSet) Each(fn func(member []byte, score float64) bool) { z.Iter(0, false, fn) }

// deleteRanks removes ranks [start, stop) and returns how many.
func (z *ZSet) deleteRanks(start, stop int) int {
	if start >= stop {
		return 0
	}
	if z.t == nil {
		b := z.lp.b
		p, from := 0, 0
		for r := 0; r < stop; r++ {
			if r == start {
				from = p
			}
			_, _, p = lpNext(b, p)
		}
		z.lp.splice(z.ep, from, p-from, 0)
		z.lp.n -= stop - start
		return stop - start
	}
	for k := start; k < stop; k++ {
		bi, i := z.o.at(start)
		e := z.o.blocks[bi][i]
		z.t.del(z.t.member(e.ref))
		z.o.remove(bi, i)
	}
	z.tidy()
	return stop - start
}

// Scan is ZSCAN: a listpack is returned whole in one call, as Redis does;
// a skiplist by about count members per call (see Hash.Scan).
func (z *ZSet) Scan(cursor uint64, count int, fn func(member []byte, score float64)) uint64 {
	if z.t != nil {
		return z.t.scan(cursor, count, func(k, v []byte) { fn(k, scoreOf(v)) })
	}
	z.Each(func(m []byte, s float64) bool { fn(m, s); return true })
	return 0
}

// A ZSetView is a sorted set as a snapshot froze it (see HashView). Its
// Each gives members in score order for a listpack and in table order for
// a skiplist: the AOF rewrite's ZADD commands need no order.
type ZSetView struct {
	lp []byte
	t  tableView
}

// View returns the sorted set's current contents for a snapshot. Call it
// under the lock, right after Epochs.Freeze.
func (z *ZSet) View() ZSetView {
	if z.t != nil {
		return ZSetView{t: z.t.view()}
	}
	return ZSetView{lp: z.lp.b}
}

// Each calls fn with every member and score until fn returns false.
func (v ZSetView) Each(fn func(member []byte, score float64) bool) {
	if v.t.blocks != nil {
		v.t.each(func(k, val []byte) bool { return fn(k, scoreOf(val)) })
		return
	}
	for p := 0; p < len(v.lp); {
		m, s, next := lpNext(v.lp, p)
		if !fn(m, s) {
			return
		}
		p = next
	}
}
