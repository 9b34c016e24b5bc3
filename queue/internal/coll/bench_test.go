package coll

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"runtime/metrics"
	"sync"
	"syscall"
	"testing"
	"time"
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
// of growth, which a collection frees, and allocator rounding); and that
// they are nearly pointer-free: the heap the collector must scan grows by
// under 1% of what they add.
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
		live0, scan0 := heapStats()
		counted, keep := c.build()
		live1, scan1 := heapStats()
		real := int64(live1 - live0)
		scan := int64(scan1) - int64(scan0)
		t.Logf("%s: Bytes() %d, live heap +%d, scannable heap +%d", c.name, counted, real, scan)
		if scan*100 > real {
			t.Errorf("%s: the GC must scan %d more bytes for %d bytes of data", c.name, scan, real)
		}
		if d := float64(counted-real) / float64(real); d > 0.03 || d < -0.03 {
			t.Errorf("%s: Bytes() %d, live heap grew by %d (%.1f%%)", c.name, counted, real, 100*d)
		}
		runtime.KeepAlive(keep)
	}
}

// The speed benchmarks run each operation against a structure of 1M
// members, built once per type and shared (each benchmark keeps the size
// about the same). Besides ns/op they report cpu-ns/op, the process's CPU
// time per operation (getrusage): on a shared machine wall time measures
// the neighbours, CPU time the work.

var (
	zsetOnce, hashOnce, setOnce sync.Once
	big1MZSet                   *ZSet
	big1MHash                   *Hash
	big1MSet                    *Set
	benchLim                    = DefaultLimits()
)

func bigZSet() *ZSet {
	zsetOnce.Do(func() {
		big1MZSet = NewZSet(&benchLim, NewEpochs())
		var mb [32]byte
		for i := 0; i < benchN; i++ {
			big1MZSet.Add(benchMember(mb[:], i), benchScore(i, benchN), 0)
		}
	})
	return big1MZSet
}

func bigHash() *Hash {
	hashOnce.Do(func() {
		big1MHash = NewHash(&benchLim, NewEpochs())
		var mb, vb [32]byte
		for i := 0; i < benchN; i++ {
			big1MHash.Set(benchMember(mb[:], i), benchValue(vb[:], i))
		}
	})
	return big1MHash
}

func bigSet() *Set {
	setOnce.Do(func() {
		big1MSet = NewSet(&benchLim, NewEpochs())
		var mb [32]byte
		for i := 0; i < benchN; i++ {
			big1MSet.Add(benchMember(mb[:], i))
		}
	})
	return big1MSet
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// loop runs op in b.Loop and reports the CPU time per operation.
func loop(b *testing.B, op func()) {
	t0 := cpuTime()
	for b.Loop() {
		op()
	}
	b.ReportMetric(float64(cpuTime()-t0)/float64(b.N), "cpu-ns/op")
}

func BenchmarkZAdd1M(b *testing.B) {
	z := bigZSet()
	r := rand.New(rand.NewPCG(1, 2))
	var mb [32]byte
	loop(b, func() {
		// Update a member to a new random score (the set keeps its size).
		z.Add(benchMember(mb[:], r.IntN(benchN)), float64(r.IntN(benchN)), 0)
	})
}

func BenchmarkZPopMin1M(b *testing.B) {
	z := bigZSet()
	var mb [32]byte
	i := benchN
	loop(b, func() {
		z.Pop(1, false, func([]byte, float64) {})
		// Keep the size: add one back at the top, as a scheduler that
		// pops due jobs and schedules new ones does.
		z.Add(benchMember(mb[:], i), float64(i), 0)
		i++
	})
}

func BenchmarkZRangeByScore1M(b *testing.B) {
	z := bigZSet()
	r := rand.New(rand.NewPCG(1, 2))
	loop(b, func() {
		lo := float64(r.IntN(benchN))
		z.RangeByScore(ScoreRange{Min: lo, Max: lo + 9}, false, 0, -1, func([]byte, float64) bool { return true })
	})
}

func BenchmarkZRank1M(b *testing.B) {
	z := bigZSet()
	r := rand.New(rand.NewPCG(1, 2))
	var mb [32]byte
	loop(b, func() { z.Rank(benchMember(mb[:], r.IntN(benchN)), false) })
}

func BenchmarkHSet1M(b *testing.B) {
	h := bigHash()
	r := rand.New(rand.NewPCG(1, 2))
	var mb, vb [32]byte
	loop(b, func() {
		i := r.IntN(benchN) // overwrite: the hash keeps its size
		h.Set(benchMember(mb[:], i), benchValue(vb[:], i+1))
	})
}

func BenchmarkHGet1M(b *testing.B) {
	h := bigHash()
	r := rand.New(rand.NewPCG(1, 2))
	var mb [32]byte
	loop(b, func() { h.Get(benchMember(mb[:], r.IntN(benchN))) })
}

func BenchmarkSAdd1M(b *testing.B) {
	s := bigSet()
	var mb [32]byte
	i := 0
	loop(b, func() {
		// Add a new member and remove an old one: the set keeps its size.
		s.Add(benchMember(mb[:], benchN+i))
		s.Remove(benchMember(mb[:], i))
		i++
	})
}

func BenchmarkSPop1M(b *testing.B) {
	s := bigSet()
	r := rand.New(rand.NewPCG(1, 2))
	buf := make([]byte, 0, 64)
	loop(b, func() {
		buf = s.Pop(r, buf[:0])
		s.Add(buf) // keep the size
	})
}

// BenchmarkSnapshotView is what the AOF rewrite's snapshot costs under the
// lock for a 1M-member hash: the descriptors of its index blocks and
// arena pages, not its data.
func BenchmarkSnapshotView1M(b *testing.B) {
	h := bigHash()
	ep := h.ep
	loop(b, func() {
		ep.Freeze()
		_ = h.View()
		ep.Thaw()
	})
}

// BenchmarkResize1M is the stall of growing a 1M-field hash's index: the
// one put that crosses 3/4 full rebuilds the index at twice the size in
// one step (Redis rehashes incrementally instead). Each iteration rebuilds
// the 2^21-slot index of bigHash at the same size, the same work.
func BenchmarkResize1M(b *testing.B) {
	h := bigHash()
	loop(b, func() { h.t.resize(h.t.lg) })
}
