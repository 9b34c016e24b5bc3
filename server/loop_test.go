//go:build linux

package server

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"mullet/command"
)

// These tests exercise the event loop's own paths: partial writes, kills
// from other goroutines, MONITOR lines posted to the loop, timeouts, and
// pipelines longer than one round.

func TestLoopBigReplyToSlowReader(t *testing.T) {
	ts := startServer(t)
	w := ts.raw(t)
	item := strings.Repeat("x", 1000)
	args := []string{"RPUSH", "big"}
	for i := 0; i < 5000; i++ {
		args = append(args, item)
	}
	if got := w.do(args...); got != ":5000\r\n" {
		t.Fatalf("RPUSH: %q", got)
	}
	// 5 MB of reply: far more than a socket buffer, so the loop must
	// finish it on EPOLLOUT while the reader is slow.
	r := ts.raw(t)
	r.cmd("LRANGE", "big", "0", "-1")
	r.cmd("PING")
	time.Sleep(50 * time.Millisecond) // let the socket buffers fill
	got := r.reply()
	if !strings.HasPrefix(got, "*5000\r\n") || len(got) != len("*5000\r\n")+5000*(len("$1000\r\n")+1002) {
		t.Fatalf("LRANGE reply of %d bytes", len(got))
	}
	if p := r.reply(); p != "+PONG\r\n" {
		t.Fatalf("PING after a big reply: %q", p)
	}
}

func TestLoopMonitor(t *testing.T) {
	ts := startServer(t)
	m := ts.raw(t)
	if got := m.do("MONITOR"); got != "+OK\r\n" {
		t.Fatalf("MONITOR: %q", got)
	}
	c := ts.raw(t)
	c.do("RPUSH", "q", "a b")
	line := m.reply()
	if !strings.HasPrefix(line, "+") || !strings.HasSuffix(line, `"RPUSH" "q" "a b"`+"\r\n") || !strings.Contains(line, "[0 127.0.0.1:") {
		t.Fatalf("monitor line %q", line)
	}
}

func TestLoopLongPipeline(t *testing.T) {
	ts := startServer(t)
	r := ts.raw(t)
	var b bytes.Buffer
	const n = 20000
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "*3\r\n$5\r\nRPUSH\r\n$1\r\nq\r\n$%d\r\n%d\r\n", len(fmt.Sprint(i)), i)
	}
	go r.send(b.String())
	for i := 0; i < n; i++ {
		if got, want := r.reply(), fmt.Sprintf(":%d\r\n", i+1); got != want {
			t.Fatalf("reply %d: %q, want %q", i, got, want)
		}
	}
}

func TestLoopTimeoutThenServe(t *testing.T) {
	ts := startServer(t)
	r := ts.raw(t)
	// A wait that times out, then one that is served: the stale timer of
	// the first must not end the second.
	if got := r.do("BRPOP", "q", "0.05"); got != "*-1\r\n" {
		t.Fatalf("timeout: %q", got)
	}
	r.cmd("BRPOP", "q", "0.2")
	waitBlocked(t, ts, 1)
	ts.raw(t).do("LPUSH", "q", "v")
	if got := r.reply(); got != "*2\r\n$1\r\nq\r\n$1\r\nv\r\n" {
		t.Fatalf("served: %q", got)
	}
}

func TestLoopIdleTimeout(t *testing.T) {
	ts := startServer(t, []string{"timeout", "1"})
	idle := ts.raw(t)
	blocked := ts.raw(t)
	blocked.cmd("BLPOP", "q", "0")
	waitBlocked(t, ts, 1)
	idle.expectClosed() // within the 5 s read deadline: closed after ~1-2 s
	if ts.ks.Blocked() != 1 {
		t.Fatal("the idle timeout closed a blocked client")
	}
}
func TestLoopClientKill(t *testing.T) {
	ts := startServer(t)
	victim := ts.raw(t)
	id := strings.TrimSuffix(strings.TrimPrefix(victim.do("CLIENT", "ID"), ":"), "\r\n")
	victim.cmd("BLPOP", "q", "0")
	waitBlocked(t, ts, 1)
	killer := ts.raw(t)
	if got := killer.do("CLIENT", "KILL", "ID", id); got != ":1\r\n" {
		t.Fatalf("CLIENT KILL: %q", got)
	}
	victim.expectClosed()
	waitBlocked(t, ts, 0)
	// The killed client's wait left no trace: the push stays.
	killer.do("RPUSH", "q", "a")
	if got := killer.do("LLEN", "q"); got != ":1\r\n" {
		t.Fatalf("LLEN: %q", got)
	}
}

func TestHandlerPanicClosesOnlyItsClient(t *testing.T) {
	// A command that panics, for this test only (no test in this package
	// runs in parallel): handlers are code like any other, and one bad
	// command must cost only its client.
	t.Cleanup(command.Register(command.Spec{Name: "testpanic", Arity: 1, Write: true, Fn: func(c *command.Session, args [][]byte) {
		c.Tx().Push(c.DB(), []byte("before-panic"), [][]byte{[]byte("x")}, true, false)
		panic("testpanic")
	}}))
	ts := startServer(t)
	other := ts.raw(t)
	other.cmd("BLPOP", "q", "0")
	waitBlocked(t, ts, 1)
	bad := ts.raw(t)
	bad.cmd("TESTPANIC")
	bad.expectClosed()
	if !strings.Contains(ts.logs.take(), "testpanic") {
		t.Error("the panic was not logged")
	}
	// The keyspace lock was released, the blocked client is still served.
	c := ts.raw(t)
	if got := c.do("RPUSH", "q", "v"); got != ":1\r\n" {
		t.Fatalf("RPUSH after a panic: %q", got)
	}
	if got := other.reply(); got != "*2\r\n$1\r\nq\r\n$1\r\nv\r\n" {
		t.Fatalf("blocked client after a panic: %q", got)
	}
}
