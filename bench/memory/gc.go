package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"mullet/config"
	"mullet/queue"
	"mullet/server"
)

// figureGC runs mullet in this process, as cmd/mullet wires it, fills it
// with n small items through the keyspace (quicker than over TCP), and
// measures stop-the-world GC pauses while 8 clients push and pop over TCP
// for d. The soft memory limit is set 32 MiB above what the data takes, as
// a server at its cap would be, so the collector runs often.
func figureGC(n int, d time.Duration) error {
	set := config.New()
	if err := set.Load("", [][]string{{"appendonly", "no"}}); err != nil {
		return err
	}
	ks := queue.New(queue.Config{})
	srv := server.New(server.Config{Keyspace: ks, Settings: set, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	go srv.Serve(ln)
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	}()

	// Items like a queue's: 16 to 48 bytes, in 10 queues.
	batch := make([][]byte, 1000)
	for i := range batch {
		batch[i] = []byte(fmt.Sprintf(`{"id":%d,"v":"%s"}`, i, "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"[:i%31]))
	}
	for i := 0; i < n; i += len(batch) {
		tx := ks.Begin()
		tx.Push(0, []byte("q"+strconv.Itoa(i/len(batch)%10)), batch[:min(len(batch), n-i)], false, false)
		tx.End()
	}
	runtime.GC()
	debug.SetMemoryLimit(ks.UsedMemory() + 32<<20)
	defer debug.SetMemoryLimit(math.MaxInt64)

	before := readGC()
	var ops atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for w := range 8 {
		wg.Go(func() {
			c, err := dial(ln.Addr().String())
			if err != nil {
				errs <- err
				return
			}
			defer c.close()
			key := "q" + strconv.Itoa(w%10)
			for {
				select {
				case <-stop:
					return
				default:
				}
				for i := range 16 {
					c.send("RPUSH", key, batch[i*7%len(batch)])
					c.send("LPOP", key)
				}
				if err := c.flush(); err != nil {
					errs <- err
					return
				}
				for range 32 {
					if _, err := c.read(); err != nil {
						errs <- err
						return
					}
				}
				ops.Add(32)
			}
		})
	}
	time.Sleep(d)
	close(stop)
	wg.Wait()
	select {
	case err := <-errs:
		return err
	default:
	}
	after := readGC()

	pauses := after.pauses
	for i := range pauses.Counts {
		pauses.Counts[i] -= before.pauses.Counts[i]
	}
	p50, p99, pmax, count := quantiles(pauses)
	fmt.Printf("items %d, used_memory %d MB, heap objects %d MB, GC cycles %d, pauses %d, ops/s %.0f\n",
		n, ks.UsedMemory()>>20, after.heap>>20, after.cycles-before.cycles, count, float64(ops.Load())/d.Seconds())
	fmt.Printf("STW pause p50 %v  p99 %v  max %v  (bucket upper bounds)\n", p50, p99, pmax)
	if p99 >= time.Millisecond {
		fmt.Println("FAIL: p99 GC pause is 1 ms or more")
	}
	return nil
}

type gcSample struct {
	pauses metrics.Float64Histogram
	cycles uint64
	heap   uint64
}

func readGC() gcSample {
	s := []metrics.Sample{
		{Name: "/sched/pauses/total/gc:seconds"},
		{Name: "/gc/cycles/total:gc-cycles"},
		{Name: "/memory/classes/heap/objects:bytes"},
	}
	metrics.Read(s)
	h := s[0].Value.Float64Histogram()
	return gcSample{
		pauses: metrics.Float64Histogram{Counts: append([]uint64(nil), h.Counts...), Buckets: h.Buckets},
		cycles: s[1].Value.Uint64(),
		heap:   s[2].Value.Uint64(),
	}
}

// quantiles returns the upper bounds of the buckets holding the median,
// the 99th percentile and the largest pause, and the number of pauses.
func quantiles(h metrics.Float64Histogram) (p50, p99, pmax time.Duration, total uint64) {
	for _, c := range h.Counts {
		total += c
	}
	if total == 0 {
		return 0, 0, 0, 0
	}
	at := func(q float64) time.Duration {
		rank := uint64(math.Ceil(q * float64(total)))
		var seen uint64
		i := sort.Search(len(h.Counts), func(i int) bool {
			seen = 0
			for _, c := range h.Counts[:i+1] {
				seen += c
			}
			return seen >= rank
		})
		ub := h.Buckets[i+1]
		if math.IsInf(ub, 1) {
			ub = h.Buckets[i]
		}
		return time.Duration(ub * float64(time.Second))
	}
	return at(0.5), at(0.99), at(1), total
}
