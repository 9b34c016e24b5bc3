package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// These tests run the real binary as a subprocess (e2e_test.go builds it
// once) and stop it with signals, the way an operator or a process
// supervisor does.

// startForShutdown runs mullet with the AOF on, data in dir, and no
// consumer (the queues stay as the clients left them).
func startForShutdown(t *testing.T, dir string) *proc {
	t.Helper()
	return startMullet(t, 0, "--dir", dir, "--appendonly", "yes", "--consumer-enabled", "no")
}

// signalAndWait sends sig and returns the exit code, failing if the
// process takes longer than limit.
func signalAndWait(t *testing.T, p *proc, sig os.Signal, limit time.Duration) int {
	t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.done:
	case <-time.After(limit):
		t.Fatalf("mullet still running %v after %v:\n%s", limit, sig, p.logText())
	}
	return p.cmd.ProcessState.ExitCode()
}

func TestGracefulShutdown(t *testing.T) {
	ctx := context.Background()

	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			dir := t.TempDir()
			p := startForShutdown(t, dir)
			rc := redis.NewClient(&redis.Options{Addr: p.addr, MaxRetries: -1})
			defer rc.Close()

			// Acknowledged writes, the state to find after the restart.
			var snap []string
			for i := 0; i < 1000; i++ {
				snap = append(snap, fmt.Sprintf("item-%d", i))
			}
			if err := rc.RPush(ctx, "snap", toAny(snap)...).Err(); err != nil {
				t.Fatal(err)
			}

			// Clients blocked in BLPOP.
			var blocked []net.Conn
			for i := 0; i < 5; i++ {
				c, err := net.Dial("tcp", p.addr)
				if err != nil {
					t.Fatal(err)
				}
				defer c.Close()
				c.Write([]byte("*3\r\n$5\r\nBLPOP\r\n$7\r\nwaiting\r\n$1\r\n0\r\n"))
				blocked = append(blocked, c)
			}

			// A client pipelining RPUSHes as fast as it can.
			pipe, err := net.Dial("tcp", p.addr)
			if err != nil {
				t.Fatal(err)
			}
			defer pipe.Close()
			var sent, acked atomic.Int64
			writerDone := make(chan struct{})
			go func() {
				defer close(writerDone)
				var b []byte
				for i := 0; ; i += 100 {
					b = b[:0]
					for j := i; j < i+100; j++ {
						v := strconv.Itoa(j)
						b = fmt.Appendf(b, "*3\r\n$5\r\nRPUSH\r\n$4\r\npipe\r\n$%d\r\n%s\r\n", len(v), v)
					}
					if _, err := pipe.Write(b); err != nil {
						return
					}
					sent.Store(int64(i + 100))
				}
			}()
			readerDone := make(chan struct{})
			go func() {
				defer close(readerDone)
				br := bufio.NewReader(pipe)
				for {
					line, err := br.ReadString('\n')
					if err != nil {
						return
					}
					if !strings.HasPrefix(line, ":") {
						t.Errorf("pipeline reply %q", line)
						return
					}
					acked.Add(1)
				}
			}()
			deadline := time.Now().Add(10 * time.Second)
			for acked.Load() < 20000 && time.Now().Before(deadline) {
				time.Sleep(10 * time.Millisecond)
			}
			if acked.Load() == 0 {
				t.Fatal("the pipeline got no replies")
			}

			start := time.Now()
			if code := signalAndWait(t, p, sig, 15*time.Second); code != 0 {
				t.Fatalf("exit code %d after %v:\n%s", code, sig, p.logText())
			}
			t.Logf("%v: exited in %v; pipeline acked %d of %d sent", sig, time.Since(start), acked.Load(), sent.Load())
			<-readerDone
			<-writerDone

			// Blocked clients were disconnected, not answered.
			for i, c := range blocked {
				c.SetReadDeadline(time.Now().Add(5 * time.Second))
				if b, err := io.ReadAll(c); len(b) != 0 || err != nil {
					t.Errorf("blocked client %d: got %q, %v; want the connection closed", i, b, err)
				}
			}

			// The AOF has everything acknowledged, and the pipeline's
			// items in order.
			p2 := startForShutdown(t, dir)
			rc2 := redis.NewClient(&redis.Options{Addr: p2.addr, MaxRetries: -1})
			defer rc2.Close()
			if got := rc2.LRange(ctx, "snap", 0, -1).Val(); !slices.Equal(got, snap) {
				t.Errorf("snap after restart: %d items, want %d", len(got), len(snap))
			}
			items := rc2.LRange(ctx, "pipe", 0, -1).Val()
			if int64(len(items)) < acked.Load() || int64(len(items)) > sent.Load() {
				t.Errorf("pipe has %d items; %d were acknowledged, %d sent", len(items), acked.Load(), sent.Load())
			}
			for i, it := range items {
				if it != strconv.Itoa(i) {
					t.Fatalf("pipe[%d] = %q", i, it)
				}
			}
			if n := rc2.Exists(ctx, "waiting").Val(); n != 0 {
				t.Errorf("the blocked clients left a key behind")
			}
			if code := signalAndWait(t, p2, syscall.SIGTERM, 15*time.Second); code != 0 {
				t.Errorf("second instance: exit code %d", code)
			}
		})
	}

	t.Run("second signal forces the exit", func(t *testing.T) {
		dir := t.TempDir()
		p := startForShutdown(t, dir)
		rc := redis.NewClient(&redis.Options{Addr: p.addr, MaxRetries: -1})
		defer rc.Close()
		big := strings.Repeat("x", 1000)
		for i := 0; i < 50; i++ {
			args := make([]any, 1000)
			for j := range args {
				args[j] = big
			}
			if err := rc.RPush(ctx, "big", args...).Err(); err != nil {
				t.Fatal(err)
			}
		}
		// A client that asks for 50 MB and does not read keeps shutdown
		// waiting (for a while: the drain deadline would end it).
		stalled, err := net.Dial("tcp", p.addr)
		if err != nil {
			t.Fatal(err)
		}
		defer stalled.Close()
		stalled.Write([]byte("*4\r\n$6\r\nLRANGE\r\n$3\r\nbig\r\n$1\r\n0\r\n$2\r\n-1\r\n"))
		time.Sleep(300 * time.Millisecond)
		p.cmd.Process.Signal(syscall.SIGTERM)
		waitForOutput(t, p, "received signal, shutting down")
		start := time.Now()
		if code := signalAndWait(t, p, syscall.SIGTERM, 5*time.Second); code != 1 {
			t.Fatalf("exit code %d after a second signal, want 1", code)
		}
		if d := time.Since(start); d > time.Second {
			t.Errorf("second signal took %v to end the process", d)
		}
		// What was acknowledged is still loadable.
		p2 := startForShutdown(t, dir)
		rc2 := redis.NewClient(&redis.Options{Addr: p2.addr, MaxRetries: -1})
		defer rc2.Close()
		if n := rc2.LLen(ctx, "big").Val(); n != 50000 {
			t.Errorf("big has %d items after a forced exit, want 50000", n)
		}
	})
}

func waitForOutput(t *testing.T, p *proc, s string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(p.logText(), s) {
		if time.Now().After(deadline) {
			t.Fatalf("no %q in the output:\n%s", s, p.logText())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func toAny(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}
