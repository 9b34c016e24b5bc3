package rdb

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// crcBitwise is the textbook bit-at-a-time form of Redis's CRC64, used to
// check the table-driven one.
func crcBitwise(crc uint64, p []byte) uint64 {
	for _, b := range p {
		crc ^= uint64(b)
		for range 8 {
			if crc&1 == 1 {
				crc = crc>>1 ^ crcPolyReflected
			} else {
				crc >>= 1
			}
		}
	}
	return crc
}

func TestCRC64(t *testing.T) {
	if got := crc64(0, []byte("123456789")); got != 0xe9c6d914c4b8d9ca {
		t.Fatalf("crc64(123456789) = %#x, want 0xe9c6d914c4b8d9ca", got)
	}
	r := rand.New(rand.NewPCG(1, 2))
	buf := make([]byte, 300)
	for i := range buf {
		buf[i] = byte(r.Uint32())
	}
	for n := range len(buf) {
		want := crcBitwise(0, buf[:n])
		if got := crc64(0, buf[:n]); got != want {
			t.Fatalf("len %d: crc64 = %#x, bitwise %#x", n, got, want)
		}
		// Continuing a CRC in two pieces must equal one pass.
		if got := crc64(crc64(0, buf[:n/3]), buf[n/3:n]); got != want {
			t.Fatalf("len %d: split crc64 = %#x, want %#x", n, got, want)
		}
	}
}

func TestLZFDecompress(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
		out  string
		err  error
	}{
		{"literal", []byte{2, 'a', 'b', 'c'}, "abc", nil},
		// "ab" then a 2+1=3-byte back-reference one byte behind: a run.
		{"run", []byte{0, 'a', 1 << 5, 0}, "aaaa", nil},
		{"copy", []byte{1, 'a', 'b', 2 << 5, 1}, "ababab", nil},
		// Long form: 7 + 3 + 2 = 12 bytes from one behind.
		{"long", []byte{0, 'x', 7 << 5, 3, 0}, "xxxxxxxxxxxxx", nil},
		{"truncated literal", []byte{5, 'a'}, "??????", errLZFTruncated},
		{"truncated ref", []byte{0, 'a', 1 << 5}, "aaaa", errLZFTruncated},
		{"truncated long ref", []byte{0, 'a', 7 << 5}, "aaaa", errLZFTruncated},
		{"ref before start", []byte{0, 'a', 1 << 5, 5}, "aaaa", errLZFBackRef},
		{"overflow", []byte{2, 'a', 'b', 'c'}, "ab", errLZFOverflow},
		{"short", []byte{1, 'a', 'b'}, "abc", errLZFShort},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out := make([]byte, len(tc.out))
			err := lzfDecompress(tc.in, out)
			if !errors.Is(err, tc.err) {
				t.Fatalf("err = %v, want %v", err, tc.err)
			}
			if err == nil && string(out) != tc.out {
				t.Fatalf("out = %q, want %q", out, tc.out)
			}
		})
	}
}

func TestParseInt32(t *testing.T) {
	tests := []struct {
		in string
		v  int64
		ok bool
	}{
		{"0", 0, true}, {"7", 7, true}, {"-1", -1, true}, {"-128", -128, true},
		{"2147483647", math.MaxInt32, true}, {"-2147483648", math.MinInt32, true},
		{"2147483648", 0, false}, {"-2147483649", 0, false},
		{"", 0, false}, {"-", 0, false}, {"-0", 0, false}, {"007", 0, false},
		{"+5", 0, false}, {" 5", 0, false}, {"5 ", 0, false}, {"1e3", 0, false},
		{"12345678901", 0, false},
	}
	for _, tc := range tests {
		v, ok := parseInt32([]byte(tc.in))
		if v != tc.v || ok != tc.ok {
			t.Errorf("parseInt32(%q) = %d, %v; want %d, %v", tc.in, v, ok, tc.v, tc.ok)
		}
	}
}

func TestAppendLen(t *testing.T) {
	tests := []struct {
		n    uint64
		want []byte
	}{
		{0, []byte{0}}, {63, []byte{63}}, {64, []byte{0x40, 64}},
		{16383, []byte{0x7f, 0xff}}, {16384, []byte{0x80, 0, 0, 0x40, 0}},
		{math.MaxUint32, []byte{0x80, 0xff, 0xff, 0xff, 0xff}},
		{math.MaxUint32 + 1, []byte{0x81, 0, 0, 0, 1, 0, 0, 0, 0}},
	}
	for _, tc := range tests {
		got := appendLen(nil, tc.n)
		if !bytes.Equal(got, tc.want) || lenSize(tc.n) != len(got) {
			t.Errorf("appendLen(%d) = %x, want %x", tc.n, got, tc.want)
		}
		d := &decoder{r: reader{br: bufioOf(got), left: int64(len(got))}}
		if n, err := d.length(); err != nil || n != tc.n {
			t.Errorf("length(%x) = %d, %v; want %d", got, n, err, tc.n)
		}
	}
}

func TestEncodeString(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []byte // the payload body: type byte and value
	}{
		{"empty", "", []byte{0, 0}},
		{"short", "hi", []byte{0, 2, 'h', 'i'}},
		{"int8", "-5", []byte{0, 0xc0, 0xfb}},
		{"int16", "12345", []byte{0, 0xc1, 0x39, 0x30}},
		{"int32", "-2147483648", []byte{0, 0xc2, 0, 0, 0, 0x80}},
		{"not canonical", "007", []byte{0, 3, '0', '0', '7'}},
		{"int64 stays raw", "12345678901", append([]byte{0, 11}, "12345678901"...)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := EncodeString([]byte(tc.in))
			if !bytes.Equal(body(p), tc.want) {
				t.Fatalf("body = %x, want %x", body(p), tc.want)
			}
			if !bytes.Equal(p, withTrailer(tc.want, Version)) {
				t.Fatalf("trailer = %x", p[len(p)-trailerLen:])
			}
			v, err := Decode(p)
			if err != nil || v.Kind != KindString || string(v.Str) != tc.in || v.Str == nil {
				t.Fatalf("Decode = %v %q, %v", v.Kind, v.Str, err)
			}
			seed(t, "FuzzDecode", "string-"+tc.name, p)
		})
	}
	// The byte-exact Redis 7.0 DUMP of SET s 12345, from redis-cli.
	redis := []byte("\x00\xc190\n\x00\x9d\x94\xea'\x93\xfc\b\xb9")
	if got := EncodeString([]byte("12345")); !bytes.Equal(got, redis) {
		t.Fatalf("EncodeString(12345) = %q, redis-server DUMP = %q", got, redis)
	}
	// AppendString leaves dst's prefix alone.
	if got := AppendString([]byte("xy"), []byte("z")); !bytes.Equal(got[2:], EncodeString([]byte("z"))) || string(got[:2]) != "xy" {
		t.Fatalf("AppendString = %q", got)
	}
}

func TestListEncoder(t *testing.T) {
	for _, n := range []int{1, 2, 63, 64, 16383, 16384, 70000} {
		items := make([][]byte, n)
		for i := range items {
			switch i % 3 {
			case 0:
				items[i] = []byte(strings.Repeat("x", i%100))
			case 1:
				items[i] = binary.AppendVarint(nil, int64(i)) // binary junk
			default:
				items[i] = []byte{byte('0' + i%10)} // integer-encoded
			}
		}
		e := NewListEncoder([]byte("prefix"))
		for _, it := range items {
			e.Add(it)
		}
		if e.Len() != n {
			t.Fatalf("Len = %d, want %d", e.Len(), n)
		}
		out := e.Finish()
		if string(out[:6]) != "prefix" {
			t.Fatalf("prefix clobbered: %q", out[:6])
		}
		p := out[6:]
		if !bytes.Equal(p, EncodeList(items)) {
			t.Fatalf("n=%d: ListEncoder and EncodeList differ", n)
		}
		// The count is in its shortest form.
		if want := appendLen(nil, uint64(n)); !bytes.Equal(p[1:1+len(want)], want) {
			t.Fatalf("n=%d: count bytes %x, want %x", n, p[1:1+len(want)], want)
		}
		v, err := Decode(p)
		if err != nil {
			t.Fatalf("n=%d: %v", n, err)
		}
		assertList(t, v, items)
		if n <= 64 {
			seed(t, "FuzzDecode", "list-"+itoa(n), p)
		}
	}
}

func TestEncodeEmptyList(t *testing.T) {
	p := EncodeList(nil)
	if !bytes.Equal(body(p), []byte{typeList, 0}) {
		t.Fatalf("body = %x", body(p))
	}
	if _, err := Decode(p); !errors.Is(err, ErrEmptyKey) {
		t.Fatalf("Decode(empty list) = %v, want ErrEmptyKey", err)
	}
}

func TestDecode(t *testing.T) {
	big := strings.Repeat("q", 20000)
	tests := []struct {
		name    string
		payload []byte
		want    any   // string or [][]byte
		err     error // want errors.Is
	}{
		{"string", withTrailer([]byte{0, 1, 'a'}, 10), "a", nil},
		{"old version", withTrailer([]byte{0, 1, 'a'}, 6), "a", nil},
		{"int8", withTrailer([]byte{0, 0xc0, 0x80}, 10), "-128", nil},
		{"int16", withTrailer([]byte{0, 0xc1, 0x00, 0x80}, 10), "-32768", nil},
		{"int32", withTrailer([]byte{0, 0xc2, 0xff, 0xff, 0xff, 0x7f}, 10), "2147483647", nil},
		{"lzf", withTrailer([]byte{0, 0xc3, 4, 5, 0, 'a', 2 << 5, 0}, 10), "aaaaa", nil},
		{"14-bit len", withTrailer(append([]byte{0, 0x40, 100}, strings.Repeat("z", 100)...), 10), strings.Repeat("z", 100), nil},
		{"64-bit len", withTrailer([]byte{0, 0x81, 0, 0, 0, 0, 0, 0, 0, 1, 'k'}, 10), "k", nil},
		{"list", withTrailer([]byte{1, 2, 1, 'a', 0xc0, 7}, 10), strs("a", int64(7)), nil},
		{"ziplist", withTrailer(append([]byte{typeListZiplist}, rawString(ziplistOf(
			"a", int64(0), int64(12), int64(13), int64(-129), int64(-8388608), int64(8388607),
			int64(-2147483648), int64(math.MaxInt64), int64(math.MinInt64), big, "end"))...), 10),
			strs("a", int64(0), int64(12), int64(13), int64(-129), int64(-8388608), int64(8388607),
				int64(-2147483648), int64(math.MaxInt64), int64(math.MinInt64), big, "end"), nil},
		{"quicklist", withTrailer(quicklistOf(ziplistOf("a", int64(1)), ziplistOf(strings.Repeat("b", 300), "c")), 10),
			strs("a", int64(1), strings.Repeat("b", 300), "c"), nil},
		{"quicklist2", withTrailer(quicklist2Of(
			qlNode{containerPacked, listpackOf(int64(0), int64(127), int64(128), int64(-4096), int64(4095),
				int64(-32768), int64(8388607), int64(-8388608), int64(math.MinInt32), int64(math.MaxInt64))},
			qlNode{containerPlain, []byte(big)},
			qlNode{containerPacked, listpackOf(strings.Repeat("m", 64), strings.Repeat("n", 4096), "")},
		), 10), strs(int64(0), int64(127), int64(128), int64(-4096), int64(4095),
			int64(-32768), int64(8388607), int64(-8388608), int64(math.MinInt32), int64(math.MaxInt64),
			big, strings.Repeat("m", 64), strings.Repeat("n", 4096), ""), nil},
		{"quicklist2 skips empty listpack", withTrailer(quicklist2Of(
			qlNode{containerPacked, listpackOf()}, qlNode{containerPacked, listpackOf("x")}), 10), strs("x"), nil},

		{"too short", []byte{1, 2, 3}, nil, ErrChecksum},
		{"version 11", withTrailer([]byte{0, 1, 'a'}, 11), nil, ErrVersion},
		{"bad crc", func() []byte { p := withTrailer([]byte{0, 1, 'a'}, 10); p[len(p)-1] ^= 1; return p }(), nil, ErrChecksum},
		{"flipped data", func() []byte { p := withTrailer([]byte{0, 1, 'a'}, 10); p[2] ^= 1; return p }(), nil, ErrChecksum},
		{"empty body", withTrailer(nil, 10), nil, io.ErrUnexpectedEOF},
		{"set", withTrailer([]byte{2, 1, 1, 'a'}, 10), nil, ErrUnsupportedType},
		{"hash listpack", withTrailer(append([]byte{16}, rawString(listpackOf("f", "v"))...), 10), nil, ErrUnsupportedType},
		{"empty list", withTrailer([]byte{1, 0}, 10), nil, ErrEmptyKey},
		{"empty quicklist2", withTrailer(quicklist2Of(qlNode{containerPacked, listpackOf()}), 10), nil, ErrEmptyKey},
		{"empty ziplist", withTrailer(append([]byte{typeListZiplist}, rawString(ziplistOf())...), 10), nil, ErrEmptyKey},
		{"trailing bytes", withTrailer([]byte{0, 1, 'a', 'b'}, 10), nil, ErrCorrupt},
		{"truncated string", withTrailer([]byte{0, 5, 'a'}, 10), nil, io.ErrUnexpectedEOF},
		{"huge list count", withTrailer([]byte{1, 0x80, 0xff, 0xff, 0xff, 0xff, 0}, 10), nil, io.ErrUnexpectedEOF},
		{"bad length byte", withTrailer([]byte{0, 0x82, 0}, 10), nil, ErrCorrupt},
		{"bad string enc", withTrailer([]byte{0, 0xc4}, 10), nil, ErrCorrupt},
		{"encoded count", withTrailer([]byte{1, 0xc0, 1}, 10), nil, ErrCorrupt},
		{"lzf bomb", withTrailer([]byte{0, 0xc3, 1, 0x80, 0x7f, 0xff, 0xff, 0xff, 0, 'a'}, 10), nil, ErrCorrupt},
		{"lzf garbage", withTrailer([]byte{0, 0xc3, 2, 3, 0x20, 0}, 10), nil, ErrCorrupt},
		{"lzf empty", withTrailer([]byte{0, 0xc3, 0, 0}, 10), nil, ErrCorrupt},
		{"bad container", withTrailer(quicklist2Of(qlNode{3, listpackOf("x")}), 10), nil, ErrCorrupt},
		{"empty plain node", withTrailer(quicklist2Of(qlNode{containerPlain, nil}), 10), nil, ErrCorrupt},
		{"listpack size", withTrailer(quicklist2Of(qlNode{containerPacked, func() []byte {
			lp := listpackOf("x")
			lp[0]++
			return lp
		}()}), 10), nil, ErrCorrupt},
		{"listpack backlen", withTrailer(quicklist2Of(qlNode{containerPacked, func() []byte {
			lp := listpackOf("x")
			lp[8]++
			return lp
		}()}), 10), nil, ErrCorrupt},
		{"listpack count", withTrailer(quicklist2Of(qlNode{containerPacked, func() []byte {
			lp := listpackOf("x")
			lp[4]++
			return lp
		}()}), 10), nil, ErrCorrupt},
		{"listpack bad enc", withTrailer(quicklist2Of(qlNode{containerPacked, []byte{8, 0, 0, 0, 1, 0, 0xf5, 0xff}}), 10), nil, ErrCorrupt},
		{"listpack string overrun", withTrailer(quicklist2Of(qlNode{containerPacked, []byte{9, 0, 0, 0, 1, 0, 0x85, 'a', 0xff}}), 10), nil, ErrCorrupt},
		{"ziplist prevlen", withTrailer(quicklistOf(func() []byte {
			zl := ziplistOf("a", "b")
			zl[13]++
			return zl
		}()), 10), nil, ErrCorrupt},
		{"ziplist tail", withTrailer(quicklistOf(func() []byte {
			zl := ziplistOf("a", "b")
			zl[4]++
			return zl
		}()), 10), nil, ErrCorrupt},
		{"ziplist bad enc", withTrailer(quicklistOf([]byte{13, 0, 0, 0, 10, 0, 0, 0, 1, 0, 0, 0xc5, 0xff}), 10), nil, ErrCorrupt},
		{"ziplist no end", withTrailer(quicklistOf([]byte{12, 0, 0, 0, 10, 0, 0, 0, 1, 0, 0, 0xf1}), 10), nil, ErrCorrupt},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			seed(t, "FuzzDecode", "table-"+strings.ReplaceAll(tc.name, " ", "-"), tc.payload)
			v, err := Decode(tc.payload)
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Fatalf("err = %v, want %v", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			switch want := tc.want.(type) {
			case string:
				if v.Kind != KindString || string(v.Str) != want {
					t.Fatalf("got %v %q, want string %q", v.Kind, v.Str, want)
				}
			case [][]byte:
				assertList(t, v, want)
			}
		})
	}
}

func TestDecodeErrorDetails(t *testing.T) {
	_, err := Decode(withTrailer([]byte{4, 1, 'k'}, 10))
	var te *TypeError
	if !errors.As(err, &te) || te.Type != 4 || te.Key != nil {
		t.Fatalf("err = %#v", err)
	}
	if got := err.Error(); !strings.Contains(got, "hash") {
		t.Fatalf("message %q does not name the type", got)
	}
	_, err = Decode(withTrailer([]byte{0, 5, 'a'}, 10))
	var ce *CorruptError
	if !errors.As(err, &ce) || ce.Offset != 2 || !errors.Is(err, ErrCorrupt) {
		t.Fatalf("err = %#v", err)
	}
}

// TestDecodeOwnership checks Decode's promise that values share no memory
// with the payload or with each other.
func TestDecodeOwnership(t *testing.T) {
	p := withTrailer(quicklist2Of(qlNode{containerPacked, listpackOf("aa", "bb")}), 10)
	v, err := Decode(p)
	if err != nil {
		t.Fatal(err)
	}
	v.List[0] = append(v.List[0], 'X')
	if string(v.List[1]) != "bb" {
		t.Fatalf("appending to item 0 changed item 1 to %q", v.List[1])
	}
	for i := range p {
		p[i] = 0
	}
	if string(v.List[1]) != "bb" {
		t.Fatalf("item aliases the payload")
	}
}

// TestAllocationBoundedByInput feeds payloads and files that declare huge
// sizes in a few bytes; decoding must fail without allocating anything near
// the declared size.
func TestAllocationBoundedByInput(t *testing.T) {
	huge := []byte{0x81, 0, 0, 0, 0x10, 0, 0, 0, 0} // 64 GiB
	cases := map[string][]byte{
		"string":    append(append([]byte{0}, huge...), 'a'),
		"list":      append(append([]byte{1}, huge...), 1, 'a'),
		"lzf":       append(append([]byte{0, 0xc3, 2}, huge...), 0, 'a'),
		"lzf clen":  append(append(append([]byte{0, 0xc3}, huge...), 5), 0, 'a'),
		"listpack":  {18, 1, 2, 0x80, 0xff, 0xff, 0xff, 0xff, 1},
		"quicklist": append(append([]byte{18}, huge...), 2, 1, 'a'),
	}
	for name, b := range cases {
		t.Run(name, func(t *testing.T) {
			check := func(what string, f func() error) {
				var err error
				d := allocated(func() { err = f() })
				if err == nil {
					t.Fatalf("%s: no error", what)
				}
				if d > 1<<20 {
					t.Fatalf("%s: allocated %d bytes for %d bytes of input (%v)", what, d, len(b), err)
				}
			}
			check("Decode", func() error { _, err := Decode(withTrailer(b, 10)); return err })
			f := newRDBFile(10).selectDB(0).key("k", b).end(true) // b is a bare body
			seed(t, "FuzzLoad", "hostile-"+name, f)
			check("Load", func() error { return Load(bytes.NewReader(f), ignore) })
		})
	}
}

func ignore(int, []byte, Value, int64) error { return nil }

func assertList(t testing.TB, v Value, want [][]byte) {
	t.Helper()
	if v.Kind != KindList {
		t.Fatalf("kind = %v, want list", v.Kind)
	}
	if len(v.List) != len(want) {
		t.Fatalf("%d items, want %d", len(v.List), len(want))
	}
	for i := range want {
		if !bytes.Equal(v.List[i], want[i]) {
			t.Fatalf("item %d = %.40q, want %.40q", i, v.List[i], want[i])
		}
	}
}
