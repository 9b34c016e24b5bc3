package queue

import (
	"fmt"
	"math/rand/v2"
	"syscall"
	"testing"
	"time"
)

// benchOrders are JSON orders like the backlog benchmark's (~165 B).
func benchOrders(n int) [][]byte {
	r := rand.New(rand.NewPCG(1, 2))
	names := []string{"anna", "lars", "ingrid", "ole", "kari", "per", "nina", "jonas"}
	out := make([][]byte, n)
	for i := range out {
		out[i] = fmt.Appendf(nil, `{"order_id":%d,"sku":"SKU-%05d","quantity":%d,"email":"%s.berg%d@example.com","total":%d.%02d,"note":"","created_at":"2026-11-18T11:%02d:%02d.%03dZ"}`,
			1e7+i, r.IntN(20000), 1+r.IntN(5), names[r.IntN(len(names))], r.IntN(1000), r.IntN(2500), r.IntN(100), r.IntN(60), r.IntN(60), r.IntN(1000))
	}
	return out
}

// BenchmarkFIFO pushes orders at the head of a queue holding a backlog
// of 20,000 and pops at the tail, one Tx each, as LPUSH and RPOP at
// pipeline 1 do: with compression every full chunk is compressed once when
// it leaves the head and decompressed once when it reaches the tail.
func BenchmarkFIFO(b *testing.B) {
	items := benchOrders(4096)
	for _, depth := range []int{0, 1} {
		b.Run(fmt.Sprintf("depth%d", depth), func(b *testing.B) {
			ks := New(Config{CompressDepth: depth})
			key := []byte("q")
			tx := ks.Begin()
			tx.Push(0, key, items[:1], true, false)
			for i := range 20000 {
				tx.Push(0, key, items[i%len(items):i%len(items)+1], true, false)
			}
			tx.End()
			b.ReportAllocs()
			b.ResetTimer()
			// CPU time as well as wall time: on a shared machine the
			// process's own CPU per operation is the steadier figure.
			var ru0, ru1 syscall.Rusage
			syscall.Getrusage(syscall.RUSAGE_SELF, &ru0)
			defer func() {
				syscall.Getrusage(syscall.RUSAGE_SELF, &ru1)
				cpu := time.Duration(ru1.Utime.Nano() + ru1.Stime.Nano() - ru0.Utime.Nano() - ru0.Stime.Nano())
				b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
			}()
			for i := 0; b.Loop(); i++ {
				tx := ks.Begin()
				tx.Push(0, key, items[i%len(items):i%len(items)+1], true, false)
				tx.End()
				tx = ks.Begin()
				tx.Pop(0, key, false, -1, nil)
				tx.End()
			}
		})
	}
}
