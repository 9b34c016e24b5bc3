package rdb

import (
	"bytes"
	"errors"
	"math"
	"strconv"
	"strings"
	"testing"
)

// Tests in this file check both directions against a real redis-server 7.0:
// payloads Redis DUMPs must Decode to what GET/LRANGE return, and payloads
// we encode must RESTORE to the same contents.

// intEdges are integers at the edges of every listpack and ziplist integer
// encoding, as list items.
func intEdges() [][]byte {
	var out [][]byte
	for _, v := range []int64{0, 1, 12, 13, 127, 128, -1, -128, -129, 4095, 4096, -4096, -4097,
		math.MaxInt16, math.MinInt16, math.MaxInt16 + 1, 1<<23 - 1, -1 << 23, 1 << 23,
		math.MaxInt32, math.MinInt32, math.MaxInt32 + 1, math.MaxInt64, math.MinInt64} {
		out = append(out, strconv.AppendInt(nil, v, 10))
	}
	// Near-integers that must stay strings.
	return append(out, []byte("-0"), []byte("007"), []byte("+1"), []byte("9223372036854775808"))
}

func numbered(n int, f func(i int) string) [][]byte {
	out := make([][]byte, n)
	for i := range out {
		out[i] = []byte(f(i))
	}
	return out
}

// redisLists are the lists every redis test builds, by key.
func redisLists() map[string][][]byte {
	return map[string][][]byte{
		"small":  {[]byte("a"), []byte("b"), []byte("1"), []byte("2")},
		"ints":   intEdges(),
		"binary": {{0, 0xff, '\r', '\n'}, {}, []byte("é")},
		"10k": numbered(10000, func(i int) string {
			if i%2 == 0 {
				return strconv.Itoa(i * 7919)
			}
			return "item-" + strconv.Itoa(i)
		}),
		// Items past the 8 KiB node size get a listpack node of their own.
		"large": numbered(6, func(i int) string {
			if i%2 == 1 {
				return "s" + strconv.Itoa(i)
			}
			return strings.Repeat(string(rune('a'+i)), 9000+i)
		}),
		// Long repetitive items, LZF-compressed by rdbcompression.
		"repetitive": numbered(50, func(i int) string { return strings.Repeat("abc", 100+i) }),
	}
}

func redisStrings() map[string][]byte {
	return map[string][]byte{
		"s-empty":  {},
		"s-short":  []byte("hello"),
		"s-int":    []byte("12345"),
		"s-neg":    []byte("-2147483648"),
		"s-int64":  []byte("9223372036854775807"),
		"s-lz":     []byte(strings.Repeat("compress me ", 1000)),
		"s-binary": {0, 1, 2, 0xfe, 0xff},
		"s-big":    bytes.Repeat([]byte{'z', 'y'}, 100000),
	}
}

func TestDecodeRedisDump(t *testing.T) {
	srv := startRedis(t)
	// A separate key per node layout: default nodes, LZF-compressed nodes
	// (list-compress-depth) and plain nodes (packed threshold lowered).
	lists := redisLists()
	for k, items := range lists {
		srv.rpush(t, k, items)
	}
	srv.do(t, "CONFIG", "SET", "list-compress-depth", "1")
	lists["compressed"] = lists["10k"]
	srv.rpush(t, "compressed", lists["compressed"])
	srv.do(t, "CONFIG", "SET", "list-compress-depth", "0")
	srv.do(t, "DEBUG", "QUICKLIST-PACKED-THRESHOLD", "1000")
	lists["plain"] = numbered(9, func(i int) string { return strings.Repeat(strconv.Itoa(i), 500+i*300) })
	srv.rpush(t, "plain", lists["plain"])
	for k, v := range redisStrings() {
		srv.do(t, "SET", k, v)
	}

	for k, want := range lists {
		t.Run("list-"+k, func(t *testing.T) {
			p := srv.do(t, "DUMP", k).([]byte)
			if p[0] != typeListQuicklist2 {
				t.Fatalf("Redis dumped type %d, expected %d", p[0], typeListQuicklist2)
			}
			if len(p) < 4096 {
				seed(t, "FuzzDecode", "redis-list-"+k, p)
			}
			v, err := Decode(p)
			if err != nil {
				t.Fatal(err)
			}
			assertList(t, v, srv.lrange(t, k)) // what Redis holds
			assertList(t, v, want)             // what we pushed
		})
	}
	for k, want := range redisStrings() {
		t.Run(k, func(t *testing.T) {
			p := srv.do(t, "DUMP", k).([]byte)
			if len(p) < 4096 {
				seed(t, "FuzzDecode", "redis-"+k, p)
			}
			v, err := Decode(p)
			if err != nil {
				t.Fatal(err)
			}
			if v.Kind != KindString || !bytes.Equal(v.Str, want) {
				t.Fatalf("got %v %.40q, want %.40q", v.Kind, v.Str, want)
			}
		})
	}
	// Make sure the layouts this test means to exercise really occurred.
	for k, want := range map[string]nodeStats{
		"plain":      {plain: 7, lzf: 7}, // items of 500 and 800 bytes stay packed
		"compressed": {lzf: 1},
		"large":      {packed: 4}, // 3 big items alone, 3 small ones grouped
		"repetitive": {lzf: 1},
	} {
		got := quicklistNodes(t, srv.do(t, "DUMP", k).([]byte))
		if got.plain < want.plain || got.lzf < want.lzf || got.packed < want.packed {
			t.Errorf("%s: nodes %+v, want at least %+v", k, got, want)
		}
	}
	if p := srv.do(t, "DUMP", "s-lz").([]byte); p[1] != lenEnc<<6|encLZF {
		t.Errorf("s-lz was not LZF-compressed: first bytes %x", p[:4])
	}
}

func TestEncodeRestoreInRedis(t *testing.T) {
	srv := startRedis(t)
	for k, items := range redisLists() {
		t.Run("list-"+k, func(t *testing.T) {
			srv.do(t, "RESTORE", k, "0", EncodeList(items))
			assertList(t, Value{Kind: KindList, List: srv.lrange(t, k)}, items)
		})
	}
	t.Run("list-encoder-70k", func(t *testing.T) {
		// Past 16383 items the count needs the 32-bit length form.
		e := NewListEncoder(nil)
		items := numbered(70000, func(i int) string { return strconv.Itoa(i - 35000) })
		for _, it := range items {
			e.Add(it)
		}
		srv.do(t, "RESTORE", "enc70k", "0", e.Finish())
		assertList(t, Value{Kind: KindList, List: srv.lrange(t, "enc70k")}, items)
	})
	for k, v := range redisStrings() {
		t.Run(k, func(t *testing.T) {
			srv.do(t, "RESTORE", k, "0", EncodeString(v))
			if got, _ := srv.do(t, "GET", k).([]byte); !bytes.Equal(got, v) {
				t.Fatalf("GET = %.40q, want %.40q", got, v)
			}
		})
	}
	t.Run("empty list refused", func(t *testing.T) {
		r := srv.try(t, "RESTORE", "empty", "0", EncodeList(nil))
		if e, ok := r.(respError); !ok || !strings.Contains(string(e), "Bad data format") {
			t.Fatalf("RESTORE empty list = %v, want Bad data format", r)
		}
	})
	// With compression off our string payloads are byte-identical to DUMP's.
	srv.do(t, "CONFIG", "SET", "rdbcompression", "no")
	for k, v := range redisStrings() {
		if p := srv.do(t, "DUMP", k).([]byte); !bytes.Equal(p, EncodeString(v)) {
			t.Errorf("%s: DUMP = %.60x, EncodeString = %.60x", k, p, EncodeString(v))
		}
	}
}

// TestLegacyEncodingsRestoreInRedis proves the test-only ziplist, quicklist
// and listpack builders against Redis (it must RESTORE what they build), then
// decodes the same payloads. Redis 7.0 no longer writes types 10 and 14.
func TestLegacyEncodingsRestoreInRedis(t *testing.T) {
	srv := startRedis(t)
	ints := []any{int64(0), int64(12), int64(13), int64(-1), int64(127), int64(128), int64(-4096),
		int64(4095), int64(-129), int64(32767), int64(-32768), int64(8388607), int64(-8388608),
		int64(math.MaxInt32), int64(math.MinInt32), int64(math.MaxInt64), int64(math.MinInt64)}
	strEntries := []any{"", "a", strings.Repeat("b", 63), strings.Repeat("c", 64), strings.Repeat("d", 300),
		strings.Repeat("e", 4095), strings.Repeat("f", 4096), strings.Repeat("g", 17000), "tail"}
	all := append(append([]any{}, ints...), strEntries...)
	cases := map[string][]byte{
		"ziplist":    append([]byte{typeListZiplist}, rawString(ziplistOf(all...))...),
		"quicklist":  quicklistOf(ziplistOf(ints...), ziplistOf(strEntries...)),
		"quicklist2": quicklist2Of(qlNode{containerPacked, listpackOf(ints...)}, qlNode{containerPlain, []byte("plain node")}, qlNode{containerPacked, listpackOf(strEntries...)}),
	}
	for name, b := range cases {
		t.Run(name, func(t *testing.T) {
			p := withTrailer(b, Version)
			want := srv.try(t, "RESTORE", name, "0", p)
			if e, ok := want.(respError); ok {
				t.Fatalf("redis refused our %s: %v", name, e)
			}
			redisItems := srv.lrange(t, name)
			v, err := Decode(p)
			if err != nil {
				t.Fatal(err)
			}
			assertList(t, v, redisItems)
			if name == "quicklist2" {
				assertList(t, v, append(strs(ints...), append([][]byte{[]byte("plain node")}, strs(strEntries...)...)...))
			} else {
				assertList(t, v, strs(all...))
			}
			seed(t, "FuzzDecode", "legacy-"+name, p)
		})
	}
}

// TestTrailerChecksLikeRedis checks that Decode refuses exactly what RESTORE
// refuses with "ERR DUMP payload version or checksum are wrong".
func TestTrailerChecksLikeRedis(t *testing.T) {
	srv := startRedis(t)
	good := EncodeString([]byte("v"))
	tests := []struct {
		name    string
		payload []byte
		err     error
	}{
		{"current", good, nil},
		{"version 9", withTrailer(body(good), 9), nil},
		{"version 0", withTrailer(body(good), 0), nil},
		{"version 11", withTrailer(body(good), 11), ErrVersion},
		{"version 65535", withTrailer(body(good), 65535), ErrVersion},
		{"bad crc", append(append([]byte{}, good[:len(good)-1]...), good[len(good)-1]^0x80), ErrChecksum},
		{"zero crc", append(append([]byte{}, good[:len(good)-8]...), make([]byte, 8)...), ErrChecksum},
		{"short", good[:9], ErrChecksum},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			key := "k" + strconv.Itoa(i)
			r := srv.try(t, "RESTORE", key, "0", tc.payload)
			_, err := Decode(tc.payload)
			if !errors.Is(err, tc.err) || (tc.err == nil) != (err == nil) {
				t.Fatalf("Decode err = %v, want %v", err, tc.err)
			}
			if tc.err == nil {
				if r != "OK" {
					t.Fatalf("RESTORE = %v, want OK", r)
				}
				return
			}
			if e, ok := r.(respError); !ok || string(e) != "ERR DUMP payload version or checksum are wrong" {
				t.Fatalf("RESTORE = %v", r)
			}
		})
	}
}

type nodeStats struct{ packed, plain, lzf int }

// quicklistNodes counts the node kinds in a RDB_TYPE_LIST_QUICKLIST_2 payload.
func quicklistNodes(t testing.TB, p []byte) nodeStats {
	t.Helper()
	d := &decoder{r: reader{br: bufioOf(body(p)[1:]), left: int64(len(p) - trailerLen - 1)}}
	n, err := d.length()
	if err != nil {
		t.Fatal(err)
	}
	var st nodeStats
	for range n {
		c, err := d.length()
		if err != nil {
			t.Fatal(err)
		}
		if c == containerPlain {
			st.plain++
		} else {
			st.packed++
		}
		b, err := d.r.byte()
		if err != nil {
			t.Fatal(err)
		}
		if b == lenEnc<<6|encLZF {
			st.lzf++
			clen, _ := d.length()
			d.length()
			err = d.r.discard(clen)
		} else {
			var l uint64
			if l, err = d.lengthFrom(b); err == nil {
				err = d.r.discard(l)
			}
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	return st
}

// TestWhereDecodeDiffersFromRedis pins the deliberate differences: Redis
// 7.0 ignores bytes after the value and of course restores sets; Decode
// calls the first corruption and the second unsupported.
func TestWhereDecodeDiffersFromRedis(t *testing.T) {
	srv := startRedis(t)
	tests := []struct {
		name    string
		payload []byte
		err     error
	}{
		{"trailing bytes", withTrailer([]byte{0, 1, 'a', 'b'}, Version), ErrCorrupt},
		{"set", withTrailer([]byte{2, 1, 1, 'a'}, Version), ErrUnsupportedType},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if r := srv.try(t, "RESTORE", tc.name, "0", tc.payload); r != "OK" {
				t.Fatalf("RESTORE = %v; Redis changed, revisit Decode", r)
			}
			if _, err := Decode(tc.payload); !errors.Is(err, tc.err) {
				t.Fatalf("Decode err = %v, want %v", err, tc.err)
			}
		})
	}
}
