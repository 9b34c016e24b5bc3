package server

import (
	"bytes"
	"errors"

	"mullet/internal/redisc"
	"mullet/internal/sdsargs"
)

// Limits from Redis's server.h.
const (
	// inlineMax is PROTO_INLINE_MAX_SIZE: the longest inline command and
	// the longest count line of a multibulk request.
	inlineMax = 64 * 1024
	// unauthMultibulk and unauthBulk bound what a client that has not yet
	// authenticated may send (Redis 7).
	unauthMultibulk = 10
	unauthBulk      = 16384
	// readChunk is the size of one socket read, Redis's PROTO_IOBUF_LEN.
	readChunk = 16 * 1024
)

// A protoError is a malformed request. The server replies
// "-ERR Protocol error: <msg>" and closes the connection, as Redis does.
type protoError struct{ msg string }

func (e *protoError) Error() string { return "Protocol error: " + e.msg }

var (
	errTooBigInline       = &protoError{"too big inline request"}
	errUnbalancedQuotes   = &protoError{"unbalanced quotes in request"}
	errTooBigMbulkCount   = &protoError{"too big mbulk count string"}
	errInvalidMultibulk   = &protoError{"invalid multibulk length"}
	errUnauthMultibulk    = &protoError{"unauthenticated multibulk length"}
	errTooBigBulkCount    = &protoError{"too big bulk count string"}
	errInvalidBulkLength  = &protoError{"invalid bulk length"}
	errUnauthBulkLength   = &protoError{"unauthenticated bulk length"}
	errQueryBufferLimited = errors.New("query buffer limit reached")
)

// reqReader parses requests from a connection's read buffer the way Redis's
// processInputBuffer does: multibulk ('*') or inline commands, with Redis's
// limits and error texts. A multibulk request is parsed incrementally, so a
// command with a million arguments that arrives in small reads is scanned
// once, not once per read. Arguments are returned as slices of the buffer:
// they stay valid until the next fill.
type reqReader struct {
	buf  []byte
	r, w int // unread bytes are buf[r:w]

	// State of a multibulk request in progress. Offsets are relative to
	// start so compaction only has to move start.
	start   int     // offset in buf of the request's first byte
	pos     int     // how far (from start) the request is parsed
	argc    int     // arguments announced; 0: no request in progress
	bulkLen int     // length of the bulk being read, -1: header not read
	offs    []int32 // start,end pairs (from start) of parsed arguments
	args    [][]byte

	maxBulk  int64 // proto-max-bulk-len
	authed   func() bool
	maxQuery int64 // client-query-buffer-limit
}

func newReqReader() *reqReader {
	return &reqReader{buf: make([]byte, readChunk), bulkLen: -1}
}

// skip is returned by the parsers for input that holds no command; nil
// means "need more bytes".
var skip = [][]byte{}

// next returns the next complete request, nil if more bytes are needed, or
// a *protoError. An empty request (blank inline line, "*0") is skipped.
func (rr *reqReader) next() ([][]byte, error) {
	for rr.r < rr.w {
		var args [][]byte
		var err error
		if rr.argc > 0 || rr.buf[rr.r] == '*' {
			args, err = rr.multibulk()
		} else {
			args, err = rr.inline()
		}
		if err != nil || args == nil {
			return nil, err
		}
		if len(args) > 0 {
			return args, nil
		}
	}
	return nil, nil
}

// inline parses one inline command: a line split like sdssplitargs.
func (rr *reqReader) inline() ([][]byte, error) {
	b := rr.buf[rr.r:rr.w]
	nl := bytes.IndexByte(b, '\n')
	if nl >= 0 && bytes.IndexByte(b[:nl], 0) >= 0 {
		// Redis finds the newline with strchr, which stops at a NUL: a
		// line with a NUL byte never completes.
		nl = -1
	}
	if nl < 0 {
		if len(b) > inlineMax {
			return nil, errTooBigInline
		}
		return nil, nil
	}
	line := b[:nl]
	if len(line) > 0 && line[len(line)-1] == '\r' {
		line = line[:len(line)-1]
	}
	rr.r += nl + 1
	// line holds no NUL (see above), so the C string sdssplitargs parses
	// is all of it.
	args, ok := sdsargs.Split(line, rr.args[:0])
	if !ok {
		return nil, errUnbalancedQuotes
	}
	rr.args = args
	if len(args) == 0 {
		return skip, nil // empty lines are allowed
	}
	return args, nil
}

// line finds a "\r\n"-terminated header starting at i (absolute) and
// returns the bytes before '\r' and the absolute offset after '\n'. ok is
// false if the header is incomplete.
func (rr *reqReader) line(i int) (hdr []byte, next int, ok bool) {
	b := rr.buf[i:rr.w]
	cr := bytes.IndexByte(b, '\r')
	if cr < 0 || cr+1 >= len(b) {
		return nil, 0, false
	}
	if bytes.IndexByte(b[:cr], 0) >= 0 {
		// Redis finds the '\r' with strchr, which stops at a NUL: the
		// header never completes (until it is too big).
		return nil, 0, false
	}
	return b[:cr], i + cr + 2, true
}

// multibulk continues parsing a '*' request.
func (rr *reqReader) multibulk() ([][]byte, error) {
	if rr.argc == 0 {
		hdr, next, ok := rr.line(rr.r)
		if !ok {
			if rr.w-rr.r > inlineMax {
				return nil, errTooBigMbulkCount
			}
			return nil, nil
		}
		n, ok := parseLL(hdr[1:])
		if !ok || n > 1<<31-1 {
			return nil, errInvalidMultibulk
		}
		if n > unauthMultibulk && !rr.authed() {
			return nil, errUnauthMultibulk
		}
		rr.r = next
		if n <= 0 {
			return skip, nil // "*0", "*-1": nothing to run
		}
		rr.start, rr.pos, rr.argc, rr.bulkLen = next, 0, int(n), -1
		rr.offs = rr.offs[:0]
	}
	for len(rr.offs)/2 < rr.argc {
		at := rr.start + rr.pos
		if rr.bulkLen < 0 {
			if at >= rr.w {
				return nil, nil
			}
			hdr, next, ok := rr.line(at)
			if !ok {
				if rr.w-at > inlineMax {
					return nil, errTooBigBulkCount
				}
				return nil, nil
			}
			if len(hdr) == 0 || hdr[0] != '$' {
				got := byte('\r') // an empty header: Redis reports the '\r'
				if len(hdr) > 0 {
					got = hdr[0]
				}
				return nil, &protoError{"expected '$', got '" + string(got) + "'"}
			}
			n, ok := parseLL(hdr[1:])
			if !ok || n < 0 || n > rr.maxBulk {
				return nil, errInvalidBulkLength
			}
			if n > unauthBulk && !rr.authed() {
				return nil, errUnauthBulkLength
			}
			rr.bulkLen = int(n)
			rr.pos = next - rr.start
			at = next
		}
		// Redis skips the two bytes after the bulk without checking them.
		if rr.w-at < rr.bulkLen+2 {
			return nil, nil
		}
		rr.offs = append(rr.offs, int32(rr.pos), int32(rr.pos+rr.bulkLen))
		rr.pos += rr.bulkLen + 2
		rr.bulkLen = -1
	}
	args := rr.args[:0]
	base := rr.buf[rr.start:]
	for i := 0; i < len(rr.offs); i += 2 {
		s, e := rr.offs[i], rr.offs[i+1]
		args = append(args, base[s:e:e])
	}
	rr.args = args
	rr.r = rr.start + rr.pos
	rr.argc = 0
	return args, nil
}

// parseLL is Redis's string2ll, for the short numbers of headers and
// for integer arguments (parseInt).
func parseLL(b []byte) (int64, bool) { return redisc.String2ll(b) }

// pending is how many bytes of an unfinished request are buffered: what
// client-query-buffer-limit bounds.
func (rr *reqReader) pending() int { return rr.w - rr.r }

// room prepares room for a read: it drops consumed bytes and grows the
// buffer to fit a large bulk whose length is known, so the read can land in
// place. It returns the slice to read into.
func (rr *reqReader) room() ([]byte, error) {
	if rr.r == rr.w && rr.argc == 0 {
		rr.r, rr.w = 0, 0
		if len(rr.buf) > 4*readChunk {
			// Give back the memory of a big request once it is done.
			rr.buf = make([]byte, readChunk)
		}
	}
	keep := rr.r
	if rr.argc > 0 {
		keep = rr.start
	}
	need := readChunk
	if rr.argc > 0 && rr.bulkLen >= 0 {
		// The rest of this bulk plus its CRLF, read in as few calls as the
		// kernel allows; but room grows only with what has arrived (at
		// most doubling it), so memory follows the bytes a client sends,
		// not the length it announces: 15 one-byte reads after "$536870912"
		// must not buy 512 MB.
		got := rr.w - (rr.start + rr.pos)
		if rest := rr.bulkLen + 2 - got; rest > need {
			need = min(rest, max(got, readChunk))
		}
	}
	if len(rr.buf)-rr.w >= need {
		return rr.buf[rr.w:], nil
	}
	used := rr.w - keep
	// The argument offsets count too: "*2000000000" followed by empty
	// bulks costs 8 bytes of offsets per 6 bytes of input.
	if int64(used+need+4*cap(rr.offs)) > rr.maxQuery && rr.maxQuery > 0 {
		return nil, errQueryBufferLimited
	}
	if keep > 0 && len(rr.buf)-used >= need {
		copy(rr.buf, rr.buf[keep:rr.w])
	} else {
		size := max(2*len(rr.buf), used+need)
		if rr.maxQuery > 0 && int64(size) > rr.maxQuery {
			size = int(rr.maxQuery) // doubling must not overshoot the limit
		}
		nb := make([]byte, size)
		copy(nb, rr.buf[keep:rr.w])
		rr.buf = nb
	}
	rr.r -= keep
	rr.w -= keep
	if rr.argc > 0 {
		rr.start -= keep
	}
	return rr.buf[rr.w:], nil
}
