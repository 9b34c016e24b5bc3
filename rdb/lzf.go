package rdb

import "mullet/internal/lzf"

// LZF is the compression Redis applies to strings longer than 20 bytes when
// rdbcompression is on (the default), and to quicklist nodes when
// list-compress-depth is set; internal/lzf describes the stream. No valid
// stream decompresses to more than lzfMaxRatio times its size; Decode and
// Load use that to refuse absurd declared lengths before allocating.
const lzfMaxRatio = lzf.MaxRatio

var (
	errLZFOverflow  = lzf.ErrOverflow
	errLZFShort     = lzf.ErrShort
	errLZFTruncated = lzf.ErrTruncated
	errLZFBackRef   = lzf.ErrBackRef
)

// lzfDecompress expands in into out, which must be exactly the declared
// uncompressed length. It never reads or writes out of bounds.
func lzfDecompress(in, out []byte) error { return lzf.Decompress(in, out) }
