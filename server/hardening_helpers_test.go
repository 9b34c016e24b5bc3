package server

import (
	"bytes"
	"log/slog"
	"net"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"mullet/internal/e2e"
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

// startRefRedisIn is startRedis run under another command: ip netns
// exec, for the protected-mode test. Its port cannot be dialled from here,
// so readiness is read from its log. It returns the address it listens on
// (the first of its --bind addresses).
func startRefRedisIn(t testing.TB, prefix []string, args ...string) string {
	t.Helper()
	s := e2e.StartRedisWith(t, e2e.RedisOptions{Prefix: prefix, Args: append([]string{"--appendonly", "no"}, args...)})
	host := "127.0.0.1"
	for i, a := range args {
		if a == "--bind" && i+1 < len(args) {
			host = strings.Fields(args[i+1])[0]
		}
	}
	return net.JoinHostPort(host, strconv.Itoa(s.Port))
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
