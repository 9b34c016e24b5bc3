package lzf

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"
)

// roundTrip compresses in with room for the whole input and checks that it
// decompresses back, returning the compressed size (0: did not fit).
func roundTrip(t testing.TB, c *Compressor, in []byte) int {
	t.Helper()
	out := make([]byte, len(in)+len(in)/16+64)
	n := c.Compress(in, out)
	if n == 0 {
		if len(in) != 0 {
			t.Fatalf("%d bytes did not fit in %d", len(in), len(out))
		}
		return 0
	}
	back := make([]byte, len(in))
	if err := Decompress(out[:n], back); err != nil || !bytes.Equal(back, in) {
		t.Fatalf("%d bytes: round trip failed: %v", len(in), err)
	}
	return n
}

func TestRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var c Compressor // one Compressor across calls: stale table entries must not leak in
	for _, n := range []int{1, 2, 3, 4, 5, 31, 32, 33, 100, 8191, 8192, 8193, 70000} {
		for _, kind := range []string{"zeros", "text", "random", "runs"} {
			in := make([]byte, n)
			switch kind {
			case "text":
				for i := 0; i < n; {
					i += copy(in[i:], fmt.Sprintf(`{"id":%d,"sku":"SKU-%d"}`, r.IntN(1000), r.IntN(50)))
				}
			case "random":
				for i := range in {
					in[i] = byte(r.Uint32())
				}
			case "runs":
				for i := range in {
					in[i] = byte(i / 300)
				}
			}
			m := roundTrip(t, &c, in)
			if kind != "random" && n >= 1000 && m >= n/2 {
				t.Errorf("%s of %d bytes compressed to %d only", kind, n, m)
			}
		}
	}
}

// TestOutputBound: Compress returns 0 rather than write past out, for
// every output size.
func TestOutputBound(t *testing.T) {
	in := []byte(`{"order_id":12345,"sku":"SKU-00042","note":"leave at the door"} {"order_id":12346,"sku":"SKU-00042"}`)
	var c Compressor
	full := roundTrip(t, &c, in)
	for size := 1; size < full; size++ {
		out := make([]byte, size+8)
		if n := c.Compress(in, out[:size]); n != 0 {
			t.Fatalf("fit %d bytes in %d but needs %d", len(in), size, full)
		}
		for _, b := range out[size:] {
			if b != 0 {
				t.Fatalf("out[:%d]: wrote past the end", size)
			}
		}
	}
}

func FuzzRoundTrip(f *testing.F) {
	f.Add([]byte("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"))
	f.Add([]byte(`{"a":1,"a":1,"a":1}`))
	var c Compressor
	f.Fuzz(func(t *testing.T, in []byte) {
		roundTrip(t, &c, in)
		// Any input decompresses without panicking or writing out of bounds.
		_ = Decompress(in, make([]byte, len(in)*2))
	})
}

func BenchmarkCompress(b *testing.B) {
	var in []byte
	for i := 0; len(in) < 16384; i++ {
		in = fmt.Appendf(in, `{"order_id":%d,"sku":"SKU-%05d","quantity":%d}`, 1e7+i*3, i*7919%20000, 1+i%5)
	}
	out := make([]byte, len(in))
	var c Compressor
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		c.Compress(in, out)
	}
}
