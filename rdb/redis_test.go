package rdb

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// redisServer is a throwaway redis-server on 127.0.0.1 with its own --dir,
// started for one test and killed by PID when the test ends.
type redisServer struct {
	dir  string
	conn net.Conn
	rd   *bufio.Reader
}

// startRedis starts redis-server with persistence off and the DEBUG command
// enabled, plus any extra "--name value" arguments. Tests fail when
// redis-server is not installed: they fail.
func startRedis(t testing.TB, extra ...string) *redisServer {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Fatal("redis-server not installed (apt-get install redis-server); the interop tests need it")
	}
	dir := t.TempDir()
	// Another process may grab the port between our probe and redis's bind;
	// try a few ports before giving up.
	for attempt := 0; attempt < 3; attempt++ {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := ln.Addr().(*net.TCPAddr).Port
		ln.Close()
		args := append([]string{
			"--bind", "127.0.0.1", "--port", strconv.Itoa(port), "--dir", dir,
			"--save", "", "--appendonly", "no", "--daemonize", "no",
			"--enable-debug-command", "yes", "--logfile", filepath.Join(dir, "redis.log"),
		}, extra...)
		cmd := exec.Command(bin, args...)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		exited := make(chan struct{})
		go func() { cmd.Wait(); close(exited) }()
		stop := func() { cmd.Process.Kill(); <-exited }
		conn, err := dialWhileRunning(fmt.Sprintf("127.0.0.1:%d", port), exited)
		if err != nil {
			stop()
			continue
		}
		t.Cleanup(func() { conn.Close(); stop() })
		return &redisServer{dir: dir, conn: conn, rd: bufio.NewReaderSize(conn, 1<<16)}
	}
	log, _ := os.ReadFile(filepath.Join(dir, "redis.log"))
	t.Fatalf("redis-server did not start:\n%s", log)
	return nil
}

// dialWhileRunning polls until the server accepts connections, giving up if
// the process exits or five seconds pass. Polling is the only readiness
// signal an external process offers.
func dialWhileRunning(addr string, exited <-chan struct{}) (net.Conn, error) {
	deadline := time.Now().Add(5 * time.Second)
	for {
		conn, err := net.Dial("tcp", addr)
		if err == nil {
			return conn, nil
		}
		select {
		case <-exited:
			return nil, errors.New("redis-server exited")
		case <-time.After(10 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return nil, err
		}
	}
}

// send writes one command without waiting for the reply (for pipelining).
func (s *redisServer) send(t testing.TB, args ...any) {
	t.Helper()
	buf := []byte("*" + strconv.Itoa(len(args)) + "\r\n")
	for _, a := range args {
		var b []byte
		switch a := a.(type) {
		case string:
			b = []byte(a)
		case []byte:
			b = a
		case int:
			b = strconv.AppendInt(nil, int64(a), 10)
		default:
			t.Fatalf("unsupported argument %T", a)
		}
		buf = append(buf, '$')
		buf = strconv.AppendInt(buf, int64(len(b)), 10)
		buf = append(buf, "\r\n"...)
		buf = append(buf, b...)
		buf = append(buf, "\r\n"...)
	}
	if _, err := s.conn.Write(buf); err != nil {
		t.Fatal(err)
	}
}

// reply reads one RESP2 reply: string, []byte (bulk), int64, []any, nil, or
// respError.
func (s *redisServer) reply(t testing.TB) any {
	t.Helper()
	line, err := s.rd.ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	line = line[:len(line)-2]
	switch line[0] {
	case '+':
		return line[1:]
	case '-':
		return respError(line[1:])
	case ':':
		n, _ := strconv.ParseInt(line[1:], 10, 64)
		return n
	case '$':
		n, _ := strconv.Atoi(line[1:])
		if n < 0 {
			return nil
		}
		b := make([]byte, n+2)
		if _, err := io.ReadFull(s.rd, b); err != nil {
			t.Fatal(err)
		}
		return b[:n]
	case '*':
		n, _ := strconv.Atoi(line[1:])
		if n < 0 {
			return nil
		}
		out := make([]any, n)
		for i := range out {
			out[i] = s.reply(t)
		}
		return out
	}
	t.Fatalf("bad reply %q", line)
	return nil
}

type respError string

func (e respError) Error() string { return string(e) }

// do sends a command and returns its reply, failing the test on an error
// reply.
func (s *redisServer) do(t testing.TB, args ...any) any {
	t.Helper()
	s.send(t, args...)
	r := s.reply(t)
	if e, ok := r.(respError); ok {
		t.Fatalf("%v: %v", args[0], e)
	}
	return r
}

// try is do without failing on an error reply.
func (s *redisServer) try(t testing.TB, args ...any) any {
	t.Helper()
	s.send(t, args...)
	return s.reply(t)
}

// rpush appends items to key, pipelining in batches to stay fast.
func (s *redisServer) rpush(t testing.TB, key string, items [][]byte) {
	t.Helper()
	const batch = 1000
	sent := 0
	for i := 0; i < len(items); i += batch {
		args := []any{"RPUSH", key}
		for _, it := range items[i:min(i+batch, len(items))] {
			args = append(args, it)
		}
		s.send(t, args...)
		sent++
	}
	for range sent {
		if e, ok := s.reply(t).(respError); ok {
			t.Fatal(e)
		}
	}
}

// lrange returns the whole list at key.
func (s *redisServer) lrange(t testing.TB, key string) [][]byte {
	t.Helper()
	r, _ := s.do(t, "LRANGE", key, "0", "-1").([]any)
	out := make([][]byte, len(r))
	for i, x := range r {
		out[i] = x.([]byte)
	}
	return out
}
