package rdb

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"strconv"
)

// Kind says which field of a Value holds the data.
type Kind uint8

// The kinds of value this package reads. The zero Kind is invalid.
const (
	KindString Kind = iota + 1 // Value.Str holds the string
	KindList                   // Value.List holds the items, head first
)

func (k Kind) String() string {
	switch k {
	case KindString:
		return "string"
	case KindList:
		return "list"
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

// Value is a decoded string or list. Who owns its bytes depends on the
// function that returned it; see Decode and Load.
type Value struct {
	Kind Kind
	Str  []byte   // the string, for KindString; may be empty, never nil
	List [][]byte // the items head to tail, for KindList; never empty; items never nil
}

// Decode parses a DUMP payload: it checks the trailer the way RESTORE does
// (version at most Version, then the CRC64), then decodes the value.
//
// Strings may be raw, integer-encoded or LZF-compressed. Lists may be in any
// encoding Redis 7.0 writes or loads: RDB_TYPE_LIST, RDB_TYPE_LIST_ZIPLIST,
// RDB_TYPE_LIST_QUICKLIST (ziplist nodes) and RDB_TYPE_LIST_QUICKLIST_2
// (listpack and plain nodes, each possibly LZF-compressed). Other types
// yield a *TypeError, malformed values a *CorruptError, and lists without
// items ErrEmptyKey. Bytes after the value and before the trailer are
// corruption too, although Redis 7.0 ignores them.
//
// The returned Value shares no memory with payload, and every list item is
// a separate allocation, so a caller may keep some items and drop others.
func Decode(payload []byte) (Value, error) {
	if len(payload) < trailerLen {
		return Value{}, fmt.Errorf("%w: payload of %d bytes is shorter than its %d-byte trailer", ErrChecksum, len(payload), trailerLen)
	}
	body := payload[:len(payload)-trailerLen]
	trailer := payload[len(body):]
	if v := binary.LittleEndian.Uint16(trailer); v > Version {
		return Value{}, fmt.Errorf("%w: DUMP payload has RDB version %d, newer than %d", ErrVersion, v, Version)
	}
	if want, got := crc64(0, payload[:len(payload)-8]), binary.LittleEndian.Uint64(trailer[2:]); want != got {
		return Value{}, fmt.Errorf("%w: DUMP payload says %#016x, data hashes to %#016x", ErrChecksum, got, want)
	}
	d := &decoder{r: reader{
		br:   bufio.NewReaderSize(bytes.NewReader(body), min(max(len(body), 16), 64<<10)),
		left: int64(len(body)),
	}}
	t, err := d.r.byte()
	if err != nil {
		return Value{}, err
	}
	kind, err := d.value(t, 0, 0, nil)
	if err != nil {
		return Value{}, err
	}
	if d.r.left != 0 {
		return Value{}, d.r.corrupt("%d bytes follow the value", d.r.left)
	}
	v := d.build(kind)
	// Copy out of the decoder's arena: see the ownership promise above.
	v.Str = bytes.Clone(v.Str)
	for i, it := range v.List {
		v.List[i] = bytes.Clone(it)
	}
	return v, nil
}

// span locates a string in decoder.arena. Offsets rather than slices,
// because the arena may be reallocated while a value is being decoded.
type span struct{ off, n int }

// decoder turns RDB values into spans of one reusable arena, so that
// decoding a list allocates nothing per item once the buffers are warm:
// strings inside a listpack or ziplist point into the container's own bytes,
// and only integer entries are formatted into fresh arena space.
type decoder struct {
	r     reader
	arena []byte   // all bytes of the current key and value
	spans []span   // the value's strings, in order
	items [][]byte // reused by build
	lzfIn []byte   // compressed input, reused
	tmp   [8]byte

	// flush, when set (Load), hands the list items decoded so far to the
	// caller once the arena holds flushAt bytes, between nodes, so that
	// memory stays bounded by a node rather than by the list. flushed
	// counts the items of the current key it passed on.
	flush   func() error
	flushed int
}

// flushAt is how many bytes of list items Load gathers before passing them
// on.
const flushAt = 1 << 20

// maybeFlush passes on the items gathered, if enough and if Load asked.
func (d *decoder) maybeFlush() error {
	if d.flush == nil || len(d.arena) < flushAt || len(d.spans) == 0 {
		return nil
	}
	if err := d.flush(); err != nil {
		return err
	}
	d.flushed += len(d.spans)
	d.reset()
	return nil
}

// push appends s to d.spans, doubling the capacity when full (see grow).
func (d *decoder) push(s span) {
	if len(d.spans) == cap(d.spans) {
		ns := make([]span, len(d.spans), max(2*cap(d.spans), 256))
		copy(ns, d.spans)
		d.spans = ns
	}
	d.spans = append(d.spans, s)
}

// reserve makes room for n more spans, up to a limit: n comes from the
// input and may be a lie, so anything beyond maxReserve is allocated only
// as items actually arrive.
func (d *decoder) reserve(n uint64) {
	const maxReserve = 4096
	k := int(min(n, maxReserve))
	if cap(d.spans)-len(d.spans) < k {
		ns := make([]span, len(d.spans), len(d.spans)+k)
		copy(ns, d.spans)
		d.spans = ns
	}
}

// appendInt formats v into the arena and records its span.
func (d *decoder) appendInt(v int64) {
	d.arena = grow(d.arena, 20)
	off := len(d.arena)
	d.arena = strconv.AppendInt(d.arena, v, 10)
	d.push(span{off, len(d.arena) - off})
}

func (d *decoder) reset() {
	d.arena = d.arena[:0]
	d.spans = d.spans[:0]
}

// build returns the value whose strings are d.spans. Its slices alias
// d.arena and d.items and are valid until the next reset.
func (d *decoder) build(kind Kind) Value {
	if d.arena == nil {
		d.arena = []byte{} // so that empty strings come out empty, not nil
	}
	if kind == KindString {
		s := d.spans[0]
		return Value{Kind: KindString, Str: d.arena[s.off : s.off+s.n : s.off+s.n]}
	}
	if cap(d.items) < len(d.spans) {
		d.items = make([][]byte, 0, len(d.spans))
	}
	items := d.items[:0]
	for _, s := range d.spans {
		items = append(items, d.arena[s.off:s.off+s.n:s.off+s.n])
	}
	d.items = items
	return Value{Kind: KindList, List: items}
}

// value decodes a value of RDB type t into d.spans. at (the offset of the
// type byte), db and key only label a *TypeError.
func (d *decoder) value(t byte, at int64, db int, key []byte) (Kind, error) {
	start := len(d.spans)
	switch t {
	case typeString:
		s, err := d.string()
		if err != nil {
			return 0, err
		}
		d.push(s)
		return KindString, nil
	case typeList:
		n, err := d.count()
		if err != nil {
			return 0, err
		}
		d.reserve(n)
		for i := range n {
			s, err := d.string()
			if err != nil {
				return 0, err
			}
			d.push(s)
			if i%1024 == 1023 {
				if err := d.maybeFlush(); err != nil {
					return 0, err
				}
			}
		}
	case typeListZiplist:
		s, err := d.string()
		if err != nil {
			return 0, err
		}
		if err := d.ziplist(s); err != nil {
			return 0, err
		}
	case typeListQuicklist, typeListQuicklist2:
		n, err := d.count()
		if err != nil {
			return 0, err
		}
		for range n {
			container := uint64(containerPacked)
			if t == typeListQuicklist2 {
				if container, err = d.length(); err != nil {
					return 0, err
				}
				if container != containerPlain && container != containerPacked {
					return 0, d.r.corrupt("unknown quicklist container %d", container)
				}
			}
			s, err := d.string()
			if err != nil {
				return 0, err
			}
			// rdbLoadObject refuses empty nodes of either container.
			if s.n == 0 {
				return 0, d.r.corrupt("empty quicklist node")
			}
			switch {
			case container == containerPlain:
				d.push(s)
			case t == typeListQuicklist2:
				err = d.listpack(s)
			default:
				err = d.ziplist(s)
			}
			if err != nil {
				return 0, err
			}
			if err := d.maybeFlush(); err != nil {
				return 0, err
			}
		}
	default:
		return 0, &TypeError{Offset: at, DB: db, Key: bytes.Clone(key), Type: t}
	}
	// Redis silently drops empty ziplist/listpack nodes, then treats a list
	// left with no items as an empty key (RDB_LOAD_ERR_EMPTY_KEY).
	if len(d.spans) == start && d.flushed == 0 {
		return 0, ErrEmptyKey
	}
	return KindList, nil
}

// count reads the number of items or nodes in a list. Each takes at least
// one byte, which bounds the count by the input when its size is known.
func (d *decoder) count() (uint64, error) {
	n, err := d.length()
	if err != nil {
		return 0, err
	}
	return n, d.r.need(n)
}

// length reads an RDB length (rdbLoadLen). Redis tolerates an encoded-string
// marker here and reads its six bits as a length; no Redis writes that, so
// we call it corruption.
func (d *decoder) length() (uint64, error) {
	b, err := d.r.byte()
	if err != nil {
		return 0, err
	}
	if b>>6 == lenEnc {
		return 0, d.r.corrupt("string encoding 0x%02x where a length was expected", b)
	}
	return d.lengthFrom(b)
}

func (d *decoder) lengthFrom(b byte) (uint64, error) {
	switch {
	case b>>6 == len6Bit:
		return uint64(b & 0x3f), nil
	case b>>6 == len14Bit:
		c, err := d.r.byte()
		return uint64(b&0x3f)<<8 | uint64(c), err
	case b == len32Bit:
		err := d.r.full(d.tmp[:4])
		return uint64(binary.BigEndian.Uint32(d.tmp[:4])), err
	case b == len64Bit:
		err := d.r.full(d.tmp[:8])
		return binary.BigEndian.Uint64(d.tmp[:8]), err
	}
	return 0, d.r.corrupt("unknown length encoding 0x%02x", b)
}

// string reads an RDB string (rdbGenericLoadStringObject) into the arena.
func (d *decoder) string() (span, error) {
	b, err := d.r.byte()
	if err != nil {
		return span{}, err
	}
	off := len(d.arena)
	if b>>6 != lenEnc {
		n, err := d.lengthFrom(b)
		if err != nil {
			return span{}, err
		}
		d.arena, err = d.r.appendN(d.arena, n)
		return span{off, len(d.arena) - off}, err
	}
	var v int64
	switch b & 0x3f {
	case encInt8:
		c, err := d.r.byte()
		if err != nil {
			return span{}, err
		}
		v = int64(int8(c))
	case encInt16:
		if err := d.r.full(d.tmp[:2]); err != nil {
			return span{}, err
		}
		v = int64(int16(binary.LittleEndian.Uint16(d.tmp[:2])))
	case encInt32:
		if err := d.r.full(d.tmp[:4]); err != nil {
			return span{}, err
		}
		v = int64(int32(binary.LittleEndian.Uint32(d.tmp[:4])))
	case encLZF:
		return d.lzf()
	default:
		return span{}, d.r.corrupt("unknown string encoding 0x%02x", b)
	}
	d.arena = strconv.AppendInt(grow(d.arena, 20), v, 10)
	return span{off, len(d.arena) - off}, nil
}

// lzf reads an LZF-compressed string: compressed length, uncompressed
// length, data. The output is allocated only after the compressed bytes have
// arrived, and only up to what they can expand to.
func (d *decoder) lzf() (span, error) {
	clen, err := d.length()
	if err != nil {
		return span{}, err
	}
	ulen, err := d.length()
	if err != nil {
		return span{}, err
	}
	if clen == 0 {
		return span{}, d.r.corrupt("LZF string with no compressed data")
	}
	if d.lzfIn, err = d.r.appendN(d.lzfIn[:0], clen); err != nil {
		return span{}, err
	}
	if ulen > clen*lzfMaxRatio || ulen > uint64(maxInt-len(d.arena)) {
		return span{}, d.r.corrupt("LZF string claims %d bytes from %d compressed", ulen, clen)
	}
	n := int(ulen)
	d.arena = grow(d.arena, n)
	off := len(d.arena)
	d.arena = d.arena[:off+n]
	if err := lzfDecompress(d.lzfIn, d.arena[off:off+n]); err != nil {
		return span{}, d.r.corrupt("%v", err)
	}
	return span{off, n}, nil
}

// skipString consumes an RDB string without keeping it (aux fields).
func (d *decoder) skipString() error {
	b, err := d.r.byte()
	if err != nil {
		return err
	}
	if b>>6 != lenEnc {
		n, err := d.lengthFrom(b)
		if err != nil {
			return err
		}
		return d.r.discard(n)
	}
	switch b & 0x3f {
	case encInt8:
		return d.r.discard(1)
	case encInt16:
		return d.r.discard(2)
	case encInt32:
		return d.r.discard(4)
	case encLZF:
		clen, err := d.length()
		if err != nil {
			return err
		}
		if _, err := d.length(); err != nil {
			return err
		}
		return d.r.discard(clen)
	}
	return d.r.corrupt("unknown string encoding 0x%02x", b)
}
