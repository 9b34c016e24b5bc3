// Package lzf implements LZF, the compression Redis applies to RDB strings
// (rdbcompression yes) and to quicklist nodes (list-compress-depth). It is
// a leaf package: queue/ and rdb/ both use it.
//
// A stream is a sequence of
//
//	000LLLLL <L+1 literal bytes>
//	LLLooooo oooooooo               back-reference, length L+2 (L in 1..6)
//	111ooooo LLLLLLLL oooooooo      back-reference, length L+9
//
// where the reference starts o+1 bytes behind the output position. The
// longest expansion is the 3-byte form producing 7+255+2 = 264 bytes, so no
// valid stream decompresses to more than MaxRatio times its size; callers
// use that to refuse absurd declared lengths before allocating.
//
// Compress is a port of liblzf 3.6's lzf_compress as Redis 7.0 builds it
// (lzfP.h: HLOG 16, VERY_FAST), so its output is the same size as Redis's;
// Decompress reads any valid stream.
package lzf

import "errors"

// MaxRatio bounds how many times its own size a valid stream expands to.
const MaxRatio = 88

var (
	ErrOverflow  = errors.New("LZF data expands past its declared length")
	ErrShort     = errors.New("LZF data expands to less than its declared length")
	ErrTruncated = errors.New("LZF data ends inside an instruction")
	ErrBackRef   = errors.New("LZF back-reference points before the start of the output")
)

// Decompress expands in into out, which must be exactly the declared
// uncompressed length. It never reads or writes out of bounds.
func Decompress(in, out []byte) error {
	ip, op := 0, 0
	for ip < len(in) {
		ctrl := int(in[ip])
		ip++
		if ctrl < 1<<5 {
			n := ctrl + 1
			if ip+n > len(in) {
				return ErrTruncated
			}
			if op+n > len(out) {
				return ErrOverflow
			}
			copy(out[op:], in[ip:ip+n])
			ip += n
			op += n
			continue
		}
		n := ctrl >> 5
		ref := op - (ctrl&0x1f)<<8 - 1
		if n == 7 {
			if ip >= len(in) {
				return ErrTruncated
			}
			n += int(in[ip])
			ip++
		}
		if ip >= len(in) {
			return ErrTruncated
		}
		ref -= int(in[ip])
		ip++
		n += 2
		if ref < 0 {
			return ErrBackRef
		}
		if op+n > len(out) {
			return ErrOverflow
		}
		// The source may overlap the destination (a run), so copy forwards
		// byte by byte unless the regions are disjoint.
		if ref+n <= op {
			copy(out[op:op+n], out[ref:ref+n])
			op += n
		} else {
			for range n {
				out[op] = out[ref]
				op++
				ref++
			}
		}
	}
	if op != len(out) {
		return ErrShort
	}
	return nil
}

const (
	hlog   = 16
	hsize  = 1 << hlog
	maxLit = 1 << 5
	maxOff = 1 << 13
	maxRef = 1<<8 + 1<<3
)

// A Compressor holds the hash table of positions lzf_compress keeps on its
// stack. Reusing one makes Compress allocation-free: entries are stamped
// with a per-call base instead of clearing the 256 KiB table each time.
// The zero value is ready to use; a Compressor is not safe for concurrent
// use.
type Compressor struct {
	htab [hsize]uint32 // position+base of the last 3 bytes with that hash
	base uint32        // entries <= base belong to earlier calls
}

// Compress writes the LZF stream of in to out and returns its length, or 0
// if it does not fit in len(out) (or in is empty), as lzf_compress does:
// callers pass len(in)-1 or so to keep only streams that save space.
func (c *Compressor) Compress(in, out []byte) int {
	if len(in) == 0 || len(out) == 0 {
		return 0
	}
	if uint64(c.base)+uint64(len(in))+2 >= 1<<32 {
		clear(c.htab[:])
		c.base = 0
	}
	base := c.base
	c.base += uint32(len(in)) + 1
	htab := &c.htab
	inEnd, outEnd := len(in), len(out)
	ip, op := 0, 0
	lit := 0
	op++ // start run

	hval := uint32(in[0])<<8 | uint32(in[1%len(in)])
	for ip < inEnd-2 {
		hval = hval<<8 | uint32(in[ip+2])
		slot := &htab[((hval>>(3*8-hlog))-hval*5)&(hsize-1)]
		ref := int(*slot) - int(base) - 1 // -1: no candidate from this call
		*slot = uint32(ip) + base + 1
		if ref > 0 && ref < ip {
			off := ip - ref - 1
			if off < maxOff && in[ref+2] == in[ip+2] && in[ref] == in[ip] && in[ref+1] == in[ip+1] {
				l := 2
				maxlen := min(inEnd-ip-l, maxRef)
				if op+3+1 >= outEnd && op-b2i(lit == 0)+3+1 >= outEnd {
					return 0
				}
				out[op-lit-1] = byte(lit - 1) // stop run
				if lit == 0 {
					op-- // undo run if length is zero
				}
				for {
					l++
					if l >= maxlen || in[ref+l] != in[ip+l] {
						break
					}
				}
				l -= 2 // encoded length: match length - 2
				ip++
				if l < 7 {
					out[op] = byte(off>>8 + l<<5)
					op++
				} else {
					out[op] = byte(off>>8 + 7<<5)
					out[op+1] = byte(l - 7)
					op += 2
				}
				out[op] = byte(off)
				op++
				lit = 0
				op++ // start run
				ip += l + 1
				if ip >= inEnd-2 {
					break
				}
				// VERY_FAST: hash the two positions before ip again.
				ip -= 2
				hval = uint32(in[ip])<<8 | uint32(in[ip+1])
				hval = hval<<8 | uint32(in[ip+2])
				htab[((hval>>(3*8-hlog))-hval*5)&(hsize-1)] = uint32(ip) + base + 1
				ip++
				hval = hval<<8 | uint32(in[ip+2])
				htab[((hval>>(3*8-hlog))-hval*5)&(hsize-1)] = uint32(ip) + base + 1
				ip++
				continue
			}
		}
		// One more literal byte.
		if op >= outEnd {
			return 0
		}
		lit++
		out[op] = in[ip]
		op++
		ip++
		if lit == maxLit {
			out[op-lit-1] = byte(lit - 1) // stop run
			lit = 0
			op++ // start run
		}
	}
	if op+3 > outEnd { // at most 3 bytes can be missing here
		return 0
	}
	for ip < inEnd {
		lit++
		out[op] = in[ip]
		op++
		ip++
		if lit == maxLit {
			out[op-lit-1] = byte(lit - 1)
			lit = 0
			op++
		}
	}
	out[op-lit-1] = byte(lit - 1) // end run
	if lit == 0 {
		op--
	}
	return op
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
