package command

import (
	"math"
	"strconv"
	"strings"

	"github.com/tidwall/redcon"
)

// A Writer receives a command's reply, one element at a time. Handlers
// describe the reply's shape (a status, an error, an integer, a bulk
// string, an aggregate of n elements that follow, ...) and never its
// encoding: RESP writes RESP2 or RESP3 bytes, replay drops everything,
// and other front ends (JSON over HTTP, a script's values) provide their
// own. Aggregates announce their length first; their elements are the
// next calls (2n of them for MapLen).
type Writer interface {
	// Status is a simple string ("OK", "QUEUED", "PONG").
	Status(s string)
	// Error is an error reply; msg starts with its code ("ERR ...",
	// "WRONGTYPE ...").
	Error(msg string)
	Int(n int64)
	Bulk(b []byte)
	BulkString(s string)
	// Null is the null bulk string; NullArray the null array (they differ
	// in RESP2 only).
	Null()
	NullArray()
	ArrayLen(n int)
	// MapLen starts a map of n key/value pairs; SetLen a set of n members.
	MapLen(n int)
	SetLen(n int)
	Double(f float64)
	Bool(b bool)
	// Verbatim is text meant for humans (INFO, CLIENT INFO): a verbatim
	// string of format "txt" in RESP3.
	Verbatim(s string)
	// PushLen starts an out-of-band message of n elements.
	PushLen(n int)
}

// RESP is the Writer of RESP connections: it appends replies to Buf in
// RESP2 or RESP3 (Proto) with redcon's encoders. The shapes that differ
// between the two (nulls, maps, sets, doubles, booleans, verbatim text)
// are chosen here, so handlers never branch on the protocol.
type RESP struct {
	Buf   []byte
	Proto int // 2 or 3

	// Limit is the hard output-buffer limit (0: none). Bulk strings, of
	// which big replies are made, check it: when Buf passes it, what was
	// built is dropped and Limited is set, and the transport closes the
	// connection once the handler returns. Later replies still get
	// appended (handlers don't check) but are cut again at the limit, so
	// memory stays bounded. Peak is Buf's size when it first passed.
	Limit   int
	Limited bool
	Peak    int
}

func (w *RESP) Status(s string) {
	if s == "OK" {
		w.Buf = append(w.Buf, "+OK\r\n"...)
		return
	}
	w.Buf = redcon.AppendString(w.Buf, s)
}

// Error writes "-<msg>\r\n". Newlines are replaced by spaces so a reply
// stays one line, as Redis's addReplyErrorLength does.
func (w *RESP) Error(msg string) {
	w.Buf = append(w.Buf, '-')
	for i := 0; i < len(msg); i++ {
		ch := msg[i]
		if ch == '\r' || ch == '\n' {
			ch = ' '
		}
		w.Buf = append(w.Buf, ch)
	}
	w.Buf = append(w.Buf, "\r\n"...)
}

func (w *RESP) Int(n int64) { w.Buf = redcon.AppendInt(w.Buf, n) }

func (w *RESP) Bulk(b []byte) {
	w.Buf = redcon.AppendBulk(w.Buf, b)
	if w.Limit > 0 && len(w.Buf) > w.Limit {
		w.overflow()
	}
}

func (w *RESP) BulkString(s string) {
	w.Buf = redcon.AppendBulkString(w.Buf, s)
	if w.Limit > 0 && len(w.Buf) > w.Limit {
		w.overflow()
	}
}

func (w *RESP) overflow() {
	if !w.Limited {
		w.Peak = len(w.Buf)
	}
	w.Limited = true
	w.Buf = w.Buf[:0]
}

func (w *RESP) ArrayLen(n int) { w.Buf = redcon.AppendArray(w.Buf, n) }

// Null is $-1 in RESP2, _ in RESP3.
func (w *RESP) Null() {
	if w.Proto == 3 {
		w.Buf = append(w.Buf, "_\r\n"...)
		return
	}
	w.Buf = append(w.Buf, "$-1\r\n"...)
}

// NullArray is *-1 in RESP2, _ in RESP3.
func (w *RESP) NullArray() {
	if w.Proto == 3 {
		w.Buf = append(w.Buf, "_\r\n"...)
		return
	}
	w.Buf = append(w.Buf, "*-1\r\n"...)
}

// MapLen is a flat array of 2n in RESP2.
func (w *RESP) MapLen(n int) {
	if w.Proto == 3 {
		w.Buf = appendPrefix(w.Buf, '%', n)
		return
	}
	w.Buf = redcon.AppendArray(w.Buf, 2*n)
}

// SetLen is an array in RESP2.
func (w *RESP) SetLen(n int) {
	if w.Proto == 3 {
		w.Buf = appendPrefix(w.Buf, '~', n)
		return
	}
	w.Buf = redcon.AppendArray(w.Buf, n)
}

// PushLen is an array in RESP2.
func (w *RESP) PushLen(n int) {
	if w.Proto == 3 {
		w.Buf = appendPrefix(w.Buf, '>', n)
		return
	}
	w.Buf = redcon.AppendArray(w.Buf, n)
}

// Double is a RESP3 double, or a bulk string in RESP2, formatted as Redis
// does (%.17g, "inf", "-inf").
func (w *RESP) Double(f float64) {
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
	if w.Proto == 3 {
		w.Buf = append(append(append(w.Buf, ','), s...), "\r\n"...)
		return
	}
	w.BulkString(s)
}

// Bool is a RESP3 boolean, or the integer 1/0 in RESP2.
func (w *RESP) Bool(b bool) {
	switch {
	case w.Proto == 3 && b:
		w.Buf = append(w.Buf, "#t\r\n"...)
	case w.Proto == 3:
		w.Buf = append(w.Buf, "#f\r\n"...)
	case b:
		w.Buf = append(w.Buf, ":1\r\n"...)
	default:
		w.Buf = append(w.Buf, ":0\r\n"...)
	}
}

// Verbatim is a RESP3 verbatim string of format "txt", or a bulk string.
func (w *RESP) Verbatim(s string) {
	if w.Proto == 3 {
		w.Buf = appendPrefix(w.Buf, '=', len(s)+4)
		w.Buf = append(append(append(w.Buf, "txt:"...), s...), "\r\n"...)
		return
	}
	w.BulkString(s)
}

func appendPrefix(b []byte, p byte, n int) []byte {
	b = append(b, p)
	b = strconv.AppendInt(b, int64(n), 10)
	return append(b, '\r', '\n')
}

// Discard is a Writer that drops every reply (AOF replay).
type Discard struct{}

func (Discard) Status(string)     {}
func (Discard) Error(string)      {}
func (Discard) Int(int64)         {}
func (Discard) Bulk([]byte)       {}
func (Discard) BulkString(string) {}
func (Discard) Null()             {}
func (Discard) NullArray()        {}
func (Discard) ArrayLen(int)      {}
func (Discard) MapLen(int)        {}
func (Discard) SetLen(int)        {}
func (Discard) Double(float64)    {}
func (Discard) Bool(bool)         {}
func (Discard) Verbatim(string)   {}
func (Discard) PushLen(int)       {}

var (
	_ Writer = (*RESP)(nil)
	_ Writer = Discard{}
)

// The session's shorthands for its writer, so handlers read as replies.

func (c *Session) ok()                 { c.w.Status("OK") }
func (c *Session) simple(s string)     { c.w.Status(s) }
func (c *Session) int(n int64)         { c.w.Int(n) }
func (c *Session) bulk(b []byte)       { c.w.Bulk(b) }
func (c *Session) bulkString(s string) { c.w.BulkString(s) }
func (c *Session) array(n int)         { c.w.ArrayLen(n) }
func (c *Session) null()               { c.w.Null() }
func (c *Session) nullArray()          { c.w.NullArray() }
func (c *Session) mapLen(n int)        { c.w.MapLen(n) }
func (c *Session) setLen(n int)        { c.w.SetLen(n) }
func (c *Session) double(f float64)    { c.w.Double(f) }
func (c *Session) verbatim(s string)   { c.w.Verbatim(s) }

// errorReply writes an error reply, marking the command failed and
// counting it by code for INFO errorstats. As Redis's addReplyErrorFormat
// does with a message that quotes a user's argument, CRs and LFs at its
// end are trimmed (the writer turns the ones inside into spaces), so
// "Unsupported option BAD\r\n" reads "Unsupported option BAD".
func (c *Session) errorReply(msg string) {
	msg = strings.TrimRight(msg, "\r\n")
	c.failed = true
	c.core.admin.errors.count(msg)
	c.w.Error(msg)
}

// bulks writes an array of bulk strings. A RESP writer gets them without
// an interface call each (LRANGE's replies are made of them).
func (c *Session) bulks(items [][]byte) {
	if r, ok := c.w.(*RESP); ok {
		r.ArrayLen(len(items))
		for _, it := range items {
			r.Bulk(it)
			if r.Limited {
				return // the reply is dropped anyway
			}
		}
		return
	}
	c.w.ArrayLen(len(items))
	for _, it := range items {
		c.w.Bulk(it)
		if c.over() {
			return // the reply is dropped anyway
		}
	}
}
