// Command memory measures mullet's memory against redis-server 7.0 on this
// machine, side by side in one run, for the memory-cap issue:
//
//   - rss: resident memory holding 1M items of 200 bytes (one LPUSH per
//     item, pipelined), settled, with appendonly no;
//   - fit: how many 1000-byte items fit under maxmemory 64mb before the
//     first -OOM;
//   - flood: producers flood a server capped at 256mb while a consumer
//     drains it, for 10 s past the cap: peak RSS over maxmemory, exact
//     error text, nothing lost or evicted (pushes acknowledged minus pops
//     equals LLEN);
//   - backlog, rdbbase: the backlog figures of issue 14 on seeded JSON
//     orders (backlog.go): orders held under maxmemory 64mb at
//     list-compress-depth 0 and 1, and the size of an RDB-preamble base
//     of 2M orders and the restart from it;
//   - gc: GC stop-the-world pauses (runtime/metrics
//     /sched/pauses/total/gc:seconds) of an in-process mullet holding 10M
//     small items under a push/pop load over TCP from a child process, with
//     the soft memory limit 32 MiB above the data so the collector runs
//     often. Pauses include time the OS did not run the process's threads:
//     on a loaded machine, read them with the load average printed beside.
//   - compressrate: mullet's LPUSH/RPOP throughput (redis-benchmark) at
//     list-compress-depth 0 and 1, pipeline 1 and 16 (compressrate.go;
//     not in the default set: it takes minutes).
//
// Usage: go run ./bench/memory [-mullet bin] [-redis redis-server] [-only rss,fit,flood,gc,backlog,rdbbase,compressrate]
// Without -mullet it builds ./cmd/mullet. It prints a table; the bench
// engineer's bench/sidebyside repeats the rss and fit figures in rounds.
package main

import (
	"mullet/bench/internal/harness"
	"mullet/internal/resp"

	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

func main() {
	mulletBin := flag.String("mullet", "", "mullet binary (default: build ./cmd/mullet)")
	redisBin := flag.String("redis", "redis-server", "redis-server binary")
	only := flag.String("only", "rss,fit,flood,gc,backlog,rdbbase", "figures to run")
	backlogCap := flag.String("backlogcap", "64mb", "backlog: maxmemory")
	depths := flag.String("depths", "0,1", "backlog: list-compress-depth values")
	baseItems := flag.Int("baseitems", 2_000_000, "rdbbase: orders")
	baseDepth := flag.Int("basedepth", 0, "rdbbase: list-compress-depth of both servers")
	rateRounds := flag.Int("raterounds", 3, "compressrate: rounds")
	rateN := flag.Int("raten", 1_000_000, "compressrate: requests per redis-benchmark test")
	rateSize := flag.Int("ratesize", 200, "compressrate: item bytes (-d)")
	items := flag.Int("items", 1_000_000, "rss: items")
	size := flag.Int("size", 200, "rss: item bytes")
	capLimit := flag.String("cap", "64mb", "fit: maxmemory")
	capItem := flag.Int("capitem", 1000, "fit: item bytes")
	floodCap := flag.String("floodcap", "256mb", "flood: maxmemory")
	floodFor := flag.Duration("floodfor", 10*time.Second, "flood: time to keep flooding past the cap")
	gcItems := flag.Int("gcitems", 10_000_000, "gc: items queued")
	gcFor := flag.Duration("gcfor", 30*time.Second, "gc: load duration")
	loadAddr := flag.String("loadgen", "", "internal: run the gc figure's load against this address")
	flag.Parse()
	if *loadAddr != "" {
		must(loadgen(*loadAddr, *gcFor))
		return
	}

	work, err := os.MkdirTemp("", "mullet-bench-memory-")
	if err != nil {
		fatal(err)
	}
	defer os.RemoveAll(work)
	if *mulletBin == "" {
		*mulletBin = filepath.Join(work, "mullet")
		build := exec.Command("go", "build", "-o", *mulletBin, "./cmd/mullet")
		build.Stdout, build.Stderr = os.Stderr, os.Stderr
		if err := build.Run(); err != nil {
			fatal(fmt.Errorf("building mullet: %w", err))
		}
	}
	flavours := []flavour{
		{"redis-server", *redisBin, nil},
		{"mullet", *mulletBin, []string{"serve"}},
	}
	want := map[string]bool{}
	for _, w := range strings.Split(*only, ",") {
		want[strings.TrimSpace(w)] = true
	}
	if want["rss"] {
		fmt.Printf("\n## RSS holding %d items of %d bytes (appendonly no)\n\n", *items, *size)
		fmt.Printf("%-14s %12s %12s %14s\n", "server", "VmRSS kB", "VmHWM kB", "used_memory")
		for _, f := range flavours {
			must(figureRSS(f, work, *items, *size))
		}
	}
	if want["fit"] {
		fmt.Printf("\n## %d-byte items that fit under maxmemory %s\n\n", *capItem, *capLimit)
		fmt.Printf("%-14s %12s %12s %14s\n", "server", "items", "VmRSS kB", "used_memory")
		for _, f := range flavours {
			must(figureFit(f, work, *capLimit, *capItem))
		}
	}
	if want["flood"] {
		fmt.Printf("\n## flood past maxmemory %s for %v: 20 producers (1000 B items), 1 consumer\n\n", *floodCap, *floodFor)
		fmt.Printf("%-14s %10s %10s %10s %12s %12s %10s\n", "server", "acked", "popped", "LLEN", "peak RSS kB", "over cap kB", "OOM replies")
		for _, f := range flavours {
			must(figureFlood(f, work, *floodCap, *floodFor))
		}
	}
	if want["backlog"] {
		fmt.Printf("\n## JSON orders (~165 B, seed 1) held under maxmemory %s\n\n", *backlogCap)
		fmt.Printf("%-14s %6s %12s %12s %14s\n", "server", "depth", "items", "VmRSS kB", "used_memory")
		for _, d := range strings.Split(*depths, ",") {
			depth, err := strconv.Atoi(strings.TrimSpace(d))
			must(err)
			for _, f := range flavours {
				must(figureBacklog(f, work, *backlogCap, depth))
			}
		}
	}
	if want["rdbbase"] {
		fmt.Printf("\n## BGREWRITEAOF of %d JSON orders, aof-use-rdb-preamble yes, then restart\n\n", *baseItems)
		fmt.Printf("%-14s %6s %14s %12s %12s %12s\n", "server", "depth", "base MB", "rewrite s", "to PONG s", "CPU s")
		for _, f := range flavours {
			must(figureRDBBase(f, work, *baseItems, *baseDepth))
		}
	}
	if want["compressrate"] {
		fmt.Printf("\n## mullet LPUSH/RPOP requests/s, list-compress-depth 0 and 1 (redis-benchmark -c 50 -d %d, %d rounds, medians)\n\n", *rateSize, *rateRounds)
		fmt.Printf("%-8s %3s %14s %14s %8s\n", "test", "P", "depth 0", "depth 1", "ratio")
		must(figureCompressRate(flavours[1], work, *rateRounds, *rateN, *rateSize))
	}
	if want["gc"] {
		fmt.Printf("\n## mullet GC pauses, %d items queued, push/pop load for %v\n\n", *gcItems, *gcFor)
		must(figureGC(*gcItems, *gcFor))
	}
}

type flavour struct {
	name  string
	bin   string
	argv0 []string
}

func (f flavour) start(work string, extra ...string) (*proc, error) {
	return startServer(f.name, f.bin, f.argv0, work, extra...)
}

func must(err error) {
	if err != nil {
		fatal(err)
	}
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "bench/memory:", err)
	os.Exit(1)
}

func item(size int) []byte {
	b := make([]byte, size)
	for i := range b {
		b[i] = 'a' + byte(i%26)
	}
	return b
}

func figureRSS(f flavour, work string, n, size int) error {
	s, err := f.start(work)
	if err != nil {
		return err
	}
	defer s.stop()
	c, err := resp.Dial(s.addr)
	if err != nil {
		return err
	}
	defer c.Close()
	val := item(size)
	for sent := 0; sent < n; {
		batch := min(1000, n-sent)
		for range batch {
			c.Send("LPUSH", "q", val)
		}
		if err := c.Flush(); err != nil {
			return err
		}
		for range batch {
			if _, err := c.Read(); err != nil {
				return err
			}
		}
		sent += batch
	}
	if got, err := c.Int("LLEN", "q"); err != nil || got != int64(n) {
		return fmt.Errorf("%s: LLEN %d after %d pushes (%v)", f.name, got, n, err)
	}
	rss, err := harness.SettledRSS(s.cmd.Process.Pid)
	if err != nil {
		return err
	}
	hwm, _ := harness.Status(s.cmd.Process.Pid, "VmHWM")
	fmt.Printf("%-14s %12d %12d %14s\n", f.name, rss, hwm, infoField(s.addr, "used_memory"))
	return nil
}

// pushUntilOOM pushes items in pipelines of 100 until one is refused and
// returns the error text.
func pushUntilOOM(c *resp.Conn, key string, val []byte) (acked int64, oom string, err error) {
	for sent := 0; sent < 50_000_000; sent += 100 {
		for range 100 {
			c.Send("LPUSH", key, val)
		}
		if err := c.Flush(); err != nil {
			return acked, "", err
		}
		for range 100 {
			_, err := c.Read()
			var re resp.Error
			switch {
			case errors.As(err, &re):
				oom = string(re)
			case err != nil:
				return acked, "", err
			default:
				acked++
			}
		}
		if oom != "" {
			return acked, oom, nil
		}
	}
	return acked, "", errors.New("no OOM after 50M items")
}

const oomText = "OOM command not allowed when used memory > 'maxmemory'."

func figureFit(f flavour, work, limit string, size int) error {
	s, err := f.start(work, "--maxmemory", limit)
	if err != nil {
		return err
	}
	defer s.stop()
	c, err := resp.Dial(s.addr)
	if err != nil {
		return err
	}
	defer c.Close()
	acked, oom, err := pushUntilOOM(c, "cap", item(size))
	if err != nil {
		return err
	}
	if oom != oomText {
		return fmt.Errorf("%s: refused with %q", f.name, oom)
	}
	n, err := c.Int("LLEN", "cap")
	if err != nil {
		return err
	}
	if n != acked {
		return fmt.Errorf("%s: %d pushes acknowledged, LLEN %d", f.name, acked, n)
	}
	rss, _ := harness.Status(s.cmd.Process.Pid, "VmRSS")
	fmt.Printf("%-14s %12d %12d %14s\n", f.name, n, rss, infoField(s.addr, "used_memory"))
	return nil
}

// figureFlood floods a capped server with 20 producers while one consumer
// pops, and keeps going for d after the first OOM.
func figureFlood(f flavour, work, limit string, d time.Duration) error {
	s, err := f.start(work, "--maxmemory", limit)
	if err != nil {
		return err
	}
	defer s.stop()
	var acked, popped, ooms atomic.Int64
	var capped atomic.Bool
	stop := make(chan struct{})
	errs := make(chan error, 32)
	var wg sync.WaitGroup
	val := item(1000)
	for range 20 {
		wg.Go(func() {
			c, err := resp.Dial(s.addr)
			if err != nil {
				errs <- err
				return
			}
			defer c.Close()
			for {
				select {
				case <-stop:
					return
				default:
				}
				for range 50 {
					c.Send("LPUSH", "flood", val)
				}
				if err := c.Flush(); err != nil {
					errs <- err
					return
				}
				for range 50 {
					_, err := c.Read()
					var re resp.Error
					switch {
					case errors.As(err, &re):
						if string(re) != oomText {
							errs <- fmt.Errorf("%s: refused with %q", f.name, re)
							return
						}
						ooms.Add(1)
						capped.Store(true)
					case err != nil:
						errs <- err
						return
					default:
						acked.Add(1)
					}
				}
			}
		})
	}
	// The consumer starts once the cap is reached and pops a fifth of
	// what a producer pipeline pushes, so the queue hovers at the cap
	// while chunks are freed and allocated.
	wg.Go(func() {
		c, err := resp.Dial(s.addr)
		if err != nil {
			errs <- err
			return
		}
		defer c.Close()
		for !capped.Load() {
			select {
			case <-stop:
				return
			case <-time.After(10 * time.Millisecond):
			}
		}
		for {
			select {
			case <-stop:
				return
			default:
			}
			v, err := c.Do("RPOP", "flood", 100)
			if err != nil {
				errs <- err
				return
			}
			if a, ok := v.([]any); ok {
				popped.Add(int64(len(a)))
			}
			time.Sleep(time.Millisecond)
		}
	})
	var peak int64
	deadline := time.Time{}
	for {
		if r, err := harness.Status(s.cmd.Process.Pid, "VmRSS"); err == nil {
			peak = max(peak, r)
		}
		if capped.Load() && deadline.IsZero() {
			deadline = time.Now().Add(d)
		}
		if !deadline.IsZero() && time.Now().After(deadline) {
			break
		}
		select {
		case err := <-errs:
			close(stop)
			wg.Wait()
			return err
		case <-time.After(20 * time.Millisecond):
		}
	}
	close(stop)
	wg.Wait()
	select {
	case err := <-errs:
		return err
	default:
	}
	hwm, _ := harness.Status(s.cmd.Process.Pid, "VmHWM")
	peak = max(peak, hwm)
	c, err := resp.Dial(s.addr)
	if err != nil {
		return err
	}
	defer c.Close()
	n, err := c.Int("LLEN", "flood")
	if err != nil {
		return err
	}
	if n != acked.Load()-popped.Load() {
		return fmt.Errorf("%s: acked %d - popped %d != LLEN %d: items lost or evicted", f.name, acked.Load(), popped.Load(), n)
	}
	capKB := parseSize(limit) / 1024
	fmt.Printf("%-14s %10d %10d %10d %12d %12d %10d\n", f.name, acked.Load(), popped.Load(), n, peak, peak-capKB, ooms.Load())
	return nil
}

// parseSize reads "64mb" / "256mb" / "1gb" as Redis does (1024-based).
func parseSize(s string) int64 {
	s = strings.ToLower(s)
	mult := int64(1)
	for _, u := range []struct {
		suf string
		m   int64
	}{{"gb", 1 << 30}, {"mb", 1 << 20}, {"kb", 1 << 10}} {
		if strings.HasSuffix(s, u.suf) {
			s, mult = strings.TrimSuffix(s, u.suf), u.m
			break
		}
	}
	var n int64
	fmt.Sscan(s, &n)
	return n * mult
}
