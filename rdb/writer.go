package rdb

import (
	"encoding/binary"
	"errors"
	"io"
	"strconv"
	"time"

	"mullet/internal/lzf"
)

// A Writer writes a whole RDB file as Redis 7.0 does with rdbcompression
// yes: the "REDIS0010" header and aux fields, then per database SELECTDB
// and RESIZEDB, the keys with their expiry times, and EOF with the CRC64
// of everything before it. It is what an RDB-preamble AOF base holds
// (aof-use-rdb-preamble yes).
//
// Strings are written as rdbSaveRawString does: integers in the int32
// range as integers, longer than 20 bytes LZF-compressed when that saves
// space, raw otherwise. Lists are RDB_TYPE_LIST_QUICKLIST_2 (18): the
// caller decides the nodes (mullet gives one per chunk); each node is a
// listpack of string entries, LZF-compressed like a string. Redis 7.0
// loads nodes of any size and re-encodes nothing.
//
// Use: NewWriter, then for each database SelectDB, then String or List
// with Node and Item, then Close. The first error sticks: later calls do
// nothing and Close returns it. A Writer is not safe for concurrent use.
type Writer struct {
	w   io.Writer
	buf []byte // pending output, written out in bufSize pieces
	crc uint64
	err error

	comp lzf.Compressor
	lz   []byte // LZF output scratch

	// The list being written: nodes declared and written, the listpack
	// being built.
	nodes, nodesDone int
	inNode           bool
	lp               []byte
	lpCount          int
}

const bufSize = 256 << 10

// NewWriter starts an RDB file on w with Redis 7.0's aux fields; aofBase
// marks it as an AOF preamble (the aux field aof-base, as Redis writes).
func NewWriter(w io.Writer, aofBase bool) *Writer {
	rw := &Writer{w: w, buf: make([]byte, 0, bufSize+64<<10)}
	rw.buf = append(rw.buf, "REDIS00"+strconv.Itoa(Version)...)
	rw.aux("redis-ver", "7.0.15")
	rw.aux("redis-bits", "64")
	rw.aux("ctime", strconv.FormatInt(time.Now().Unix(), 10))
	rw.aux("used-mem", "0")
	base := "0"
	if aofBase {
		base = "1"
	}
	rw.aux("aof-base", base)
	return rw
}

func (w *Writer) aux(k, v string) {
	w.buf = append(w.buf, opAux)
	w.buf = appendString(w.buf, []byte(k))
	w.buf = appendString(w.buf, []byte(v))
}

// errWriterState reports a call out of order.
var errWriterState = errors.New("rdb: Writer methods called out of order")

// SelectDB starts database db, which holds keys keys of which expires
// have a time to live (RESIZEDB hints; Redis sizes its tables from them).
func (w *Writer) SelectDB(db, keys, expires int) {
	w.endNode()
	if w.nodes != w.nodesDone {
		w.fail(errWriterState)
	}
	w.buf = append(w.buf, opSelectDB)
	w.buf = appendLen(w.buf, uint64(db))
	w.buf = append(w.buf, opResizeDB)
	w.buf = appendLen(w.buf, uint64(keys))
	w.buf = appendLen(w.buf, uint64(expires))
	w.flush(false)
}

// key writes the expiry, type and name of a key.
func (w *Writer) key(t byte, key []byte, expireAtMs int64) {
	w.endNode()
	if w.nodes != w.nodesDone {
		w.fail(errWriterState)
	}
	if expireAtMs != NoExpire {
		w.buf = append(w.buf, opExpireTimeMs)
		w.buf = binary.LittleEndian.AppendUint64(w.buf, uint64(expireAtMs))
	}
	w.buf = append(w.buf, t)
	w.buf = w.appendLZFString(w.buf, key)
}

// String writes a string key; expireAtMs is NoExpire or a Unix time in
// milliseconds.
func (w *Writer) String(key, val []byte, expireAtMs int64) {
	w.key(typeString, key, expireAtMs)
	w.buf = w.appendLZFString(w.buf, val)
	w.flush(false)
}

// List starts a list key of nodes nodes (at least 1: Redis holds no empty
// list); each is then written with Node and Item.
func (w *Writer) List(key []byte, expireAtMs int64, nodes int) {
	if nodes < 1 {
		w.fail(errors.New("rdb: a list needs at least one node"))
		return
	}
	w.key(typeListQuicklist2, key, expireAtMs)
	w.buf = appendLen(w.buf, uint64(nodes))
	w.nodes, w.nodesDone = nodes, 0
}

// Node starts the next node of the list; the previous one, if any, ends.
func (w *Writer) Node() {
	w.endNode()
	if w.nodesDone >= w.nodes {
		w.fail(errWriterState)
		return
	}
	w.inNode = true
	w.lp = append(w.lp[:0], 0, 0, 0, 0, 0, 0) // total bytes, count: set at the end
	w.lpCount = 0
}

// Item appends an item to the current node. The Writer copies it.
func (w *Writer) Item(v []byte) {
	if !w.inNode {
		w.fail(errWriterState)
		return
	}
	start := len(w.lp)
	n := len(v)
	switch {
	case n < 64:
		w.lp = append(w.lp, 0x80|byte(n))
	case n < 4096:
		w.lp = append(w.lp, 0xE0|byte(n>>8), byte(n))
	default:
		w.lp = binary.LittleEndian.AppendUint32(append(w.lp, 0xF0), uint32(n))
	}
	w.lp = append(w.lp, v...)
	w.lp = appendBacklen(w.lp, uint64(len(w.lp)-start))
	w.lpCount++
}

// endNode writes the node being built, if any.
func (w *Writer) endNode() {
	if !w.inNode {
		return
	}
	w.inNode = false
	if w.lpCount == 0 {
		w.fail(errors.New("rdb: an empty list node"))
		return
	}
	w.lp = append(w.lp, 0xFF)
	binary.LittleEndian.PutUint32(w.lp[0:4], uint32(len(w.lp)))
	binary.LittleEndian.PutUint16(w.lp[4:6], uint16(min(w.lpCount, 0xFFFF)))
	w.buf = appendLen(w.buf, containerPacked)
	w.buf = w.appendLZFString(w.buf, w.lp)
	w.nodesDone++
	w.flush(false)
}

// Close ends the last list, writes EOF and the checksum, and returns the
// first error met.
func (w *Writer) Close() error {
	w.endNode()
	if w.nodes != w.nodesDone {
		w.fail(errors.New("rdb: a list ended before all its nodes were written"))
	}
	w.buf = append(w.buf, opEOF)
	w.flush(true)
	if w.err != nil {
		return w.err
	}
	var sum [8]byte
	binary.LittleEndian.PutUint64(sum[:], w.crc)
	if _, err := w.w.Write(sum[:]); err != nil {
		w.err = err
	}
	return w.err
}

func (w *Writer) fail(err error) {
	if w.err == nil {
		w.err = err
	}
}

// flush writes buf out once it is big enough, or always if all.
func (w *Writer) flush(all bool) {
	if len(w.buf) < bufSize && !all || w.err != nil {
		return
	}
	w.crc = crc64(w.crc, w.buf)
	if _, err := w.w.Write(w.buf); err != nil {
		w.fail(err)
	}
	w.buf = w.buf[:0]
}

// appendLZFString appends s as rdbSaveRawString does with rdbcompression
// yes: an integer if it is one, LZF if longer than 20 bytes and that
// saves space, raw otherwise.
func (w *Writer) appendLZFString(dst, s []byte) []byte {
	if len(s) <= 20 {
		return appendString(dst, s)
	}
	// rdbSaveLzfStringObject: the output must be at least 4 bytes shorter.
	out := len(s) - 4
	if cap(w.lz) < out {
		w.lz = make([]byte, out+out/4)
	}
	n := w.comp.Compress(s, w.lz[:out])
	if n == 0 {
		return appendString(dst, s)
	}
	dst = append(dst, lenEnc<<6|encLZF)
	dst = appendLen(dst, uint64(n))
	dst = appendLen(dst, uint64(len(s)))
	return append(dst, w.lz[:n]...)
}
