package main

import (
	"bufio"
	"fmt"
	"math"
	"net"
	"os"
	"os/exec"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

func TestMemoryLimit(t *testing.T) {
	edge := int64(math.MaxInt64-64<<20) / 9 * 8 // the largest that does not overflow
	for _, tc := range []struct{ maxmemory, want int64 }{
		{0, math.MaxInt64},
		{-1, math.MaxInt64},
		{64 << 20, 64<<20 + 8<<20 + 64<<20},
		{4 << 30, 4<<30 + 512<<20 + 64<<20},
		{math.MaxInt64, math.MaxInt64},
		{edge, edge + edge/8 + 64<<20},
		{edge + 8, math.MaxInt64},
	} {
		if got := memoryLimit(tc.maxmemory); got != tc.want {
			t.Errorf("memoryLimit(%d) = %d, want %d", tc.maxmemory, got, tc.want)
		}
	}

	old := debug.SetMemoryLimit(-1)
	t.Cleanup(func() { debug.SetMemoryLimit(old) })
	t.Setenv("GOMEMLIMIT", "")
	applyMemoryLimit(256 << 20)
	if got := debug.SetMemoryLimit(-1); got != memoryLimit(256<<20) {
		t.Errorf("runtime limit %d after applyMemoryLimit(256mb)", got)
	}
	applyMemoryLimit(0)
	if got := debug.SetMemoryLimit(-1); got != math.MaxInt64 {
		t.Errorf("runtime limit %d after applyMemoryLimit(0)", got)
	}
	t.Setenv("GOMEMLIMIT", "1GiB")
	debug.SetMemoryLimit(1 << 30)
	applyMemoryLimit(64 << 20)
	if got := debug.SetMemoryLimit(-1); got != 1<<30 {
		t.Errorf("applyMemoryLimit overrode GOMEMLIMIT: %d", got)
	}
}

// TestHelperServe is not a test: run by TestFloodRSS as a child process
// (the test binary re-executed), it is mullet serve with the directives
// in MULLET_TEST_SERVE, so the flood runs against the real wiring,
// runtime memory limit included.
func TestHelperServe(t *testing.T) {
	args := os.Getenv("MULLET_TEST_SERVE")
	if args == "" {
		return
	}
	if err := serve(strings.Split(args, "\x1f")); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Exit(0)
}

// TestFloodRSS floods a mullet process capped at 64mb with producers while
// a consumer drains it, for three seconds past the cap, and checks its
// resident memory stays within maxmemory plus a fixed overhead, the error
// is exact, and no acknowledged item is missing.
func TestFloodRSS(t *testing.T) {
	const capBytes = 64 << 20
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	directives := []string{"--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--dir", t.TempDir(),
		"--appendonly", "no", "--save", "", "--maxmemory", strconv.Itoa(capBytes), "--loglevel", "warning"}
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperServe$")
	cmd.Env = append(os.Environ(), "MULLET_TEST_SERVE="+strings.Join(directives, "\x1f"))
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
	})
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	deadline := time.Now().Add(20 * time.Second)
	for {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
			break
		}
		select {
		case <-exited:
			t.Fatal("mullet exited before listening")
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("mullet did not listen within 20s")
		}
		time.Sleep(10 * time.Millisecond)
	}

	const oom = "-OOM command not allowed when used memory > 'maxmemory'.\r\n"
	item := strings.Repeat("i", 1000)
	push := fmt.Sprintf("*3\r\n$5\r\nLPUSH\r\n$5\r\nflood\r\n$%d\r\n%s\r\n", len(item), item)
	var acked, popped atomic.Int64
	var capped atomic.Bool
	stop := make(chan struct{})
	errs := make(chan error, 16)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			c, err := net.Dial("tcp", addr)
			if err != nil {
				errs <- err
				return
			}
			defer c.Close()
			br := bufio.NewReader(c)
			batch := []byte(strings.Repeat(push, 32))
			for {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := c.Write(batch); err != nil {
					errs <- err
					return
				}
				for range 32 {
					line, err := br.ReadString('\n')
					switch {
					case err != nil:
						errs <- err
						return
					case line == oom:
						capped.Store(true)
					case line[0] == ':':
						acked.Add(1)
					default:
						errs <- fmt.Errorf("LPUSH: %q", line)
						return
					}
				}
			}
		})
	}
	wg.Go(func() { // the consumer, once the cap is reached
		c, err := net.Dial("tcp", addr)
		if err != nil {
			errs <- err
			return
		}
		defer c.Close()
		br := bufio.NewReader(c)
		for {
			select {
			case <-stop:
				return
			case <-time.After(time.Millisecond):
			}
			if !capped.Load() {
				continue
			}
			fmt.Fprint(c, "*3\r\n$4\r\nRPOP\r\n$5\r\nflood\r\n$2\r\n50\r\n")
			line, err := br.ReadString('\n')
			if err != nil {
				errs <- err
				return
			}
			n, _ := strconv.Atoi(strings.TrimSpace(line[1:]))
			for range max(n, 0) * 2 {
				if _, err := br.ReadString('\n'); err != nil {
					errs <- err
					return
				}
			}
			popped.Add(int64(max(n, 0)))
		}
	})
	var peak int64
	var until time.Time
	for {
		peak = max(peak, procStatus(t, cmd.Process.Pid, "VmRSS"))
		if capped.Load() && until.IsZero() {
			until = time.Now().Add(3 * time.Second)
		}
		if !until.IsZero() && time.Now().After(until) {
			break
		}
		select {
		case err := <-errs:
			t.Fatal(err)
		case <-exited:
			t.Fatal("mullet exited")
		case <-time.After(10 * time.Millisecond):
		}
	}
	close(stop)
	wg.Wait()
	select {
	case err := <-errs:
		t.Fatal(err)
	default:
	}
	peak = max(peak, procStatus(t, cmd.Process.Pid, "VmHWM"))

	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprint(c, "*2\r\n$4\r\nLLEN\r\n$5\r\nflood\r\n")
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprintf(":%d\r\n", acked.Load()-popped.Load()); line != want {
		t.Fatalf("LLEN %q after %d acknowledged pushes and %d pops: items lost or evicted", line, acked.Load(), popped.Load())
	}
	over := peak - capBytes>>10
	t.Logf("%d pushes acknowledged, %d popped; peak RSS %d kB, %d kB over maxmemory", acked.Load(), popped.Load(), peak, over)
	if raceEnabled {
		return // the race detector's shadow memory says nothing about mullet's
	}
	// redis-server under the same flood peaks ~17 MB over maxmemory
	// (bench/memory); the test binary's runtime adds a few.
	if over > 40<<10 {
		t.Errorf("peak RSS %d kB is %d kB over maxmemory", peak, over)
	}
}

// procStatus returns a /proc/PID/status field in kB.
func procStatus(t *testing.T, pid int, field string) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, field+":"); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return n
		}
	}
	t.Fatalf("no %s in /proc/%d/status", field, pid)
	return 0
}
