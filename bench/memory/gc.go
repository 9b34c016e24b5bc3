package main

import (
	"mullet/internal/resp"

	"context"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sort"
	"strconv"
	"strings"
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

	// The load runs in a child process (this program again, -loadgen), so
	// the server process's threads are the server's alone.
	before := readGC()
	self, err := os.Executable()
	if err != nil {
		return err
	}
	load := exec.Command(self, "-loadgen", ln.Addr().String(), "-gcfor", d.String())
	load.Stderr = os.Stderr
	out, err := load.Output()
	if err != nil {
		return fmt.Errorf("load generator: %w", err)
	}
	after := readGC()
	ops, _ := strconv.ParseInt(strings.TrimSpace(string(out)), 10, 64)

	fmt.Printf("items %d, used_memory %d MB, heap objects %d MB, GC cycles %d, ops/s %.0f, load average %s\n",
		n, ks.UsedMemory()>>20, after.heap>>20, after.cycles-before.cycles, float64(ops)/d.Seconds(), loadAvg())
	for i, m := range []struct {
		name       string
		now, start metrics.Float64Histogram
	}{
		{"STW pauses (total)", after.pauses, before.pauses},
		{"  of which stopping", after.stopping, before.stopping},
	} {
		h := m.now
		for i := range h.Counts {
			h.Counts[i] -= m.start.Counts[i]
		}
		p50, p99, pmax, count := quantiles(h)
		fmt.Printf("%-20s n=%d  p50 %v  p99 %v  max %v  (bucket upper bounds)\n", m.name, count, p50, p99, pmax)
		if i == 0 && p99 >= time.Millisecond {
			fmt.Println("FAIL: p99 GC pause is 1 ms or more")
		}
	}
	return nil
}

// loadAvg returns the 1-minute load average: pauses include time the OS
// did not run the process's threads.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	return strings.Fields(string(b))[0]
}

// loadgen is the child process of figureGC: 8 clients pipelining RPUSH and
// LPOP pairs on 8 of the 10 queues for d. It prints the operations done.
func loadgen(addr string, d time.Duration) error {
	var ops atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	items := make([][]byte, 16)
	for i := range items {
		items[i] = []byte(fmt.Sprintf(`{"id":%d,"v":"%s"}`, i, strings.Repeat("x", i*2)))
	}
	for w := range 8 {
		wg.Go(func() {
			c, err := resp.Dial(addr)
			if err != nil {
				errs <- err
				return
			}
			defer c.Close()
			key := "q" + strconv.Itoa(w)
			for {
				select {
				case <-stop:
					return
				default:
				}
				for _, it := range items {
					c.Send("RPUSH", key, it)
					c.Send("LPOP", key)
				}
				if err := c.Flush(); err != nil {
					errs <- err
					return
				}
				for range 2 * len(items) {
					if _, err := c.Read(); err != nil {
						errs <- err
						return
					}
				}
				ops.Add(int64(2 * len(items)))
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
	fmt.Println(ops.Load())
	return nil
}

type gcSample struct {
	pauses   metrics.Float64Histogram
	stopping metrics.Float64Histogram
	cycles   uint64
	heap     uint64
}

func readGC() gcSample {
	s := []metrics.Sample{
		{Name: "/sched/pauses/total/gc:seconds"},
		{Name: "/sched/pauses/stopping/gc:seconds"},
		{Name: "/gc/cycles/total:gc-cycles"},
		{Name: "/memory/classes/heap/objects:bytes"},
	}
	metrics.Read(s)
	hist := func(v metrics.Value) metrics.Float64Histogram {
		h := v.Float64Histogram()
		return metrics.Float64Histogram{Counts: append([]uint64(nil), h.Counts...), Buckets: h.Buckets}
	}
	return gcSample{
		pauses:   hist(s[0].Value),
		stopping: hist(s[1].Value),
		cycles:   s[2].Value.Uint64(),
		heap:     s[3].Value.Uint64(),
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
