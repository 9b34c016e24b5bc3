package server

import (
	"math"
	"strconv"
	"strings"

	"github.com/tidwall/redcon"
)

// Reply writers. Replies are appended to c.out with redcon's RESP
// encoders; the shapes that differ between RESP2 and RESP3 (nulls, maps,
// sets, doubles, booleans) are chosen here by the protocol the client
// picked with HELLO, so handlers never branch on it.

func (c *client) ok() { c.out = append(c.out, "+OK\r\n"...) }

func (c *client) simple(s string) { c.out = redcon.AppendString(c.out, s) }

func (c *client) int(n int64) { c.out = redcon.AppendInt(c.out, n) }

// bulk and bulkString enforce the hard output-buffer limit (limits.go):
// big replies are made of them.
func (c *client) bulk(b []byte) {
	c.out = redcon.AppendBulk(c.out, b)
	if c.outHard > 0 && len(c.out) > c.outHard {
		c.outputOverflow()
	}
}

func (c *client) bulkString(s string) {
	c.out = redcon.AppendBulkString(c.out, s)
	if c.outHard > 0 && len(c.out) > c.outHard {
		c.outputOverflow()
	}
}

func (c *client) bulkInt(n int64) { c.out = redcon.AppendBulkInt(c.out, n) }

func (c *client) array(n int) { c.out = redcon.AppendArray(c.out, n) }

// null is the null bulk string ($-1 in RESP2, _ in RESP3).
func (c *client) null() {
	if c.resp == 3 {
		c.out = append(c.out, "_\r\n"...)
		return
	}
	c.out = append(c.out, "$-1\r\n"...)
}

// nullArray is the null array (*-1 in RESP2, _ in RESP3).
func (c *client) nullArray() {
	if c.resp == 3 {
		c.out = append(c.out, "_\r\n"...)
		return
	}
	c.out = append(c.out, "*-1\r\n"...)
}

// mapLen starts a map of n pairs: a flat array of 2n in RESP2.
func (c *client) mapLen(n int) {
	if c.resp == 3 {
		c.out = appendPrefix(c.out, '%', n)
		return
	}
	c.out = redcon.AppendArray(c.out, 2*n)
}

// setLen starts a set of n members: an array in RESP2.
func (c *client) setLen(n int) {
	if c.resp == 3 {
		c.out = appendPrefix(c.out, '~', n)
		return
	}
	c.out = redcon.AppendArray(c.out, n)
}

// double is a RESP3 double, or a bulk string in RESP2, formatted as Redis
// does (%.17g, "inf", "-inf").
func (c *client) double(f float64) {
	var s string
	switch {
	case math.IsInf(f, 1):
		s = "inf"
	case math.IsInf(f, -1):
		s = "-inf"
	case math.IsNaN(f):
		s = "nan"
	default:
		s = strconv.FormatFloat(f, 'g', 17, 64)
	}
	if c.resp == 3 {
		c.out = append(append(append(c.out, ','), s...), "\r\n"...)
		return
	}
	c.bulkString(s)
}

// boolean is a RESP3 boolean, or the integer 1/0 in RESP2.
func (c *client) boolean(b bool) {
	if c.resp == 3 {
		if b {
			c.out = append(c.out, "#t\r\n"...)
		} else {
			c.out = append(c.out, "#f\r\n"...)
		}
		return
	}
	if b {
		c.int(1)
	} else {
		c.int(0)
	}
}

// verbatim is a RESP3 verbatim string of format "txt", or a bulk string.
func (c *client) verbatim(s string) {
	if c.resp == 3 {
		c.out = appendPrefix(c.out, '=', len(s)+4)
		c.out = append(append(append(c.out, "txt:"...), s...), "\r\n"...)
		return
	}
	c.bulkString(s)
}

// errorReply writes "-<msg>\r\n"; msg starts with its code (ERR, WRONGTYPE,
// ...). As Redis's addReplyErrorFormat does with a message that quotes a
// user's argument, CRs and LFs at its end are trimmed and the ones inside
// become spaces, so a reply stays one line ("Unsupported option BAD\r\n"
// reads "Unsupported option BAD"). A message that does not end in a
// user's argument has nothing to trim.
func (c *client) errorReply(msg string) {
	c.failed = true
	msg = strings.TrimRight(msg, "\r\n")
	c.s.admin.errors.count(msg)
	c.out = append(c.out, '-')
	for i := 0; i < len(msg); i++ {
		ch := msg[i]
		if ch == '\r' || ch == '\n' {
			ch = ' '
		}
		c.out = append(c.out, ch)
	}
	c.out = append(c.out, "\r\n"...)
}

func appendPrefix(b []byte, p byte, n int) []byte {
	b = append(b, p)
	b = strconv.AppendInt(b, int64(n), 10)
	return append(b, '\r', '\n')
}

// bulks writes an array of bulk strings.
func (c *client) bulks(items [][]byte) {
	c.array(len(items))
	for _, it := range items {
		c.bulk(it)
		if c.outLimited {
			return // the reply is dropped anyway
		}
	}
}
