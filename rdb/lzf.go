package rdb

import "errors"

// LZF is the compression Redis applies to strings longer than 20 bytes when
// rdbcompression is on (the default), and to quicklist nodes when
// list-compress-depth is set. Its stream is a sequence of
//
//	000LLLLL <L+1 literal bytes>
//	LLLooooo oooooooo               back-reference, length L+2 (L in 1..6)
//	111ooooo LLLLLLLL oooooooo      back-reference, length L+9
//
// where the reference starts o+1 bytes behind the output position. The
// longest expansion is the 3-byte form producing 7+255+2 = 264 bytes, so no
// valid stream decompresses to more than lzfMaxRatio times its size; callers
// use that to refuse absurd declared lengths before allocating.
const lzfMaxRatio = 88

var (
	errLZFOverflow  = errors.New("LZF data expands past its declared length")
	errLZFShort     = errors.New("LZF data expands to less than its declared length")
	errLZFTruncated = errors.New("LZF data ends inside an instruction")
	errLZFBackRef   = errors.New("LZF back-reference points before the start of the output")
)

// lzfDecompress expands in into out, which must be exactly the declared
// uncompressed length. It never reads or writes out of bounds.
func lzfDecompress(in, out []byte) error {
	ip, op := 0, 0
	for ip < len(in) {
		ctrl := int(in[ip])
		ip++
		if ctrl < 1<<5 {
			n := ctrl + 1
			if ip+n > len(in) {
				return errLZFTruncated
			}
			if op+n > len(out) {
				return errLZFOverflow
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
				return errLZFTruncated
			}
			n += int(in[ip])
			ip++
		}
		if ip >= len(in) {
			return errLZFTruncated
		}
		ref -= int(in[ip])
		ip++
		n += 2
		if ref < 0 {
			return errLZFBackRef
		}
		if op+n > len(out) {
			return errLZFOverflow
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
		return errLZFShort
	}
	return nil
}
