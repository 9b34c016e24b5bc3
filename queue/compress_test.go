package queue

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"slices"
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

// FuzzList drives a list at a fuzzed list-compress-depth with fuzzed
// operations and items, against the slice model, checking the chunk and
// compression invariants as it goes. Items are JSON-like so that chunks
// compress.
func FuzzList(f *testing.F) {
	f.Add([]byte{1, 0, 5, 1, 7, 2, 3, 3, 9, 4, 1, 5, 2, 6, 0, 7, 4})
	f.Add([]byte{2, 0, 200, 0, 201, 0, 202, 1, 203, 2, 0, 3, 0, 4, 1, 5, 1})
	f.Fuzz(func(t *testing.T, ops []byte) {
		if len(ops) == 0 {
			return
		}
		l := &list{ep: &epochs{cur: 1}, depth: int(ops[0] % 4)}
		var m model
		item := func(b byte, n int) []byte {
			return fmt.Appendf(nil, `{"order_id":%d,"note":"%s"}`, int(b)*7919+n, bytes.Repeat([]byte{'a' + b%26}, int(b)))
		}
		for i := 1; i+1 < len(ops); i += 2 {
			op, arg := ops[i]%8, ops[i+1]
			switch {
			case op == 0 || op == 1:
				// Pushes come in runs so that lists reach many chunks.
				for k := range 200 {
					v := item(arg, k)
					if op == 0 {
						l.pushFront(v)
						m = append(model{v}, m...)
					} else {
						l.pushBack(v)
						m = append(m, v)
					}
				}
			case op == 2 && len(m) > 0:
				for range min(int(arg)+1, len(m)) {
					if !bytes.Equal(l.popBack(), m[len(m)-1]) {
						t.Fatal("popBack differs")
					}
					m = m[:len(m)-1]
				}
			case op == 3 && len(m) > 0:
				for range min(int(arg)+1, len(m)) {
					if !bytes.Equal(l.popFront(), m[0]) {
						t.Fatal("popFront differs")
					}
					m = m[1:]
				}
			case op == 4 && len(m) > 0:
				k := int(arg) * len(m) / 256
				v := item(arg, -1)
				l.set(int64(k), v)
				m[k] = v
			case op == 5:
				k := int(arg) * (len(m) + 1) / 256
				v := item(arg, -2)
				l.insertAt(int64(k), v)
				m = slices.Insert(m, k, v)
			case op == 6 && len(m) > 0:
				v := m[int(arg)*len(m)/256]
				want := removeModel(&m, v, int64(arg%3), arg%2 == 0)
				if got := l.removeWhere(v, int64(arg%3), arg%2 == 0); got != want {
					t.Fatalf("removeWhere removed %d, want %d", got, want)
				}
			case op == 7 && len(m) > 0:
				s := int64(int(arg) * len(m) / 512)
				e := int64(len(m)) - 1 - s/2
				l.trim(s, e)
				m = m[s : e+1]
			}
			l.ep.spare.settle()
			checkList(t, l, m, i, fmt.Sprint("op ", op))
		}
	})
}
