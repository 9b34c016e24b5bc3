package rdb

import "encoding/binary"

// Redis packs small runs of list items into two byte-array containers:
// ziplists (up to Redis 6.2, RDB types 10 and 14) and listpacks (Redis 7.0,
// type 18). Both are decoded here with full bounds checks, which is the
// equivalent of Redis's deep integrity validation
// (sanitize-dump-payload yes): every length and back-length is checked
// against the container, so hostile input cannot make us read out of range.

// ziplist appends the entries of the ziplist stored at s to d.spans.
//
// Layout (ziplist.c): zlbytes uint32 LE, zltail uint32 LE (offset of the
// last entry), zllen uint16 LE (65535 = count it), entries, 0xFF. An entry
// is <prevlen><encoding><data>; prevlen is 1 byte, or 0xFE and 4 bytes LE.
func (d *decoder) ziplist(s span) error {
	// zl keeps pointing at the container even if appending integers to the
	// arena moves it: the old backing array stays alive and unchanged.
	zl := d.arena[s.off : s.off+s.n]
	bad := func(at int, what string) error {
		return d.r.corrupt("ziplist byte %d: %s", at, what)
	}
	const header = 10
	if len(zl) < header+1 {
		return bad(0, "shorter than its header")
	}
	if int64(binary.LittleEndian.Uint32(zl)) != int64(len(zl)) {
		return bad(0, "zlbytes does not match the size")
	}
	tail := int(binary.LittleEndian.Uint32(zl[4:]))
	zllen := int(binary.LittleEndian.Uint16(zl[8:]))
	pos, prevlen, last, count := header, 0, header, 0
	for {
		if pos >= len(zl) {
			return bad(pos, "missing end marker")
		}
		if zl[pos] == 0xff {
			break
		}
		start := pos
		var plen int
		if zl[pos] < 0xfe {
			plen = int(zl[pos])
			pos++
		} else {
			if pos+5 > len(zl) {
				return bad(pos, "truncated prevlen")
			}
			plen = int(binary.LittleEndian.Uint32(zl[pos+1:]))
			pos += 5
		}
		if plen != prevlen {
			return bad(start, "prevlen does not match the previous entry")
		}
		if pos >= len(zl) {
			return bad(pos, "truncated entry")
		}
		enc := zl[pos]
		strLen, hdr := -1, 1
		var v int64
		switch {
		case enc>>6 == 0:
			strLen = int(enc & 0x3f)
		case enc>>6 == 1:
			if pos+2 > len(zl) {
				return bad(pos, "truncated length")
			}
			strLen, hdr = int(enc&0x3f)<<8|int(zl[pos+1]), 2
		case enc>>6 == 2:
			if pos+5 > len(zl) {
				return bad(pos, "truncated length")
			}
			strLen, hdr = int(binary.BigEndian.Uint32(zl[pos+1:])), 5
		default:
			n := 0
			switch enc {
			case 0xc0:
				n = 2
			case 0xd0:
				n = 4
			case 0xe0:
				n = 8
			case 0xf0:
				n = 3
			case 0xfe:
				n = 1
			default:
				if enc < 0xf1 || enc > 0xfd {
					return bad(pos, "unknown encoding")
				}
				v = int64(enc&0x0f) - 1 // 4-bit immediate 0..12
			}
			if pos+1+n > len(zl) {
				return bad(pos, "truncated integer")
			}
			p := zl[pos+1 : pos+1+n]
			switch n {
			case 1:
				v = int64(int8(p[0]))
			case 2:
				v = int64(int16(binary.LittleEndian.Uint16(p)))
			case 3:
				v = int64(int32(uint32(p[0])<<8|uint32(p[1])<<16|uint32(p[2])<<24) >> 8)
			case 4:
				v = int64(int32(binary.LittleEndian.Uint32(p)))
			case 8:
				v = int64(binary.LittleEndian.Uint64(p))
			}
			d.appendInt(v)
			pos += 1 + n
		}
		if strLen >= 0 {
			pos += hdr
			if strLen > len(zl)-pos {
				return bad(pos, "string runs past the end")
			}
			d.push(span{s.off + pos, strLen})
			pos += strLen
		}
		prevlen, last = pos-start, start
		count++
	}
	if pos != len(zl)-1 {
		return bad(pos, "end marker before the last byte")
	}
	if zllen != 0xffff && zllen != count {
		return bad(8, "zllen does not match the entries")
	}
	if tail != last {
		return bad(4, "zltail does not point at the last entry")
	}
	return nil
}

// listpack appends the entries of the listpack stored at s to d.spans.
//
// Layout (listpack.c): total bytes uint32 LE, element count uint16 LE
// (65535 = count it), entries, 0xFF. An entry is <encoding><data><backlen>,
// where backlen holds the size of encoding+data in 1-5 bytes so the list
// can be walked backwards. Integers are little-endian two's complement.
func (d *decoder) listpack(s span) error {
	lp := d.arena[s.off : s.off+s.n] // see ziplist about arena moves
	bad := func(at int, what string) error {
		return d.r.corrupt("listpack byte %d: %s", at, what)
	}
	const header = 6
	if len(lp) < header+1 {
		return bad(0, "shorter than its header")
	}
	if int64(binary.LittleEndian.Uint32(lp)) != int64(len(lp)) {
		return bad(0, "total bytes do not match the size")
	}
	num := int(binary.LittleEndian.Uint16(lp[4:]))
	pos, count := header, 0
	for {
		if pos >= len(lp) {
			return bad(pos, "missing end marker")
		}
		b := lp[pos]
		if b == 0xff {
			break
		}
		start := pos
		strLen, hdr, n := -1, 0, 0 // string length and header, or integer size
		var v int64
		switch {
		case b&0x80 == 0: // 0xxxxxxx: 7-bit unsigned
			v = int64(b)
		case b&0xc0 == 0x80: // 10xxxxxx: string up to 63 bytes
			strLen, hdr = int(b&0x3f), 1
		case b&0xe0 == 0xc0: // 110xxxxx yyyyyyyy: 13-bit signed
			if pos+2 > len(lp) {
				return bad(pos, "truncated integer")
			}
			u := int64(b&0x1f)<<8 | int64(lp[pos+1])
			if u >= 1<<12 {
				u -= 1 << 13
			}
			v, n = u, 1
		case b&0xf0 == 0xe0: // 1110xxxx yyyyyyyy: string up to 4095 bytes
			if pos+2 > len(lp) {
				return bad(pos, "truncated length")
			}
			strLen, hdr = int(b&0x0f)<<8|int(lp[pos+1]), 2
		case b == 0xf0: // 32-bit string length
			if pos+5 > len(lp) {
				return bad(pos, "truncated length")
			}
			strLen, hdr = int(binary.LittleEndian.Uint32(lp[pos+1:])), 5
		case b >= 0xf1 && b <= 0xf4: // 16, 24, 32, 64-bit integers
			n = [...]int{2, 3, 4, 8}[b-0xf1]
			if pos+1+n > len(lp) {
				return bad(pos, "truncated integer")
			}
			p := lp[pos+1 : pos+1+n]
			switch n {
			case 2:
				v = int64(int16(binary.LittleEndian.Uint16(p)))
			case 3:
				v = int64(int32(uint32(p[0])<<8|uint32(p[1])<<16|uint32(p[2])<<24) >> 8)
			case 4:
				v = int64(int32(binary.LittleEndian.Uint32(p)))
			case 8:
				v = int64(binary.LittleEndian.Uint64(p))
			}
		default:
			return bad(pos, "unknown encoding")
		}
		if strLen >= 0 {
			pos += hdr
			if strLen > len(lp)-pos {
				return bad(pos, "string runs past the end")
			}
			d.push(span{s.off + pos, strLen})
			pos += strLen
		} else {
			d.appendInt(v)
			pos += 1 + n
		}
		var want [5]byte
		bl := appendBacklen(want[:0], uint64(pos-start))
		if len(bl) > len(lp)-pos || string(lp[pos:pos+len(bl)]) != string(bl) {
			return bad(pos, "back-length does not match the entry")
		}
		pos += len(bl)
		count++
	}
	if pos != len(lp)-1 {
		return bad(pos, "end marker before the last byte")
	}
	if num != 0xffff && num != count {
		return bad(4, "element count does not match the entries")
	}
	return nil
}

// appendBacklen appends l in listpack back-length form (lpEncodeBacklen):
// big-endian groups of 7 bits, every byte but the first with the top bit
// set, so that a reader walking backwards knows where it ends.
func appendBacklen(dst []byte, l uint64) []byte {
	var n int
	switch {
	case l <= 127:
		n = 1
	case l < 16383:
		n = 2
	case l < 2097151:
		n = 3
	case l < 268435455:
		n = 4
	default:
		n = 5
	}
	for i := n - 1; i >= 0; i-- {
		b := byte(l>>(7*uint(i))) & 127
		if i != n-1 {
			b |= 128
		}
		dst = append(dst, b)
	}
	return dst
}
