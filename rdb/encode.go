package rdb

import (
	"encoding/binary"
	"math"
)

// EncodeString returns the DUMP payload of a string value, the bytes
// "DUMP key" returns in Redis 7.0 with rdbcompression off. Strings that are
// canonical decimal integers in the int32 range use Redis's integer encodings.
func EncodeString(v []byte) []byte {
	return AppendString(make([]byte, 0, 1+9+len(v)+trailerLen), v)
}

// AppendString appends the DUMP payload of a string value to dst and returns
// the extended slice. The payload is dst[len(dst):] of the result.
func AppendString(dst, v []byte) []byte {
	start := len(dst)
	dst = append(dst, typeString)
	dst = appendString(dst, v)
	return appendTrailer(dst, start)
}

// EncodeList returns the DUMP payload of a list holding items, in order. An
// empty list encodes to a payload that Decode and RESTORE refuse
// (ErrEmptyKey), since Redis never holds an empty list.
func EncodeList(items [][]byte) []byte {
	n := 1 + countSlot + trailerLen
	for _, it := range items {
		n += lenSize(uint64(len(it))) + len(it)
	}
	e := NewListEncoder(make([]byte, 0, n))
	for _, it := range items {
		e.Add(it)
	}
	return e.Finish()
}

// ListEncoder builds the DUMP payload of a list one item at a time, so a
// caller can serialise a large list without first collecting its items.
// The zero value is not usable; call NewListEncoder. A ListEncoder is not
// safe for concurrent use.
//
// The payload uses RDB_TYPE_LIST (1): a count followed by the items as RDB
// strings. Redis 7.0 writes RDB_TYPE_LIST_QUICKLIST_2 (listpack nodes) but
// still loads type 1, rebuilding its own nodes with its own
// list-max-listpack-size. We prefer type 1 because it is simpler, slightly
// smaller (no per-entry back-lengths), and leaves Redis no listpack of ours
// to trust: with the default sanitize-dump-payload no, RESTORE validates
// listpacks only shallowly, so a subtle encoder bug in type 18 could crash
// Redis later, while a bad type 1 payload is simply refused.
type ListEncoder struct {
	buf   []byte
	start int    // where the payload starts in buf
	n     uint64 // items added so far
}

// countSlot is the room reserved for the item count, which is unknown until
// Finish: the largest RDB length encoding.
const countSlot = 9

// NewListEncoder starts a list payload at the end of dst. The encoder owns
// dst from here on; Finish returns the extended slice.
func NewListEncoder(dst []byte) *ListEncoder {
	start := len(dst)
	dst = append(dst, typeList)
	dst = append(dst, make([]byte, countSlot)...)
	return &ListEncoder{buf: dst, start: start}
}

// Add appends item to the list. The encoder copies it; the caller may reuse
// item afterwards.
func (e *ListEncoder) Add(item []byte) {
	e.buf = appendString(e.buf, item)
	e.n++
}

// Len reports how many items were added.
func (e *ListEncoder) Len() int { return int(e.n) }

// Finish completes the payload and returns dst extended by it. The encoder
// must not be used afterwards.
func (e *ListEncoder) Finish() []byte {
	// Write the count in its shortest form and close the gap. The copy is one
	// memmove over the payload, no dearer than the CRC that follows, and keeps
	// the payload canonical (Redis would accept the padded 9-byte form too).
	var tmp [countSlot]byte
	cnt := appendLen(tmp[:0], e.n)
	body := e.start + 1 + countSlot
	at := e.start + 1
	copy(e.buf[at:], cnt)
	m := copy(e.buf[at+len(cnt):], e.buf[body:])
	buf := e.buf[:at+len(cnt)+m]
	e.buf = nil
	return appendTrailer(buf, e.start)
}

// appendTrailer appends the RDB version and the CRC64 of payload[start:],
// version included, both little-endian (cluster.c createDumpPayload).
func appendTrailer(dst []byte, start int) []byte {
	dst = binary.LittleEndian.AppendUint16(dst, Version)
	return binary.LittleEndian.AppendUint64(dst, crc64(0, dst[start:]))
}

// appendLen appends n in RDB length encoding (rdbSaveLen).
func appendLen(dst []byte, n uint64) []byte {
	switch {
	case n < 1<<6:
		return append(dst, byte(n))
	case n < 1<<14:
		return append(dst, byte(n>>8)|len14Bit<<6, byte(n))
	case n <= math.MaxUint32:
		return binary.BigEndian.AppendUint32(append(dst, len32Bit), uint32(n))
	default:
		return binary.BigEndian.AppendUint64(append(dst, len64Bit), n)
	}
}

// lenSize is len(appendLen(nil, n)) without the allocation.
func lenSize(n uint64) int {
	switch {
	case n < 1<<6:
		return 1
	case n < 1<<14:
		return 2
	case n <= math.MaxUint32:
		return 5
	}
	return 9
}

// appendString appends s as an RDB string. Like rdbSaveRawString, strings of
// at most 11 bytes that read back identically as an int32 are stored as
// integers; LZF compression is not attempted.
func appendString(dst, s []byte) []byte {
	if v, ok := parseInt32(s); ok {
		switch {
		case v >= math.MinInt8 && v <= math.MaxInt8:
			return append(dst, lenEnc<<6|encInt8, byte(v))
		case v >= math.MinInt16 && v <= math.MaxInt16:
			return binary.LittleEndian.AppendUint16(append(dst, lenEnc<<6|encInt16), uint16(v))
		default:
			return binary.LittleEndian.AppendUint32(append(dst, lenEnc<<6|encInt32), uint32(v))
		}
	}
	dst = appendLen(dst, uint64(len(s)))
	return append(dst, s...)
}

// parseInt32 reports whether s is the canonical decimal form of an int32: no
// sign other than a leading '-', no leading zeros, no "-0". Only those round
// trip through Redis's integer encodings (string2ll has the same rules).
func parseInt32(s []byte) (int64, bool) {
	if len(s) == 0 || len(s) > 11 {
		return 0, false
	}
	if len(s) == 1 && s[0] == '0' {
		return 0, true
	}
	neg := s[0] == '-'
	d := s
	if neg {
		d = s[1:]
	}
	if len(d) == 0 || len(d) > 10 || d[0] < '1' || d[0] > '9' {
		return 0, false
	}
	var v int64
	for _, c := range d {
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int64(c-'0')
	}
	if neg {
		v = -v
	}
	if v < math.MinInt32 || v > math.MaxInt32 {
		return 0, false
	}
	return v, true
}
