package coll

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"runtime/metrics"
	"testing"
)

// The data of the memory figures, also what bench/typesmem loads into
// redis-server: member i is "member:%09d" (16 bytes), its value
// "v%07d" (8 bytes), its score a permutation of 0..n-1 so the sorted set
// is not built in order.
func benchMember(buf []byte, i int) []byte { return fmt.Appendf(buf[:0], "member:%09d", i) }
func benchValue(buf []byte, i int) []byte  { return fmt.Appendf(buf[:0], "v%07d", i%10_000_000) }
func benchScore(i, n int) float64          { return float64(uint64(i) * 2654435761 % uint64(n)) }

const benchN = 1_000_000

// heapStats forces two collections and returns the live heap and the
// bytes the collector had to scan for pointers (runtime/metrics).
func heapStats() (live, scan uint64) {
	runtime.GC()
	runtime.GC()
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}, {Name: "/gc/scan/heap:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64(), s[1].Value.Uint64()
}

// BenchmarkMemory1M builds each type with 1M members once and reports its
// size as Bytes() counts it, the live heap it really added (both per
// element), and the heap bytes the GC must scan, next to a Go map holding
// the same data. Run it with -benchtime 1x:
//
//	go test -run '^$' -bench Memory1M -benchtime 1x ./queue/internal/coll
func BenchmarkMemory1M(b *testing.B) {
	lim := DefaultLimits()
	var mb, vb [32]byte
	report := func(b *testing.B, build func() (int64, any)) {
		for b.Loop() {
			live0, scan0 := heapStats()
			counted, keep := build()
			live1, scan1 := heapStats()
			b.ReportMetric(float64(counted)/benchN, "counted-B/elem")
			b.ReportMetric(float64(live1-live0)/benchN, "heap-B/elem")
			b.ReportMetric(float64(int64(scan1)-int64(scan0))/(1<<20), "gc-scan-MiB")
			runtime.KeepAlive(keep)
		}
	}
	b.Run("hash", func(b *testing.B) {
		report(b, func() (int64, any) {
			h := NewHash(&lim, NewEpochs())
			for i := 0; i < benchN; i++ {
				h.Set(benchMember(mb[:], i), benchValue(vb[:], i))
			}
			return h.Bytes(), h
		})
	})
	b.Run("set", func(b *testing.B) {
		report(b, func() (int64, any) {
			s := NewSet(&lim, NewEpochs())
			for i := 0; i < benchN; i++ {
				s.Add(benchMember(mb[:], i))
			}
			return s.Bytes(), s
		})
	})
	b.Run("zset", func(b *testing.B) {
		report(b, func() (int64, any) {
			z := NewZSet(&lim, NewEpochs())
			for i := 0; i < benchN; i++ {
				z.Add(benchMember(mb[:], i), benchScore(i, benchN), 0)
			}
			return z.Bytes(), z
		})
	})
	b.Run("gomap", func(b *testing.B) {
		report(b, func() (int64, any) {
			m := make(map[string]string)
			for i := 0; i < benchN; i++ {
				m[string(benchMember(mb[:], i))] = string(benchValue(vb[:], i))
			}
			return 0, m
		})
	})
}

// TestBytesMatchHeap checks that Bytes() is what the structures cost the
// Go heap: within 3% of the live heap they add (the rest is the garbage
// of growth, which a collection frees, and allocator rounding).
func TestBytesMatchHeap(t *testing.T) {
	lim := DefaultLimits()
	const n = 200_000
	var mb, vb [32]byte
	for _, c := range []struct {
		name  string
		build func() (int64, any)
	}{
		{"hash", func() (int64, any) {
			h := NewHash(&lim, NewEpochs())
			for i := 0; i < n; i++ {
				h.Set(benchMember(mb[:], i), benchValue(vb[:], i))
			}
			return h.Bytes(), h
		}},
		{"set", func() (int64, any) {
			s := NewSet(&lim, NewEpochs())
			for i := 0; i < n; i++ {
				s.Add(benchMember(mb[:], i))
			}
			return s.Bytes(), s
		}},
		{"zset", func() (int64, any) {
			z := NewZSet(&lim, NewEpochs())
			for i := 0; i < n; i++ {
				z.Add(benchMember(mb[:], i), benchScore(i, n), 0)
			}
			z.Rank(benchMember(mb[:], 5), false) // builds the Fenwick tree
			return z.Bytes(), z
		}},
	} {
		live0, _ := heapStats()
		counted, keep := c.build()
		live1, _ := heapStats()
		real := int64(live1 - live0)
		t.Logf("%s: Bytes() %d, live heap +%d", c.name, counted, real)
		if d := float64(counted-real) / float64(real); d > 0.03 || d < -0.03 {
			t.Errorf("%s: Bytes() %d, live heap grew by %d (%.1f%%)", c.name, counted, real, 100*d)
		}
		runtime.KeepAlive(keep)
	}
}

// The speed benchmarks run each operation against a structure of 1M
// members built before the timer starts.

func bigZSet(b *testing.B) *ZSet {
	lim := DefaultLimits()
	z := NewZSet(&lim, NewEpochs())
	var mb [32]byte
	for i := 0; i < benchN; i++ {
		z.Add(benchMember(mb[:], i), benchScore(i, benchN), 0)
	}
	return z
}

func BenchmarkZAdd1M(b *testing.B) {
	z := bigZSet(b)
	r := rand.New(rand.NewPCG(1, 2))
	var mb [32]byte
	i := benchN
	for b.Loop() {
		z.Add(benchMember(mb[:], i), float64(r.IntN(benchN)), 0)
		i++
	}
}

func BenchmarkZPopMin1M(b *testing.B) {
	z := bigZSet(b)
	var mb [32]byte
	i := benchN
	for b.Loop() {
		z.Pop(1, false, func([]byte, float64) {})
		// Keep the size: add one back at the top, as a scheduler that
		// pops due jobs and schedules new ones does.
		z.Add(benchMember(mb[:], i), float64(i), 0)
		i++
	}
}

func BenchmarkZRangeByScore1M(b *testing.B) {
	z := bigZSet(b)
	r := rand.New(rand.NewPCG(1, 2))
	for b.Loop() {
		lo := float64(r.IntN(benchN))
		n := 0
		z.RangeByScore(ScoreRange{Min: lo, Max: lo + 9}, false, 0, -1, func([]byte, float64) bool { n++; return true })
	}
}

func BenchmarkZRank1M(b *testing.B) {
	z := bigZSet(b)
	r := rand.New(rand.NewPCG(1, 2))
	var mb [32]byte
	for b.Loop() {
		z.Rank(benchMember(mb[:], r.IntN(benchN)), false)
	}
}

func BenchmarkHSet1M(b *testing.B) {
	lim := DefaultLimits()
	h := NewHash(&lim, NewEpochs())
	var mb, vb [32]byte
	for i := 0; i < benchN; i++ {
		h.Set(benchMember(mb[:], i), benchValue(vb[:], i))
	}
	r := rand.New(rand.NewPCG(1, 2))
	for b.Loop() {
		i := r.IntN(2 * benchN) // half updates, half new fields
		h.Set(benchMember(mb[:], i), benchValue(vb[:], i))
	}
}

func BenchmarkHGet1M(b *testing.B) {
	lim := DefaultLimits()
	h := NewHash(&lim, NewEpochs())
	var mb, vb [32]byte
	for i := 0; i < benchN; i++ {
		h.Set(benchMember(mb[:], i), benchValue(vb[:], i))
	}
	r := rand.New(rand.NewPCG(1, 2))
	for b.Loop() {
		h.Get(benchMember(mb[:], r.IntN(benchN)))
	}
}

func BenchmarkSAdd1M(b *testing.B) {
	lim := DefaultLimits()
	s := NewSet(&lim, NewEpochs())
	var mb [32]byte
	for i := 0; i < benchN; i++ {
		s.Add(benchMember(mb[:], i))
	}
	i := benchN
	for b.Loop() {
		s.Add(benchMember(mb[:], i))
		i++
	}
}

func BenchmarkSPop1M(b *testing.B) {
	lim := DefaultLimits()
	s := NewSet(&lim, NewEpochs())
	var mb [32]byte
	for i := 0; i < benchN; i++ {
		s.Add(benchMember(mb[:], i))
	}
	r := rand.New(rand.NewPCG(1, 2))
	buf := make([]byte, 0, 64)
	for b.Loop() {
		buf = s.Pop(r, buf[:0])
		s.Add(buf) // keep the size
	}
}

// BenchmarkSnapshotView is what the AOF rewrite's snapshot costs under the
// lock for a 1M-member hash: the descriptors of its index blocks and
// arena pages, not its data.
func BenchmarkSnapshotView1M(b *testing.B) {
	lim := DefaultLimits()
	ep := NewEpochs()
	h := NewHash(&lim, ep)
	var mb, vb [32]byte
	for i := 0; i < benchN; i++ {
		h.Set(benchMember(mb[:], i), benchValue(vb[:], i))
	}
	for b.Loop() {
		ep.Freeze()
		_ = h.View()
		ep.Thaw()
	}
}
