package coll

import (
	"bytes"
	"math/rand/v2"
	"unsafe"
)

// A Hash is a Redis hash: fields mapped to values. Small hashes are
// packed (encoding "listpack": field, value, field, value... in insertion
// order, as Redis's listpack keeps them, so HGETALL on a small hash gives
// fields in the order they were first set); a hash converts to a table
// (encoding "hashtable") once it has more than HashMaxListpackEntries
// fields or a field or value longer than HashMaxListpackValue bytes, and
// never converts back.
//
// Byte slices returned alias the hash's memory and are valid until it is
// next changed. Slices passed in are copied. A Hash is not safe for
// concurrent use.
type Hash struct {
	lim *Limits
	ep  *Epochs
	lp  packed
	t   *table
}

var hashHeader = heapSize(int(unsafe.Sizeof(Hash{})))

// NewHash returns an empty hash in the listpack encoding.
func NewHash(lim *Limits, ep *Epochs) *Hash { return &Hash{lim: lim, ep: ep} }

// Len returns the number of fields.
func (h *Hash) Len() int {
	if h.t != nil {
		return h.t.n
	}
	return h.lp.n
}

// Encoding returns the name OBJECT ENCODING reports.
func (h *Hash) Encoding() string {
	if h.t != nil {
		return "hashtable"
	}
	return "listpack"
}

// Bytes returns the heap memory the hash takes, header included.
func (h *Hash) Bytes() int64 {
	b := hashHeader + int64(cap(h.lp.b))
	if h.t != nil {
		b += h.t.bytes
	}
	return b
}

// lpFind returns the offset of field's entry and of its value's, or -1.
func (h *Hash) lpFind(field []byte) (off, voff int) {
	b := h.lp.b
	for p := 0; p < len(b); {
		f, q := readEntry(b, p)
		_, next := readEntry(b, q)
		if bytes.Equal(f, field) {
			return p, q
		}
		p = next
	}
	return -1, -1
}

// Get returns the value of field.
func (h *Hash) Get(field []byte) ([]byte, bool) {
	if h.t != nil {
		return h.t.get(field)
	}
	off, voff := h.lpFind(field)
	if off < 0 {
		return nil, false
	}
	v, _ := readEntry(h.lp.b, voff)
	return v, true
}

// Prepare converts the hash if any of args (the fields and values a
// command is about to set) is too long for the listpack encoding. It is
// Redis's hashTypeTryConversion, which HSET and HMSET run on all their
// arguments before setting anything. (HSETNX runs it only when the field
// is new, and Set checks the lengths itself, so HSETNX needs no Prepare:
// on an existing field with a long value, Redis 7.0 keeps the listpack.)
func (h *Hash) Prepare(args ...[]byte) {
	if h.t != nil {
		return
	}
	for _, a := range args {
		if len(a) > h.lim.HashMaxListpackValue {
			h.convert()
			return
		}
	}
}

// Set sets field to val and reports whether field is new.
func (h *Hash) Set(field, val []byte) bool {
	if h.t == nil && (len(field) > h.lim.HashMaxListpackValue || len(val) > h.lim.HashMaxListpackValue) {
		h.convert()
	}
	if h.t != nil {
		added, _ := h.t.put(field, val)
		if !added && h.t.needsCompact() {
			h.t.compact(nil)
		}
		return added
	}
	off, voff := h.lpFind(field)
	if off >= 0 {
		old, end := readEntry(h.lp.b, voff)
		_ = old
		dst := h.lp.splice(h.ep, voff, end-voff, entrySize(len(val)))
		putEntry(dst, val)
		return false
	}
	fs, vs := entrySize(len(field)), entrySize(len(val))
	dst := h.lp.splice(h.ep, len(h.lp.b), 0, fs+vs)
	putEntry(dst, field)
	putEntry(dst[fs:], val)
	h.lp.n++
	if h.lp.n > h.lim.HashMaxListpackEntries {
		h.convert()
	}
	return true
}

// Delete removes field and reports whether it was there.
func (h *Hash) Delete(field []byte) bool {
	if h.t != nil {
		if !h.t.del(field) {
			return false
		}
		if h.t.needsCompact() {
			h.t.compact(nil)
		}
		return true
	}
	off, voff := h.lpFind(field)
	if off < 0 {
		return false
	}
	_, end := readEntry(h.lp.b, voff)
	h.lp.splice(h.ep, off, end-off, 0)
	h.lp.n--
	return true
}

func (h *Hash) convert() {
	t := newTable(h.ep, h.lp.n)
	b := h.lp.b
	for p := 0; p < len(b); {
		var f, v []byte
		f, p = readEntry(b, p)
		v, p = readEntry(b, p)
		t.put(f, v)
	}
	h.t = t
	h.lp = packed{}
}

// Each calls fn with every field and value until fn returns false: in
// insertion order for a listpack, in table order for a hashtable. fn must
// not change the hash.
func (h *Hash) Each(fn func(field, val []byte) bool) {
	if h.t != nil {
		h.t.each(fn)
		return
	}
	eachPair(h.lp.b, fn)
}

func eachPair(b []byte, fn func(k, v []byte) bool) {
	for p := 0; p < len(b); {
		var f, v []byte
		f, p = readEntry(b, p)
		v, p = readEntry(b, p)
		if !fn(f, v) {
			return
		}
	}
}

// Random returns a field and its value chosen uniformly at random; the
// hash must not be empty.
func (h *Hash) Random(r *rand.Rand) (field, val []byte) {
	if h.t != nil {
		return h.t.entry(h.t.random(r))
	}
	i := r.IntN(h.lp.n)
	h.Each(func(f, v []byte) bool {
		field, val = f, v
		i--
		return i >= 0
	})
	return field, val
}

// Scan is HSCAN: it calls fn with some of the fields from cursor on and
// returns the cursor of the next call, 0 when done. A listpack is returned
// whole in one call, as Redis does; a hashtable by about count fields per
// call, with Redis's guarantee that a field present from the first call
// to the last is returned at least once whatever the hash does meanwhile
// (see table.scan).
func (h *Hash) Scan(cursor uint64, count int, fn func(field, val []byte)) uint64 {
	if h.t != nil {
		return h.t.scan(cursor, count, fn)
	}
	eachPair(h.lp.b, func(k, v []byte) bool { fn(k, v); return true })
	return 0
}

// A HashView is a hash as it was when the snapshot that took it froze the
// keyspace's Epochs: writers copy what they change, so it stays readable,
// without the lock, until the snapshot is released.
type HashView struct {
	lp []byte
	t  tableView
}

// View returns the hash's current contents for a snapshot. Call it under
// the lock, right after Epochs.Freeze.
func (h *Hash) View() HashView {
	if h.t != nil {
		return HashView{t: h.t.view()}
	}
	return HashView{lp: h.lp.b}
}

// Each calls fn with every field and value until fn returns false.
func (v HashView) Each(fn func(field, val []byte) bool) {
	if v.t.blocks != nil {
		v.t.each(fn)
		return
	}
	eachPair(v.lp, fn)
}
