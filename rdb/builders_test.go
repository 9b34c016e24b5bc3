package rdb

import (
	"encoding/binary"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// Test-only encoders for the formats this package reads but never writes:
// ziplists, listpacks, quicklists and whole RDB files. The redis tests prove
// them against a real redis-server (RESTORE must accept what they build), so
// table tests built on them test the decoder against genuine encodings.

// withTrailer appends a DUMP trailer for the given RDB version.
func withTrailer(body []byte, version uint16) []byte {
	p := append([]byte(nil), body...)
	p = binary.LittleEndian.AppendUint16(p, version)
	return binary.LittleEndian.AppendUint64(p, crc64(0, p))
}

// ziplistOf builds a ziplist, choosing the smallest encoding for each entry
// the way ziplist.c does: an int64 entry is stored as an integer, a string
// entry as a string (even if it looks like a number, to test that path).
func ziplistOf(entries ...any) []byte {
	zl := make([]byte, 10)
	prevlen, last, count := 0, 10, 0
	for _, e := range entries {
		start := len(zl)
		if prevlen < 254 {
			zl = append(zl, byte(prevlen))
		} else {
			zl = binary.LittleEndian.AppendUint32(append(zl, 0xfe), uint32(prevlen))
		}
		switch e := e.(type) {
		case int64:
			switch {
			case e >= 0 && e <= 12:
				zl = append(zl, 0xf1+byte(e))
			case e == int64(int8(e)):
				zl = append(zl, 0xfe, byte(e))
			case e == int64(int16(e)):
				zl = binary.LittleEndian.AppendUint16(append(zl, 0xc0), uint16(e))
			case e >= -1<<23 && e < 1<<23:
				zl = append(zl, 0xf0, byte(e), byte(e>>8), byte(e>>16))
			case e == int64(int32(e)):
				zl = binary.LittleEndian.AppendUint32(append(zl, 0xd0), uint32(e))
			default:
				zl = binary.LittleEndian.AppendUint64(append(zl, 0xe0), uint64(e))
			}
		case string:
			switch n := len(e); {
			case n <= 0x3f:
				zl = append(zl, byte(n))
			case n <= 0x3fff:
				zl = append(zl, 0x40|byte(n>>8), byte(n))
			default:
				zl = binary.BigEndian.AppendUint32(append(zl, 0x80), uint32(n))
			}
			zl = append(zl, e...)
		}
		prevlen, last = len(zl)-start, start
		count++
	}
	zl = append(zl, 0xff)
	binary.LittleEndian.PutUint32(zl, uint32(len(zl)))
	binary.LittleEndian.PutUint32(zl[4:], uint32(last))
	binary.LittleEndian.PutUint16(zl[8:], uint16(min(count, 0xffff)))
	return zl
}

// listpackOf builds a listpack the way listpack.c does, with the same
// int64-versus-string convention as ziplistOf.
func listpackOf(entries ...any) []byte {
	lp := make([]byte, 6)
	for _, e := range entries {
		start := len(lp)
		switch e := e.(type) {
		case int64:
			switch {
			case e >= 0 && e <= 127:
				lp = append(lp, byte(e))
			case e >= -4096 && e <= 4095:
				u := uint64(e) & 0x1fff
				lp = append(lp, 0xc0|byte(u>>8), byte(u))
			case e == int64(int16(e)):
				lp = binary.LittleEndian.AppendUint16(append(lp, 0xf1), uint16(e))
			case e >= -1<<23 && e < 1<<23:
				lp = append(lp, 0xf2, byte(e), byte(e>>8), byte(e>>16))
			case e == int64(int32(e)):
				lp = binary.LittleEndian.AppendUint32(append(lp, 0xf3), uint32(e))
			default:
				lp = binary.LittleEndian.AppendUint64(append(lp, 0xf4), uint64(e))
			}
		case string:
			switch n := len(e); {
			case n <= 63:
				lp = append(lp, 0x80|byte(n))
			case n <= 4095:
				lp = append(lp, 0xe0|byte(n>>8), byte(n))
			default:
				lp = binary.LittleEndian.AppendUint32(append(lp, 0xf0), uint32(n))
			}
			lp = append(lp, e...)
		}
		lp = appendBacklen(lp, uint64(len(lp)-start))
	}
	lp = append(lp, 0xff)
	binary.LittleEndian.PutUint32(lp, uint32(len(lp)))
	binary.LittleEndian.PutUint16(lp[4:], uint16(min(len(entries), 0xffff)))
	return lp
}

// rawString encodes s as an RDB string without integer encoding.
func rawString(s []byte) []byte { return append(appendLen(nil, uint64(len(s))), s...) }

// quicklistOf builds an RDB_TYPE_LIST_QUICKLIST value body from ziplists.
func quicklistOf(nodes ...[]byte) []byte {
	b := appendLen([]byte{typeListQuicklist}, uint64(len(nodes)))
	for _, n := range nodes {
		b = append(b, rawString(n)...)
	}
	return b
}

// qlNode is one RDB_TYPE_LIST_QUICKLIST_2 node.
type qlNode struct {
	container byte
	data      []byte
}

func quicklist2Of(nodes ...qlNode) []byte {
	b := appendLen([]byte{typeListQuicklist2}, uint64(len(nodes)))
	for _, n := range nodes {
		b = append(b, n.container)
		b = append(b, rawString(n.data)...)
	}
	return b
}

// strs renders entries the way Redis returns them (integers in decimal).
func strs(entries ...any) [][]byte {
	out := make([][]byte, len(entries))
	for i, e := range entries {
		switch e := e.(type) {
		case int64:
			out[i] = strconv.AppendInt(nil, e, 10)
		case string:
			out[i] = []byte(e)
		}
	}
	return out
}

// rdbFile builds an RDB file for tests.
type rdbFile struct {
	buf []byte
}

func newRDBFile(version int) *rdbFile {
	f := &rdbFile{buf: fmt.Appendf(nil, "REDIS%04d", version)}
	f.aux("redis-ver", "7.0.15")
	return f
}

func (f *rdbFile) aux(k, v string) *rdbFile {
	f.buf = append(f.buf, opAux)
	f.buf = appendString(f.buf, []byte(k))
	f.buf = appendString(f.buf, []byte(v))
	return f
}

func (f *rdbFile) selectDB(db int) *rdbFile {
	f.buf = appendLen(append(f.buf, opSelectDB), uint64(db))
	f.buf = appendLen(append(f.buf, opResizeDB), 1)
	f.buf = appendLen(f.buf, 0)
	return f
}

func (f *rdbFile) expireMs(ms int64) *rdbFile {
	f.buf = binary.LittleEndian.AppendUint64(append(f.buf, opExpireTimeMs), uint64(ms))
	return f
}

// key appends a key record; value is a type byte and a value body, such as
// a DUMP payload without its trailer.
func (f *rdbFile) key(k string, value []byte) *rdbFile {
	f.buf = append(f.buf, value[0])
	f.buf = appendString(f.buf, []byte(k))
	f.buf = append(f.buf, value[1:]...)
	return f
}

// end appends EOF and the checksum (or zero when sum is false).
func (f *rdbFile) end(sum bool) []byte {
	f.buf = append(f.buf, opEOF)
	var c uint64
	if sum {
		c = crc64(0, f.buf)
	}
	return binary.LittleEndian.AppendUint64(f.buf, c)
}

// body strips the trailer from a DUMP payload.
func body(payload []byte) []byte { return payload[:len(payload)-trailerLen] }

var updateSeeds = flag.Bool("update-seeds", false, "write fuzz seed corpora under testdata/fuzz from the table and redis tests")

// seed records data as a committed fuzz seed for target when -update-seeds
// is given, in the "go test fuzz v1" format. Inputs over 4 KiB are left out:
// big seeds slow every fuzzing step and add no structure small ones lack.
func seed(t testing.TB, target, name string, data []byte) {
	t.Helper()
	if !*updateSeeds || len(data) > 4096 {
		return
	}
	dir := filepath.Join("testdata", "fuzz", target)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	content := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", data)
	name = strings.ReplaceAll(name, " ", "-")
	if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
