package rdb

import (
	"bytes"
	"runtime/metrics"
	"testing"
)

// allocBudget is the most decoding len bytes of input may allocate. The
// format itself justifies a large factor: LZF expands up to 88x, and a
// 2-byte listpack integer entry becomes a formatted string, a span, a slice
// header and (in Decode) its own allocation. The constant covers the
// 64 KiB bufio buffer and the first growth chunk.
func allocBudget(n int) uint64 { return 1<<20 + 4096*uint64(n) }

// checkAllocs fails t if f allocates more than allocBudget(n) bytes. It
// reads runtime/metrics rather than runtime.ReadMemStats, which stops the
// world and slowed fuzzing tenfold; the metric may lag by a few unflushed
// spans, far below the budget's constant.
func checkAllocs(t *testing.T, n int, f func()) {
	if d := allocated(f); d > allocBudget(n) {
		t.Fatalf("allocated %d bytes for %d bytes of input", d, n)
	}
}

// allocated reports how many heap bytes f allocated.
func allocated(f func()) uint64 {
	s := []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}}
	metrics.Read(s)
	before := s[0].Value.Uint64()
	f()
	metrics.Read(s)
	return s[0].Value.Uint64() - before
}

var sink []byte

func TestAllocatedDetects(t *testing.T) {
	if d := allocated(func() { sink = make([]byte, 2<<20) }); d < 2<<20 {
		t.Fatalf("allocated() saw %d bytes of a 2 MiB allocation", d)
	}
	if d := allocated(func() { sink = make([]byte, 100) }); d > 64<<10 {
		t.Fatalf("allocated() saw %d bytes for 100", d)
	}
}

// FuzzDecode checks that Decode never panics, never allocates beyond what
// the input justifies, and that whatever it accepts survives our encoders:
// decode, encode, decode gives the same value.
func FuzzDecode(f *testing.F) {
	f.Add(EncodeString([]byte("hello")))
	f.Add(EncodeList(strs("a", int64(1), "bcd")))
	f.Add(withTrailer(quicklist2Of(qlNode{containerPacked, listpackOf("x", int64(-5000))}), Version))
	f.Add(withTrailer(quicklistOf(ziplistOf("x", int64(1<<40))), Version))
	f.Fuzz(func(t *testing.T, data []byte) {
		var v Value
		var err error
		checkAllocs(t, len(data), func() { v, err = Decode(data) })
		if err != nil {
			return
		}
		var again []byte
		switch v.Kind {
		case KindString:
			again = EncodeString(v.Str)
		case KindList:
			again = EncodeList(v.List)
		default:
			t.Fatalf("Decode returned kind %v", v.Kind)
		}
		w, err := Decode(again)
		if err != nil {
			t.Fatalf("re-encoded value does not decode: %v", err)
		}
		if w.Kind != v.Kind || !bytes.Equal(w.Str, v.Str) || len(w.List) != len(v.List) {
			t.Fatalf("round trip changed the value")
		}
		for i := range v.List {
			if !bytes.Equal(w.List[i], v.List[i]) {
				t.Fatalf("round trip changed item %d", i)
			}
		}
	})
}

// FuzzLoad checks that Load never panics, never allocates beyond what the
// input justifies, and only reports strings and non-empty lists.
func FuzzLoad(f *testing.F) {
	f.Add(newRDBFile(10).selectDB(0).key("k", body(EncodeList(strs("a", "b")))).end(true))
	f.Add(newRDBFile(10).expireMs(5).key("s", body(EncodeString([]byte("v")))).end(false))
	f.Add(newRDBFile(10).key("q", quicklist2Of(qlNode{containerPacked, listpackOf("x", int64(7))})).end(true))
	f.Fuzz(func(t *testing.T, data []byte) {
		checkAllocs(t, len(data), func() {
			Load(bytes.NewReader(data), func(db int, key []byte, v Value, exp int64) error {
				switch {
				case db < 0:
					t.Fatalf("db %d", db)
				case v.Kind == KindList && len(v.List) == 0:
					t.Fatalf("empty list for key %q", key)
				case v.Kind != KindList && v.Kind != KindString:
					t.Fatalf("kind %v", v.Kind)
				}
				return nil
			})
		})
	})
}
