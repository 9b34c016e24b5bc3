// Package soak holds a soak test: many connections, producers and
// consumers for a long while against the real mullet binary, watching the
// server's goroutines, heap and file descriptors for growth and checking
// that every pushed item is popped exactly once.
//
// The short run (20 s, 300 connections) is part of make test. A real soak:
//
//	go test ./bench/soak -run Soak -timeout 0 -soak.duration 10m -soak.conns 5000 -v
//
// (without -race: the race detector allows only 8128 goroutines). The
// test talks to mullet over TCP only; it reads the server's goroutine
// count and heap from Go's profiler (MULLET_PPROF) and its descriptors
// from /proc.
package soak

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

var (
	soakDuration = flag.Duration("soak.duration", 20*time.Second, "how long the load runs")
	soakConns    = flag.Int("soak.conns", 300, "connections held open at once")
)

const queues = 8

func TestSoak(t *testing.T) {
	conns := *soakConns
	producers := max(conns/15, 4)
	consumers := max(conns/15, 4)
	churners := max(conns/30, 2)
	idlers := conns - producers - consumers - churners
	raiseFDLimit(t, conns*2+200)

	srv := startServer(t)
	base := srv.sample(t)
	t.Logf("baseline: %v", base)

	ctx, stopLoad := context.WithTimeout(context.Background(), *soakDuration)
	defer stopLoad()
	var wg sync.WaitGroup
	errc := make(chan error, conns)
	fail := func(err error) {
		select {
		case errc <- err:
		default:
		}
		stopLoad()
	}

	// Producers push unique items ("p<producer>:<seq>") in pipelined
	// batches; acked counts what the server acknowledged.
	acked := make([]atomic.Int64, producers)
	for p := 0; p < producers; p++ {
		wg.Go(func() {
			if err := produce(ctx, srv.addr, p, &acked[p]); err != nil {
				fail(fmt.Errorf("producer %d: %w", p, err))
			}
		})
	}
	// Consumers pop with BLMPOP and record what they got.
	var mu sync.Mutex
	seen := make(map[string]int)
	var loadDone atomic.Bool
	var consumersWG sync.WaitGroup
	for c := 0; c < consumers; c++ {
		consumersWG.Go(func() {
			err := consume(srv.addr, &loadDone, func(items []string) {
				mu.Lock()
				for _, it := range items {
					seen[it]++
				}
				mu.Unlock()
			})
			if err != nil {
				fail(fmt.Errorf("consumer %d: %w", c, err))
			}
		})
	}
	// Churners connect, block, leave while blocked, and connect again.
	var churned atomic.Int64
	for c := 0; c < churners; c++ {
		wg.Go(func() {
			if err := churn(ctx, srv.addr, &churned); err != nil {
				fail(fmt.Errorf("churner %d: %w", c, err))
			}
		})
	}
	// Idlers hold the bulk of the connections, with a PING now and then.
	for i := 0; i < idlers; i++ {
		wg.Go(func() {
			if err := idle(ctx, srv.addr); err != nil {
				fail(fmt.Errorf("idler %d: %w", i, err))
			}
		})
	}

	// Watch the server while the load runs.
	var samples []sample
	tick := time.NewTicker(max(*soakDuration/10, time.Second))
	defer tick.Stop()
watch:
	for {
		select {
		case <-ctx.Done():
			break watch
		case <-tick.C:
			if ctx.Err() != nil {
				break watch // the load is winding down: not a steady sample
			}
			s := srv.sample(t)
			samples = append(samples, s)
			t.Logf("%v", s)
		}
	}
	wg.Wait()
	loadDone.Store(true)
	consumersWG.Wait()
	close(errc)
	for err := range errc {
		t.Error(err)
	}
	if t.Failed() {
		return
	}

	// Every acknowledged item was popped exactly once; nothing is left.
	var total int64
	for p := range acked {
		n := acked[p].Load()
		total += n
		for seq := int64(0); seq < n; seq++ {
			if c := seen[fmt.Sprintf("p%d:%d", p, seq)]; c != 1 {
				t.Fatalf("item p%d:%d popped %d times", p, seq, c)
			}
		}
	}
	if int64(len(seen)) != total {
		t.Fatalf("%d distinct items popped, %d acknowledged", len(seen), total)
	}
	t.Logf("%d items pushed and popped, %d churned connections, %d connections", total, churned.Load(), conns)
	if total == 0 {
		t.Fatal("no items went through")
	}

	// No growth while the load was steady: the second half of the run
	// looks like the first.
	if len(samples) >= 4 {
		first, second := samples[:len(samples)/2], samples[len(samples)/2:]
		if g1, g2 := maxOf(first, sample.goroutinesOf), maxOf(second, sample.goroutinesOf); g2 > g1+int64(churners)*4+50 {
			t.Errorf("goroutines grew from %d to %d under steady load", g1, g2)
		}
		if f1, f2 := maxOf(first, sample.fdsOf), maxOf(second, sample.fdsOf); f2 > f1+int64(churners)*2+20 {
			t.Errorf("descriptors grew from %d to %d under steady load", f1, f2)
		}
		if h1, h2 := maxOf(first, sample.heapOf), maxOf(second, sample.heapOf); h2 > h1*3/2+16<<20 {
			t.Errorf("heap grew from %d MB to %d MB under steady load", h1>>20, h2>>20)
		}
	}
	// With every client gone the server is back where it started.
	var end sample
	deadline := time.Now().Add(30 * time.Second)
	for {
		end = srv.sample(t)
		if end.goroutines <= base.goroutines+5 && end.fds <= base.fds+5 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after the load: %v; baseline %v", end, base)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if end.heap > base.heap+32<<20 {
		t.Errorf("heap after the load: %d MB, baseline %d MB", end.heap>>20, base.heap>>20)
	}
	t.Logf("after the load: %v", end)
	srv.stop(t)
}

// produce pushes batches of 10 items to the queues until ctx ends.
func produce(ctx context.Context, addr string, id int, acked *atomic.Int64) error {
	c, err := dial(addr)
	if err != nil {
		return err
	}
	defer c.Close()
	br := bufio.NewReader(c)
	var seq int64
	var buf []byte
	for ctx.Err() == nil {
		buf = buf[:0]
		for i := int64(0); i < 10; i++ {
			item := fmt.Sprintf("p%d:%d", id, seq+i)
			q := fmt.Sprintf("q%d", (seq+i)%queues)
			buf = fmt.Appendf(buf, "*3\r\n$5\r\nLPUSH\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n", len(q), q, len(item), item)
		}
		if _, err := c.Write(buf); err != nil {
			return err
		}
		for i := 0; i < 10; i++ {
			line, err := br.ReadString('\n')
			if err != nil {
				return err
			}
			if line[0] != ':' {
				return fmt.Errorf("LPUSH: %q", line)
			}
		}
		seq += 10
		acked.Store(seq)
		time.Sleep(2 * time.Millisecond) // a steady load, not a flood
	}
	return nil
}

// consume pops up to 100 items at a time from any queue until the load
// is over and a pop times out.
func consume(addr string, loadDone *atomic.Bool, got func([]string)) error {
	c, err := dial(addr)
	if err != nil {
		return err
	}
	defer c.Close()
	br := bufio.NewReader(c)
	cmd := []string{"BLMPOP", "0.2", strconv.Itoa(queues)}
	for q := 0; q < queues; q++ {
		cmd = append(cmd, fmt.Sprintf("q%d", q))
	}
	req := encode(append(cmd, "RIGHT", "COUNT", "100")...)
	for {
		if _, err := c.Write(req); err != nil {
			return err
		}
		v, err := readReply(br)
		if err != nil {
			return err
		}
		if v == nil {
			if loadDone.Load() {
				return nil
			}
			continue
		}
		kv, ok := v.([]any)
		if !ok || len(kv) != 2 {
			return fmt.Errorf("BLMPOP reply %v", v)
		}
		var items []string
		for _, it := range kv[1].([]any) {
			items = append(items, it.(string))
		}
		got(items)
	}
}

// churn connects, pushes to and blocks on keys of its own, and hangs up
// while blocked, over and over.
func churn(ctx context.Context, addr string, n *atomic.Int64) error {
	for ctx.Err() == nil {
		c, err := dial(addr)
		if err != nil {
			return err
		}
		br := bufio.NewReader(c)
		c.Write(encode("HELLO", "3"))
		if _, err := readReply(br); err != nil {
			c.Close()
			return err
		}
		c.Write(encode("BLPOP", "churn-nothing", "0"))
		time.Sleep(5 * time.Millisecond)
		c.Close()
		n.Add(1)
	}
	return nil
}

// idle holds a connection and PINGs it every second.
func idle(ctx context.Context, addr string) error {
	c, err := dial(addr)
	if err != nil {
		return err
	}
	defer c.Close()
	br := bufio.NewReader(c)
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		c.Write([]byte("PING\r\n"))
		line, err := br.ReadString('\n')
		if err != nil {
			return err
		}
		if line != "+PONG\r\n" {
			return fmt.Errorf("PING: %q", line)
		}
	}
}

func dial(addr string) (net.Conn, error) {
	var err error
	for i := 0; i < 50; i++ { // the accept queue may overflow while thousands connect
		var c net.Conn
		if c, err = net.DialTimeout("tcp", addr, 5*time.Second); err == nil {
			return c, nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return nil, err
}

func encode(args ...string) []byte {
	b := fmt.Appendf(nil, "*%d\r\n", len(args))
	for _, a := range args {
		b = fmt.Appendf(b, "$%d\r\n%s\r\n", len(a), a)
	}
	return b
}

// readReply reads one RESP2/RESP3 value: strings, integers, arrays; nil
// for the nulls.
func readReply(br *bufio.Reader) (any, error) {
	line, err := br.ReadString('\n')
	if err != nil {
		return nil, err
	}
	if len(line) < 3 {
		return nil, fmt.Errorf("short line %q", line)
	}
	body := line[1 : len(line)-2]
	switch line[0] {
	case '+', ':':
		return body, nil
	case '-':
		return nil, errors.New(body)
	case '_':
		return nil, nil
	case '$':
		n, _ := strconv.Atoi(body)
		if n < 0 {
			return nil, nil
		}
		b := make([]byte, n+2)
		if _, err := io.ReadFull(br, b); err != nil {
			return nil, err
		}
		return string(b[:n]), nil
	case '*', '%':
		n, _ := strconv.Atoi(body)
		if n < 0 {
			return nil, nil
		}
		if line[0] == '%' {
			n *= 2
		}
		out := make([]any, n)
		for i := range out {
			if out[i], err = readReply(br); err != nil {
				return nil, err
			}
		}
		return out, nil
	}
	return nil, fmt.Errorf("unexpected reply %q", line)
}

// raiseFDLimit lifts RLIMIT_NOFILE to what the test needs (the server
// inherits it), failing if the hard limit is lower.
func raiseFDLimit(t *testing.T, need int) {
	t.Helper()
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	if lim.Max < uint64(need) {
		t.Fatalf("RLIMIT_NOFILE hard limit %d; %d connections need %d (ulimit -Hn)", lim.Max, *soakConns, need)
	}
	lim.Cur = lim.Max
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
}

// soakServer is the mullet process under test.
type soakServer struct {
	cmd   *exec.Cmd
	addr  string
	pprof string
	out   *strings.Builder
	mu    sync.Mutex
	done  chan error
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// startServer builds and starts mullet with the AOF on (everysec) and
// the profiler on a second loopback port.
func startServer(t *testing.T) *soakServer {
	t.Helper()
	dir := t.TempDir()
	bin := filepath.Join(dir, "mullet")
	if out, err := exec.Command("go", "build", "-o", bin, "mullet/cmd/mullet").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	port := freePort(t)
	s := &soakServer{addr: fmt.Sprintf("127.0.0.1:%d", port), pprof: fmt.Sprintf("127.0.0.1:%d", freePort(t)),
		out: &strings.Builder{}, done: make(chan error, 1)}
	s.cmd = exec.Command(bin, "serve", "--bind", "127.0.0.1", "--port", strconv.Itoa(port), "--dir", dir,
		"--appendonly", "yes", "--consumer-enabled", "no", "--maxclients", strconv.Itoa(2**soakConns+100),
		"--loglevel", "warning")
	s.cmd.Env = append(os.Environ(), "MULLET_PPROF="+s.pprof)
	s.cmd.Stdout, s.cmd.Stderr = lockedWriter{s}, lockedWriter{s}
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { s.done <- s.cmd.Wait() }()
	t.Cleanup(func() {
		s.cmd.Process.Kill()
		if t.Failed() {
			s.mu.Lock()
			t.Logf("mullet output:\n%s", s.out.String())
			s.mu.Unlock()
		}
	})
	deadline := time.Now().Add(20 * time.Second)
	for {
		if c, err := net.Dial("tcp", s.addr); err == nil {
			c.Close()
			if _, err := http.Get("http://" + s.pprof + "/debug/pprof/"); err == nil {
				return s
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("mullet did not start")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

type lockedWriter struct{ s *soakServer }

func (w lockedWriter) Write(p []byte) (int, error) {
	w.s.mu.Lock()
	defer w.s.mu.Unlock()
	return w.s.out.Write(p)
}

// stop ends the server with SIGTERM: it must exit 0.
func (s *soakServer) stop(t *testing.T) {
	t.Helper()
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-s.done:
		if err != nil {
			t.Errorf("mullet exited with %v after SIGTERM", err)
		}
	case <-time.After(20 * time.Second):
		t.Error("mullet did not exit within 20 s of SIGTERM")
	}
}

// sample is the server's resource use at one moment.
type sample struct {
	goroutines, heap, fds, rss int64
}

func (s sample) String() string {
	return fmt.Sprintf("goroutines %d, heap %d MB, fds %d, rss %d MB", s.goroutines, s.heap>>20, s.fds, s.rss>>20)
}

func (s sample) goroutinesOf() int64 { return s.goroutines }
func (s sample) fdsOf() int64        { return s.fds }
func (s sample) heapOf() int64       { return s.heap }

func maxOf(ss []sample, f func(sample) int64) int64 {
	var m int64
	for _, s := range ss {
		m = max(m, f(s))
	}
	return m
}

var (
	goroutineTotal = regexp.MustCompile(`goroutine profile: total (\d+)`)
	heapInuse      = regexp.MustCompile(`# HeapInuse = (\d+)`)
	vmRSS          = regexp.MustCompile(`VmRSS:\s+(\d+) kB`)
)

func (s *soakServer) sample(t *testing.T) sample {
	t.Helper()
	get := func(path string, re *regexp.Regexp) int64 {
		resp, err := http.Get("http://" + s.pprof + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		m := re.FindSubmatch(b)
		if m == nil {
			t.Fatalf("%s: no %v", path, re)
		}
		n, _ := strconv.ParseInt(string(m[1]), 10, 64)
		return n
	}
	var out sample
	// The profiler's own request is one goroutine; it is the same in
	// every sample.
	out.goroutines = get("/debug/pprof/goroutine?debug=1", goroutineTotal)
	out.heap = get("/debug/pprof/heap?debug=1&gc=1", heapInuse)
	ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", s.cmd.Process.Pid))
	if err != nil {
		t.Fatal(err)
	}
	out.fds = int64(len(ents))
	if st, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.cmd.Process.Pid)); err == nil {
		if m := vmRSS.FindSubmatch(st); m != nil {
			kb, _ := strconv.ParseInt(string(m[1]), 10, 64)
			out.rss = kb << 10
		}
	}
	return out
}
