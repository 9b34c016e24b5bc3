package server

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Helpers of the hardening tests: a reference redis-server, a server whose
// log the test can read, and raw exchanges that run until the server
// closes the connection.

// logBuffer collects a server's log lines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t testing.TB, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// startLoggedServer is startServer with the log kept for the test, and
// with the listener left to the caller when ln is given.
func startLoggedServer(t testing.TB, directives ...[]string) (*testServer, *logBuffer) {
	t.Helper()
	logs := &logBuffer{}
	ts := startServerWith(t, serverOpts{directives: directives, configure: func(c *Config) {
		c.Logger = slog.New(slog.NewTextHandler(logs, nil))
	}})
	return ts, logs
}

// startRefRedisIn is startRedis (compat_test.go) run under another
// command: ip netns exec, for the protected-mode test. It waits for the
// server's "Ready" line, since its port cannot be dialled from here.
func startRefRedisIn(t testing.TB, prefix []string, args ...string) string {
	t.Helper()
	bin := redisBin(t)
	port := freePort(t)
	dir := t.TempDir()
	argv := append([]string{bin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "",
		"--appendonly", "no", "--dir", dir, "--daemonize", "no"}, args...)
	argv = append(append([]string(nil), prefix...), argv...)
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = dir
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	ready := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(out)
		var lines []string
		for sc.Scan() {
			lines = append(lines, sc.Text())
			if strings.Contains(sc.Text(), "Ready to accept connections") {
				ready <- nil
				io.Copy(io.Discard, out)
				return
			}
		}
		ready <- fmt.Errorf("redis-server exited before it was ready:\n%s", strings.Join(lines, "\n"))
	}()
	select {
	case err := <-ready:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("redis-server did not start")
	}
	host := "127.0.0.1"
	for i, a := range args {
		if a == "--bind" && i+1 < len(args) {
			host = strings.Fields(args[i+1])[0]
		}
	}
	return net.JoinHostPort(host, strconv.Itoa(port))
}

// exchange sends in to addr on a fresh connection and returns everything
// the server sent until it closed the connection or went quiet for quiet;
// closed reports which.
func exchange(t testing.TB, dial func() (net.Conn, error), in string, quiet time.Duration) (out string, closed bool) {
	t.Helper()
	c, err := dial()
	if err != nil {
		t.Error(err) // Error, not Fatal: exchange may run on another goroutine
		return "", true
	}
	defer c.Close()
	go c.Write([]byte(in))
	var buf bytes.Buffer
	b := make([]byte, 4096)
	for {
		c.SetReadDeadline(time.Now().Add(quiet))
		n, err := c.Read(b)
		buf.Write(b[:n])
		if err != nil {
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				return buf.String(), false
			}
			return buf.String(), true
		}
	}
}

func tcpDialer(addr string) func() (net.Conn, error) {
	return func() (net.Conn, error) { return net.Dial("tcp", addr) }
}

// heapInUse returns the live heap after a full collection.
func heapInUse() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// totalAlloc is the bytes allocated so far by the whole process.
func totalAlloc() uint64 {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.TotalAlloc
}
